import { describe, expect, it } from 'vitest';
import { attachStock, createStockShared, STRATEGIES, type StrategyName } from '../src/stock/index.ts';

const EXACT: StrategyName[] = ['mutex', 'atomic', 'leased'];

describe('stock counter, one thread', () => {
  it.each(STRATEGIES)('%s: takes, refuses, releases and snapshots', (strategy) => {
    const shared = createStockShared(strategy, [{ initial: 10 }, { initial: 5, sold: 2 }], { maxThreads: 2, leaseSize: 4 });
    const a = attachStock(shared, 0);
    const b = attachStock(shared, 1);
    expect(a.strategy).toBe(strategy);
    expect(a.tryTake(0, 4)).toBe(true);
    expect(b.tryTake(0, 3)).toBe(true);
    expect(a.tryTake(0, 4)).toBe(false); // 3 left
    expect(b.tryTake(0, 3)).toBe(true); // the last 3, wherever leases put them
    expect(a.tryTake(0, 1)).toBe(false);
    expect(a.snapshot(0)).toEqual({ initial: 10, available: 0, sold: 10 });
    a.release(0, 2);
    expect(b.tryTake(0, 2)).toBe(true); // released units reach the other thread
    // restored sales: 5 initial, 2 sold before the restart
    expect(b.snapshot(1)).toEqual({ initial: 5, available: 3, sold: 2 });
    expect(b.tryTake(1, 4)).toBe(false);
    expect(b.tryTake(1, 3)).toBe(true);
    a.flush();
    b.flush();
    expect(a.snapshot(1)).toEqual({ initial: 5, available: 0, sold: 5 });
  });

  it.each(EXACT)('%s: units parked in a lease count as available and come back on flush', (strategy) => {
    const shared = createStockShared(strategy, [{ initial: 100 }], { maxThreads: 2, leaseSize: 32 });
    const a = attachStock(shared, 0);
    expect(a.tryTake(0, 1)).toBe(true);
    expect(a.snapshot(0)).toEqual({ initial: 100, available: 99, sold: 1 });
    a.flush();
    expect(attachStock(shared, 1).snapshot(0)).toEqual({ initial: 100, available: 99, sold: 1 });
  });

  it('rejects bad arguments with the value and the range', () => {
    const shared = createStockShared('atomic', [{ initial: 1 }], { maxThreads: 2 });
    const s = attachStock(shared, 0);
    expect(() => s.tryTake(1, 1)).toThrow(/sku 1 is not in \[0, 1\)/);
    expect(() => s.tryTake(0, 0)).toThrow(/qty 0 is not a positive whole number/);
    expect(() => s.release(0, 1.5)).toThrow(/qty 1.5/);
    expect(() => attachStock(shared, 2)).toThrow(/threadIndex 2 is not in \[0, 2\)/);
    expect(() => createStockShared('atomic', [{ initial: -1 }])).toThrow(/skus\[0\]\.initial -1/);
    expect(() => createStockShared('atomic', [{ initial: 3, sold: 4 }])).toThrow(/skus\[0\]\.sold 4/);
    expect(() => createStockShared('bogus' as StrategyName, [{ initial: 1 }])).toThrow(/unknown stock strategy "bogus"/);
  });

  // leased checks its arguments off its one-unit fast path: a bad SKU must still throw there, never
  // land on another SKU's or another thread's slot.
  it.each(STRATEGIES)('%s refuses a SKU out of range or fractional, on the one-unit path too', (strategy) => {
    const shared = createStockShared(strategy, [{ initial: 5 }, { initial: 5 }], { maxThreads: 2 });
    const s = attachStock(shared, 1);
    for (const sku of [2, -1, 0.5, Number.NaN]) {
      expect(() => s.tryTake(sku, 1)).toThrow(RangeError);
      expect(() => s.tryTake(sku, 2)).toThrow(RangeError);
    }
    expect(() => s.tryTake(0, 1.5)).toThrow(/qty 1.5/);
    expect(attachStock(shared, 0).snapshot(0).available + attachStock(shared, 0).snapshot(1).available).toBe(10);
  });

  it('shares state only through the SharedArrayBuffers it hands out', () => {
    const shared = createStockShared('leased', [{ initial: 3 }], { maxThreads: 2 });
    const copy = structuredClone(shared); // what postMessage does: SABs are shared, not copied
    expect(attachStock(copy, 1).tryTake(0, 3)).toBe(true);
    expect(attachStock(shared, 0).tryTake(0, 1)).toBe(false);
  });
});
