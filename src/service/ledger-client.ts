// The HTTP thread's side of its ledger MessagePort. Orders confirmed in the same event-loop turn go
// out as one message; each order's callback runs after the ledger acknowledged the commit holding it.
// Each event-loop turn's orders go out at once, even while earlier messages wait for their commit:
// the ledger thread queues what arrives during a commit and puts all of it, from every HTTP thread,
// into the next one (group commit). With one message unacknowledged per thread (as before issue #18
// part 3) orders waited here instead, each commit held one thread's batch and the commits alternated
// between threads; posting at once made commits about 1.4× bigger (docs/service.md). A post while the
// ledger thread is busy committing does not wake it; the bound is only a safety net (the orders in
// flight are bounded by maxInFlight anyway).
import type { MessagePort } from 'node:worker_threads';
import type { AckMsg, FromLedger, PageReply } from '../ledger/protocol.ts';

/** Called once the order is durable (error null) or could not be written (error says why). */
export type Committed = (error: string | null) => void;

const MAX_OUTSTANDING = 64;

export class LedgerClient {
  private readonly port: MessagePort;
  private flat: Array<string | number | null> = [];
  private callbacks: Committed[] = [];
  private saleId = 0;
  private scheduled = false;
  private nextBatch = 1;
  private readonly inFlight = new Map<number, Committed[]>();
  private nextPage = 1;
  private readonly pages = new Map<number, (r: PageReply) => void>();
  private drained: (() => void) | null = null;
  /** Why the ledger can no longer be reached, once it cannot: every later order fails at once. */
  private gone: string | null = null;

  constructor(port: MessagePort) {
    this.port = port;
    port.on('message', (m: FromLedger) => (m.t === 'k' ? this.onAck(m) : this.onPage(m)));
    // The ledger thread died: nothing waiting may hang, and nothing is confirmed.
    port.on('close', () => {
      this.gone = 'the ledger thread is gone';
      // Orders waiting for the next post fail too: a closed port drops messages without a word.
      const waiting = this.callbacks;
      this.flat = [];
      this.callbacks = [];
      for (const cb of waiting) cb(this.gone);
      this.onAck({ t: 'k', b: [...this.inFlight.keys()], f: null, e: 'the ledger thread is gone' });
      for (const [r] of this.pages) this.onPage({ t: 'P', r, ndjson: '', lastRowid: 0, count: 0, e: 'the ledger thread is gone' });
      if (this.drained && this.pending === 0) this.drained();
    });
  }

  /** `fingerprint`: the fingerprint of the request the idempotency key came with (ignored without a key). */
  append(saleId: number, orderId: string, sku: string, userId: string, qty: number, createdAt: number, key: string | null, fingerprint: number, done: Committed): void {
    if (this.gone !== null) return done(this.gone);
    // Orders of two sales never share a message (a reset between them is rare): send what we have.
    if (this.callbacks.length > 0 && saleId !== this.saleId) this.post();
    this.saleId = saleId;
    this.flat.push(orderId, sku, userId, qty, createdAt, key, key === null ? null : fingerprint);
    this.callbacks.push(done);
    if (!this.scheduled && this.inFlight.size < MAX_OUTSTANDING) {
      this.scheduled = true;
      setImmediate(this.send);
    }
  }

  private readonly send = (): void => {
    this.scheduled = false;
    if (this.inFlight.size < MAX_OUTSTANDING) this.post();
  };

  private post(): void {
    if (this.callbacks.length === 0) return;
    const b = this.nextBatch++;
    this.inFlight.set(b, this.callbacks);
    this.port.postMessage({ t: 'a', b, s: this.saleId, o: this.flat });
    this.flat = [];
    this.callbacks = [];
  }

  private onAck(m: AckMsg): void {
    const acked: Array<[number, Committed[]]> = [];
    for (const b of m.b) {
      const callbacks = this.inFlight.get(b);
      if (!callbacks) continue;
      this.inFlight.delete(b);
      acked.push([b, callbacks]);
    }
    // Orders that waited go to the ledger before these batches' answers are written, so its next
    // commit overlaps that work.
    if (this.callbacks.length > 0) this.send();
    for (const [b, callbacks] of acked) {
      if (m.e !== undefined) for (const cb of callbacks) cb(m.e);
      else if (m.f === null) for (const cb of callbacks) cb(null);
      else {
        const failed = new Map(m.f.filter(([fb]) => fb === b).map(([, i, why]) => [i, why]));
        for (let i = 0; i < callbacks.length; i++) callbacks[i](failed.get(i) ?? null);
      }
    }
    if (this.drained && this.pending === 0) this.drained();
  }

  get pending(): number {
    let n = this.callbacks.length;
    for (const cbs of this.inFlight.values()) n += cbs.length;
    return n;
  }

  /** Sends what is buffered and resolves when every order handed over so far is acknowledged. */
  flush(): Promise<void> {
    this.send();
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = () => {
        this.drained = null;
        resolve();
      };
    });
  }

  /** One page of committed orders of a sale, as NDJSON. */
  page(saleId: number, after: number, limit: number): Promise<PageReply> {
    const r = this.nextPage++;
    if (this.gone !== null) return Promise.resolve({ t: 'P', r, ndjson: '', lastRowid: 0, count: 0, e: this.gone });
    return new Promise((resolve) => {
      this.pages.set(r, resolve);
      this.port.postMessage({ t: 'p', r, s: saleId, after, limit });
    });
  }

  private onPage(m: PageReply): void {
    const resolve = this.pages.get(m.r);
    if (!resolve) return;
    this.pages.delete(m.r);
    resolve(m);
  }

  close(): void {
    this.port.close();
  }
}

