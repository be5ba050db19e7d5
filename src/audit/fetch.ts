// Reads what the audit needs from the target after a run: the inventory of each SKU and, with an
// admin token, the order ledger. A target without those routes (a foreign checkout API) gives null
// plus the reason, so the audit marks those checks skipped instead of passing them.
// Bounded like the run itself: every GET shares one deadline (AUDIT_BUDGET_MS from the start of the
// audit) and has a size cap, so a target that hangs, trickles or answers gigabytes cannot hold the run.
import { Agent, request } from 'undici';
import type { AckedOrder, InventoryState } from '../contract/result.ts';
import { messageOf, codeOf } from '../errors.ts';

export interface AuditInputs {
  inventory: InventoryState[] | null;
  ledgerOrders: AckedOrder[] | null;
  unavailable: { inventory?: string; ledger?: string };
}

export interface FetchAuditOptions {
  /** Without one the ledger is not read, and the checks that need it are skipped. */
  adminToken?: string;
  /** Time for every audit GET together, ms. */
  budgetMs?: number;
  /** Largest ledger answer read, bytes (an inventory answer is capped at INVENTORY_MAX_BYTES). */
  ledgerMaxBytes?: number;
}

/** Every audit GET together ends within this: a run ends within load.maxDuration (gracefulStop is
 * inside it) + this + start-up and writing. */
export const AUDIT_BUDGET_MS = 5_000;
export const INVENTORY_MAX_BYTES = 64 * 1024;
/** Default ledger cap: room for a million orders' NDJSON lines (each about 120 bytes). */
export const LEDGER_MAX_BYTES = 256 * 1024 * 1024;
/** Inventory GETs in flight at once (a sale can have thousands of SKUs). */
const INVENTORY_CONCURRENCY = 8;

function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/** An answer past its size cap; caught below and turned into the audit's message, so it stays private. */
class TooLargeError extends Error {}

/** A GET with the shared deadline and a size cap; throws with a message the audit can show. */
async function get(dispatcher: Agent, url: string, signal: AbortSignal, maxBytes: number, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await request(url, { method: 'GET', headers, signal, dispatcher });
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.body.destroy();
    throw new TooLargeError(`answered ${declared.toLocaleString('en-US')} bytes, more than the ${maxBytes.toLocaleString('en-US')} the audit reads`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length; // the stream is not in object mode: chunks are Buffers
    if (size > maxBytes) {
      res.body.destroy();
      throw new TooLargeError(`answered more than the ${maxBytes.toLocaleString('en-US')} bytes the audit reads`);
    }
    chunks.push(chunk as Buffer); // as above: a Buffer
  }
  return { status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') };
}

function failure(e: unknown, signal: AbortSignal, budgetMs: number): string {
  if (signal.aborted) return `no complete answer within the audit's ${budgetMs / 1000} s`;
  const code = codeOf(e);
  return `${typeof code === 'string' ? `${code}: ` : ''}${messageOf(e)}`;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Why one SKU's inventory could not be read; `status` is the HTTP status when the target answered. */
export interface InventoryProblem {
  problem: string;
  status: number | null;
}

async function fetchOneInventory(dispatcher: Agent, targetUrl: string, sku: string, signal: AbortSignal, budgetMs: number): Promise<InventoryState | InventoryProblem> {
  const path = `/api/v1/inventory/${encodeURIComponent(sku)}`;
  let res: { status: number; text: string };
  try {
    res = await get(dispatcher, join(targetUrl, path), signal, INVENTORY_MAX_BYTES);
  } catch (e) {
    return { problem: `GET ${path} failed: ${failure(e, signal, budgetMs)}`, status: null };
  }
  if (res.status !== 200) return { problem: `GET ${path} answered ${res.status}: the target has no inventory route the audit can read`, status: res.status };
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    return { problem: `GET ${path} did not answer JSON`, status: res.status };
  }
  const { initial, available, reserved, sold } = (body ?? {}) as Record<string, unknown>; // read field by field and checked below; a non-object reads as nothing
  if (!isCount(initial) || !isCount(available) || !isCount(reserved) || !isCount(sold)) {
    return { problem: `GET ${path} did not answer {initial, available, reserved, sold} as whole numbers`, status: res.status };
  }
  return { sku, initial, available, reserved, sold };
}

/** Each SKU's inventory, or why it could not be read; stops asking after the first problem when `stopAtProblem`. */
async function readInventories(
  dispatcher: Agent,
  targetUrl: string,
  skus: readonly string[],
  signal: AbortSignal,
  budgetMs: number,
  stopAtProblem: boolean,
): Promise<(InventoryState | InventoryProblem | undefined)[]> {
  const out: (InventoryState | InventoryProblem | undefined)[] = new Array(skus.length);
  let next = 0;
  let stop = false;
  const worker = async () => {
    while (!stop && next < skus.length) {
      const i = next++;
      const r = await fetchOneInventory(dispatcher, targetUrl, skus[i], signal, budgetMs);
      out[i] = r;
      if ('problem' in r && stopAtProblem) stop = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(INVENTORY_CONCURRENCY, skus.length) }, worker));
  return out;
}

async function fetchInventory(dispatcher: Agent, targetUrl: string, skus: readonly string[], signal: AbortSignal, budgetMs: number): Promise<InventoryState[] | string> {
  const read = await readInventories(dispatcher, targetUrl, skus, signal, budgetMs, true);
  const states: InventoryState[] = [];
  for (const r of read) {
    if (r === undefined) continue;
    if ('problem' in r) return r.problem;
    states.push(r);
  }
  return states;
}

/** Every SKU's inventory read once with its own deadline and connections (the run's pre-flight check). */
export async function readTargetInventories(targetUrl: string, skus: readonly string[], budgetMs: number): Promise<(InventoryState | InventoryProblem)[]> {
  const signal = AbortSignal.timeout(budgetMs);
  const dispatcher = new Agent({ connectTimeout: budgetMs, headersTimeout: budgetMs, bodyTimeout: budgetMs });
  try {
    const read = await readInventories(dispatcher, targetUrl, skus, signal, budgetMs, false);
    return read.map((r) => r ?? { problem: 'not read', status: null });
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
}

/** Parses GET /admin/orders' NDJSON; a malformed line is an error, never skipped. */
export function parseLedgerNdjson(text: string): AckedOrder[] {
  const orders: AckedOrder[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>; // JSON of an object or not; each field is checked below
    } catch {
      throw new TypeError(`line ${i + 1} is not JSON`);
    }
    const { orderId, sku, userId, qty } = o ?? {};
    if (typeof orderId !== 'string' || typeof sku !== 'string' || typeof userId !== 'string' || !isCount(qty)) {
      throw new TypeError(`line ${i + 1} is not {orderId, sku, userId, qty}`);
    }
    orders.push({ orderId, sku, userId, qty });
  }
  return orders;
}

async function fetchLedger(dispatcher: Agent, targetUrl: string, adminToken: string, signal: AbortSignal, budgetMs: number, maxBytes: number): Promise<AckedOrder[] | string> {
  let res: { status: number; text: string };
  try {
    res = await get(dispatcher, join(targetUrl, '/admin/orders'), signal, maxBytes, { authorization: `Bearer ${adminToken}` });
  } catch (e) {
    return `GET /admin/orders failed: ${failure(e, signal, budgetMs)}`;
  }
  if (res.status !== 200) return `GET /admin/orders answered ${res.status}`;
  try {
    return parseLedgerNdjson(res.text);
  } catch (e) {
    return `GET /admin/orders: ${messageOf(e)}`;
  }
}

export async function fetchAuditInputs(targetUrl: string, skus: readonly string[], options: FetchAuditOptions = {}): Promise<AuditInputs> {
  const budgetMs = options.budgetMs ?? AUDIT_BUDGET_MS;
  const signal = AbortSignal.timeout(budgetMs);
  // Its own connections, closed at the end whatever happened: nothing of the audit outlives it.
  const dispatcher = new Agent({ connectTimeout: budgetMs, headersTimeout: budgetMs, bodyTimeout: budgetMs });
  const unavailable: AuditInputs['unavailable'] = {};
  try {
    const [inv, ledger] = await Promise.all([
      fetchInventory(dispatcher, targetUrl, skus, signal, budgetMs),
      options.adminToken === undefined
        ? Promise.resolve<string>('no admin token (--admin-token-file or FLASHSALE_ADMIN_TOKEN), so the order ledger (GET /admin/orders) was not read')
        : fetchLedger(dispatcher, targetUrl, options.adminToken, signal, budgetMs, options.ledgerMaxBytes ?? LEDGER_MAX_BYTES),
    ]);
    if (typeof inv === 'string') unavailable.inventory = inv;
    if (typeof ledger === 'string') unavailable.ledger = ledger;
    return { inventory: typeof inv === 'string' ? null : inv, ledgerOrders: typeof ledger === 'string' ? null : ledger, unavailable };
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
}
