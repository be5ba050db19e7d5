// mutex: the SKU's counter guarded by a lock on Atomics.wait/notify (lock.ts). Correct and simple; every
// operation pays a lock and an unlock, and a waiter that goes to sleep pays a wake-up. The lock word
// shares the SKU's stride with the counter: they are always touched together.
import { checkTake } from './check.ts';
import { lock, unlock } from './lock.ts';
import { AVAILABLE, LOCK, MAX_UNITS, skuBase } from './layout.ts';
import { OneCounterStock } from './one-counter.ts';
import type { StockCounter } from './types.ts';

export class MutexStock extends OneCounterStock implements StockCounter {
  readonly strategy = 'mutex' as const;

  tryTake(sku: number, qty: number): boolean {
    checkTake(sku, qty, this.skuCount);
    const base = skuBase(sku);
    const words = this.counters;
    lock(words, base + LOCK);
    // Plain accesses are safe here: lock/unlock are sequentially consistent atomics, so they order them.
    const available = words[base + AVAILABLE];
    const ok = available >= qty;
    if (ok) words[base + AVAILABLE] = available - qty;
    unlock(words, base + LOCK);
    return ok;
  }

  release(sku: number, qty: number): void {
    checkTake(sku, qty, this.skuCount);
    const base = skuBase(sku);
    const words = this.counters;
    lock(words, base + LOCK);
    const available = words[base + AVAILABLE];
    const overflow = available > MAX_UNITS - qty;
    if (!overflow) words[base + AVAILABLE] = available + qty;
    unlock(words, base + LOCK);
    if (overflow) throw new RangeError(`releasing ${qty} units would overflow the counter (${available}).`);
  }
}
