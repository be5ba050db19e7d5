// naive: check-then-act with plain reads and writes on the shared array: what a first attempt looks like.
// Two threads read the same value, both pass the check, both write value - qty: one sale is lost from the
// counter and the unit is sold twice. It OVERSELLS under two or more threads, on purpose, for study.
// Each thread counts what it handed out in its own slot so snapshot() can show the oversell honestly.
import { checkTake } from './check.ts';
import { AVAILABLE, skuBase, threadSlotBase } from './layout.ts';
import type { StockCounter, StockShared, StockSnapshot } from './types.ts';

export class NaiveStock implements StockCounter {
  readonly strategy = 'naive' as const;
  readonly #counters: Int32Array;
  readonly #initial: Int32Array;
  readonly #tallies: Int32Array;
  readonly #skuCount: number;
  readonly #maxThreads: number;
  readonly #thread: number;

  constructor(shared: StockShared, threadIndex: number) {
    this.#counters = new Int32Array(shared.counters);
    this.#initial = new Int32Array(shared.initial);
    this.#tallies = new Int32Array(shared.threadSlots);
    this.#skuCount = shared.skuCount;
    this.#maxThreads = shared.maxThreads;
    this.#thread = threadIndex;
  }

  tryTake(sku: number, qty: number): boolean {
    checkTake(sku, qty, this.#skuCount);
    const i = skuBase(sku) + AVAILABLE;
    const stock = this.#counters[i]; // plain read: the race is the point
    if (stock < qty) return false;
    this.#counters[i] = stock - qty; // plain write: may overwrite another thread's sale
    this.#tallies[threadSlotBase(this.#thread, sku, this.#skuCount)] += qty;
    return true;
  }

  release(sku: number, qty: number): void {
    checkTake(sku, qty, this.#skuCount);
    this.#counters[skuBase(sku) + AVAILABLE] += qty;
    this.#tallies[threadSlotBase(this.#thread, sku, this.#skuCount)] -= qty;
  }

  /** sold is what was really handed out (sum of the per-thread tallies); it can exceed initial. */
  snapshot(sku: number): StockSnapshot {
    checkTake(sku, 1, this.#skuCount);
    let sold = 0;
    for (let t = 0; t < this.#maxThreads; t++) sold += Atomics.load(this.#tallies, threadSlotBase(t, sku, this.#skuCount));
    return { initial: this.#initial[sku], available: Atomics.load(this.#counters, skuBase(sku) + AVAILABLE), sold };
  }

  flush(): void {}
}
