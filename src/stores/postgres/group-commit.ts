// Group commit for the PostgreSQL ledger, in the process that takes the orders: appends that arrive while
// a commit is in flight wait and go together in the next one — one transaction, one WAL flush, for all of
// them. A promise settles only after COMMIT returned (with synchronous_commit on: the WAL is on disk), so
// the service sends its 201 after that, never before.
import { performance } from 'node:perf_hooks';
import { Batcher } from './batcher.ts';
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

export interface GroupCommitStats { batches: number; orders: number; largestBatch: number; commitSeconds: number }

export class PgGroupCommitter {
  readonly #ledger: PgLedger;
  readonly #saleId: number;
  readonly #batcher: Batcher<PendingOrder, string | null>;
  readonly stats: GroupCommitStats = { batches: 0, orders: 0, largestBatch: 0, commitSeconds: 0 };

  readonly #onBatch: (orders: number, seconds: number) => void;

  /** maxBatch bounds one statement's arrays (default 4096 orders); onBatch hears of every committed batch (/metrics). */
  constructor(ledger: PgLedger, saleId: number, options: { maxBatch?: number; onBatch?: (orders: number, seconds: number) => void } = {}) {
    this.#ledger = ledger;
    this.#saleId = saleId;
    this.#onBatch = options.onBatch ?? (() => {});
    this.#batcher = new Batcher((orders) => this.#commit(orders), options.maxBatch ?? 4096);
  }

  /** Resolves null once the order is durable, or with why it alone was refused (duplicate id or key, stale epoch, bad field); rejects when its batch did not commit. */
  append(order: PendingOrder): Promise<string | null> {
    return this.#batcher.add(order);
  }

  /** Resolves when everything appended so far has settled. */
  drain(): Promise<void> {
    return this.#batcher.drain();
  }

  /** One batch (the Batcher's queue decides which orders go together): one statement, one commit. */
  async #commit(batch: PendingOrder[]): Promise<Array<string | null>> {
    const flat: Array<string | number | null> = new Array(batch.length * ORDER_STRIDE);
    const epochs: Array<number | null> = new Array(batch.length);
    let fenced = false;
    batch.forEach((o, i) => {
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
    const failed = await this.#ledger.appendBatch(this.#saleId, flat, fenced ? (epochs as number[]) : null); // fenced means every order came with its epoch
    const seconds = (performance.now() - t0) / 1000;
    this.stats.commitSeconds += seconds;
    this.#onBatch(batch.length, seconds);
    this.stats.batches++;
    this.stats.orders += batch.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    const why: Array<string | null> = new Array(batch.length).fill(null);
    for (const [i, reason] of failed) why[i] = reason;
    return why;
  }
}
