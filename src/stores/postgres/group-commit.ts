// Group commit for the PostgreSQL ledger, in the process that takes the orders: appends that arrive while
// a commit is in flight wait and go together in the next one — one transaction, one WAL flush, for all of
// them. A promise settles only after COMMIT returned (with synchronous_commit on: the WAL is on disk), so
// the service sends its 201 after that, never before.
import { performance } from 'node:perf_hooks';
import { ORDER_STRIDE, type PgLedger } from './ledger.ts';

export interface PendingOrder {
  orderId: string;
  sku: string;
  userId: string;
  qty: number;
  createdAt: number;
  key: string | null;
  fingerprint: number | null;
  /** Stock epoch the units were taken under; null when stock is not fenced. */
  epoch: number | null;
}

interface Waiting { order: PendingOrder; resolve(failure: string | null): void; reject(e: Error): void }

export interface GroupCommitStats { batches: number; orders: number; largestBatch: number; commitSeconds: number }

export class PgGroupCommitter {
  readonly #ledger: PgLedger;
  readonly #saleId: number;
  readonly #maxBatch: number;
  #queue: Waiting[] = [];
  #running: Promise<void> | null = null;
  readonly stats: GroupCommitStats = { batches: 0, orders: 0, largestBatch: 0, commitSeconds: 0 };

  readonly #onBatch: (orders: number, seconds: number) => void;

  /** maxBatch bounds one statement's arrays (default 4096 orders); onBatch hears of every committed batch (/metrics). */
  constructor(ledger: PgLedger, saleId: number, options: { maxBatch?: number; onBatch?: (orders: number, seconds: number) => void } = {}) {
    this.#ledger = ledger;
    this.#saleId = saleId;
    this.#maxBatch = options.maxBatch ?? 4096;
    this.#onBatch = options.onBatch ?? (() => {});
  }

  /** Resolves null once the order is durable, or with why it alone was refused (duplicate id or key, stale epoch, bad field); rejects when its batch did not commit. */
  append(order: PendingOrder): Promise<string | null> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ order, resolve, reject });
      this.#running ??= this.#run();
    });
  }

  /** Resolves when everything appended so far has settled. */
  async drain(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  async #run(): Promise<void> {
    // Let the rest of this turn's appends join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      const flat: Array<string | number | null> = new Array(batch.length * ORDER_STRIDE);
      const epochs: Array<number | null> = new Array(batch.length);
      let fenced = false;
      batch.forEach(({ order: o }, i) => {
        const at = i * ORDER_STRIDE;
        flat[at] = o.orderId;
        flat[at + 1] = o.sku;
        flat[at + 2] = o.userId;
        flat[at + 3] = o.qty;
        flat[at + 4] = o.createdAt;
        flat[at + 5] = o.key;
        flat[at + 6] = o.fingerprint;
        epochs[i] = o.epoch;
        if (o.epoch !== null) fenced = true;
      });
      const t0 = performance.now();
      try {
        const failed = await this.#ledger.appendBatch(this.#saleId, flat, fenced ? (epochs as number[]) : null); // fenced means every order came with its epoch
        const seconds = (performance.now() - t0) / 1000;
        this.stats.commitSeconds += seconds;
        this.#onBatch(batch.length, seconds);
        this.stats.batches++;
        this.stats.orders += batch.length;
        this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
        const why = new Map(failed);
        batch.forEach((w, i) => w.resolve(why.get(i) ?? null));
      } catch (e) {
        for (const w of batch) w.reject(e as Error); // pg rejects with Errors
      }
    }
    this.#running = null;
  }
}
