// atomic: a lock-free compare-and-swap loop on the SKU's one counter. It never dips below zero, not even
// for an instant (fetch-sub with compensation does, and a reader or a smaller order arriving in that
// instant sees a false "sold out"). A failed CAS hands back the current value, so the retry needs no
// extra load; every failure means another thread's operation succeeded, so the system always progresses.
import { checkTake } from './check.ts';
import { AVAILABLE, MAX_UNITS, skuBase } from './layout.ts';
import { OneCounterStock } from './one-counter.ts';
import type { StockCounter } from './types.ts';

export function casTake(words: Int32Array, index: number, qty: number): boolean {
  let current = Atomics.load(words, index);
  while (current >= qty) {
    const seen = Atomics.compareExchange(words, index, current, current - qty);
    if (seen === current) return true;
    current = seen;
  }
  return false;
}

/** Adds units back; refuses to overflow the Int32 rather than wrap to a negative stock. */
export function casGive(words: Int32Array, index: number, qty: number): void {
  let current = Atomics.load(words, index);
  for (;;) {
    if (current > MAX_UNITS - qty) throw new RangeError(`releasing ${qty} units would overflow the counter (${current}).`);
    const seen = Atomics.compareExchange(words, index, current, current + qty);
    if (seen === current) return;
    current = seen;
  }
}

export class AtomicStock extends OneCounterStock implements StockCounter {
  readonly strategy = 'atomic' as const;

  tryTake(sku: number, qty: number): boolean {
    checkTake(sku, qty, this.skuCount);
    return casTake(this.counters, skuBase(sku) + AVAILABLE, qty);
  }

  release(sku: number, qty: number): void {
    checkTake(sku, qty, this.skuCount);
    casGive(this.counters, skuBase(sku) + AVAILABLE, qty);
  }
}
