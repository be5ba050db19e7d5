// The small base of the strategies that keep one shared counter per SKU (mutex, atomic): where the
// counter lives, and a snapshot read straight from it. Each strategy adds only how it takes and gives.
import { checkTake } from './check.ts';
import { AVAILABLE, skuBase } from './layout.ts';
import type { StockShared, StockSnapshot } from './types.ts';

export class OneCounterStock {
  protected readonly counters: Int32Array;
  protected readonly skuCount: number;
  readonly #initial: Int32Array;

  constructor(shared: StockShared) {
    this.counters = new Int32Array(shared.counters);
    this.#initial = new Int32Array(shared.initial);
    this.skuCount = shared.skuCount;
  }

  snapshot(sku: number): StockSnapshot {
    checkTake(sku, 1, this.skuCount);
    const initial = this.#initial[sku];
    const available = Atomics.load(this.counters, skuBase(sku) + AVAILABLE);
    return { initial, available, sold: initial - available };
  }

  flush(): void {}
}
