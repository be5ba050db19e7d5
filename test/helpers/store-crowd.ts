// A crowd of buyers for the service on the shared stores: each buyer checks out one unit through one of
// several serve processes (round robin), retrying 503s, and every answer is kept as a receipt — so a
// test can check that each acknowledged order is in the ledger and nothing was sold twice. Bounded in
// attempts and time. (The TCP gate tests cut a store off with is the run's own: src/faults/tcp-gate.ts.)

export interface Receipt { userId: string; url: string; status: number; orderId: string | null; error: string | null; /** When the request was sent (ms, Date.now()). */ sentAt?: number }

export interface CrowdOptions {
  /** Where to send checkouts; `urls()` is read per attempt, so a test may drop a killed process. */
  urls: () => string[];
  users: string[];
  sku: string;
  concurrency: number;
  deadlineMs: number;
  /** Attempts per buyer while the answer is 503 or the connection fails. */
  retries?: number;
  /** Called after every answer (a test's trigger: kill a process after N acks). */
  onReceipt?: (r: Receipt, all: Receipt[]) => void;
  /** Sends an Idempotency-Key per buyer (the same on every retry). */
  keyed?: boolean;
}

/**
 * A crowd over two serve processes in which `victim` is killed with SIGKILL once it has acknowledged
 * `afterOrders` orders; the rest of the crowd goes to `survivor` alone. `killed` says whether that moment
 * came (a test asserts it: a kill that never happened proves nothing).
 */
export async function runCrowdKillingOne(
  o: Omit<CrowdOptions, 'urls' | 'onReceipt'> & { victim: { url: string; child: { kill(signal: NodeJS.Signals): boolean } }; survivor: { url: string }; afterOrders: number },
): Promise<{ receipts: Receipt[]; killed: boolean }> {
  let killed = false;
  const receipts = await runCrowd({
    ...o,
    urls: () => (killed ? [o.survivor.url] : [o.victim.url, o.survivor.url]),
    onReceipt: (_r, all) => {
      if (!killed && all.filter((x) => x.status === 201 && x.url === o.victim.url).length >= o.afterOrders) {
        o.victim.child.kill('SIGKILL');
        killed = true;
      }
    },
  });
  return { receipts, killed };
}

export async function runCrowd(o: CrowdOptions): Promise<Receipt[]> {
  const receipts: Receipt[] = [];
  const until = Date.now() + o.deadlineMs;
  let next = 0;
  let turn = 0;
  const buyer = async (): Promise<void> => {
    while (next < o.users.length && Date.now() < until) {
      const userId = o.users[next++];
      for (let attempt = 0; attempt <= (o.retries ?? 20) && Date.now() < until; attempt++) {
        const urls = o.urls();
        const url = urls[turn++ % urls.length];
        const r = await checkout(url, o.sku, userId, o.keyed ? `k-${userId}` : null);
        receipts.push(r);
        o.onReceipt?.(r, receipts);
        if (r.status !== 503 && r.status !== 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, buyer));
  return receipts;
}

export async function checkout(url: string, sku: string, userId: string, key: string | null = null): Promise<Receipt> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers['idempotency-key'] = key;
  const sentAt = Date.now();
  try {
    const res = await fetch(`${url}/api/v1/checkout`, { method: 'POST', headers, body: JSON.stringify({ sku, userId, qty: 1 }), signal: AbortSignal.timeout(20_000) });
    const body = (await res.json()) as { orderId?: string; error?: string };
    return { userId, url, status: res.status, orderId: body.orderId ?? null, error: body.error ?? null, sentAt };
  } catch (e) {
    return { userId, url, status: 0, orderId: null, error: (e as Error).message, sentAt };
  }
}

/** Order ids of 201s. */
export function acknowledged(receipts: readonly Receipt[]): string[] {
  return receipts.filter((r) => r.status === 201).map((r) => r.orderId!); // a 201 carries its order id
}

