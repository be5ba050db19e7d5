// Group commit's queue, shared by the ledger's orders (group-commit.ts) and reservations' rows
// (reservations.ts): items that arrive while a batch is in flight wait and go together in the next one, so
// one statement — one transaction, one WAL flush — covers all of them. One batch at a time; each item's
// promise settles only when its batch's call returned (its result by index), or rejects with the batch's
// error when the call failed as a whole.

interface Waiting<T, R> { item: T; resolve(result: R): void; reject(e: Error): void }

export class Batcher<T, R> {
  readonly #commit: (items: T[]) => Promise<ArrayLike<R>>;
  readonly #maxBatch: number;
  #queue: Array<Waiting<T, R>> = [];
  #running: Promise<void> | null = null;

  /** commit gets each batch (at most maxBatch items, in arrival order) and answers one result per item, by index. */
  constructor(commit: (items: T[]) => Promise<ArrayLike<R>>, maxBatch: number) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch ${maxBatch} is not a positive whole number`);
    this.#commit = commit;
    this.#maxBatch = maxBatch;
  }

  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#running ??= this.#run();
    });
  }

  /** Resolves when everything added so far has settled. */
  async drain(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  async #run(): Promise<void> {
    // Let the rest of this turn's items join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      try {
        const results = await this.#commit(batch.map((w) => w.item));
        batch.forEach((w, i) => w.resolve(results[i]));
      } catch (e) {
        for (const w of batch) w.reject(e as Error); // pg rejects with Errors
      }
    }
    this.#running = null;
  }
}
