// The stock core: one interface, four strategies chosen by name, all living in SharedArrayBuffers so any
// thread can attach to the same stock by receiving `StockShared` (plain data + SABs) in workerData or a
// message. See README.md, "The stock core".
import { AtomicStock } from './atomic.ts';
import { LeasedStock } from './leased.ts';
import { AVAILABLE, MAX_UNITS, STRIDE, skuBase } from './layout.ts';
import { MutexStock } from './mutex.ts';
import { NaiveStock } from './naive.ts';
import type { StockCounter, StockShared, StrategyName } from './types.ts';

export type { StockCounter, StockShared, StockSnapshot, StrategyName } from './types.ts';

export const STRATEGIES: readonly StrategyName[] = ['naive', 'mutex', 'atomic', 'leased'];

/** One line each, for --help and tables. naive says what it does. */
export const STRATEGY_DESCRIPTIONS: Readonly<Record<StrategyName, string>> = {
  naive: 'plain read-modify-write; OVERSELLS with 2+ threads (kept on purpose, for study)',
  mutex: 'lock on Atomics.wait/notify around the counter; exact',
  atomic: 'lock-free compare-and-swap loop, never below zero; exact',
  leased: 'per-thread leases refilled in batches, stolen back at sell-out; exact, least contention',
};

export const DEFAULT_MAX_THREADS = 16;
// One refill (four atomics on the SKU's shared line) per 256 sales keeps the shared line out of the hot path
// (bench:stock -- --lease-size N: at 64 the refills cost about a tenth of the 2-thread throughput);
// batches shrink to ceil(pool / maxThreads) as the pool runs low, so a big lease never hoards the last units.
export const DEFAULT_LEASE_SIZE = 256;

export function isStrategy(name: string): name is StrategyName {
  return (STRATEGIES as readonly string[]).includes(name); // includes() on a literal tuple takes only its members; any string may be asked
}

/** skus[i].sold: units already sold (restored from a ledger on restart), default 0. maxThreads: how many threads may attach (leases are per thread). */
export function createStockShared(
  strategy: StrategyName,
  skus: Array<{ initial: number; sold?: number }>,
  options: { maxThreads?: number; leaseSize?: number } = {},
): StockShared {
  if (!isStrategy(strategy)) throw new RangeError(`unknown stock strategy "${strategy}" (one of: ${STRATEGIES.join(', ')}).`);
  const maxThreads = options.maxThreads ?? DEFAULT_MAX_THREADS;
  const leaseSize = options.leaseSize ?? DEFAULT_LEASE_SIZE;
  if (!Number.isInteger(maxThreads) || maxThreads < 1) throw new RangeError(`maxThreads ${maxThreads} is not a positive whole number.`);
  if (!Number.isInteger(leaseSize) || leaseSize < 1) throw new RangeError(`leaseSize ${leaseSize} is not a positive whole number.`);
  const skuCount = skus.length;
  const initial = new SharedArrayBuffer(Math.max(1, skuCount) * Int32Array.BYTES_PER_ELEMENT);
  const counters = new SharedArrayBuffer(Math.max(1, skuCount) * STRIDE * Int32Array.BYTES_PER_ELEMENT);
  const perThread = strategy === 'naive' || strategy === 'leased';
  const threadSlots = new SharedArrayBuffer(perThread ? Math.max(1, maxThreads * skuCount) * STRIDE * Int32Array.BYTES_PER_ELEMENT : 0);
  const initialWords = new Int32Array(initial);
  const counterWords = new Int32Array(counters);
  skus.forEach((sku, i) => {
    const sold = sku.sold ?? 0;
    if (!Number.isInteger(sku.initial) || sku.initial < 0 || sku.initial > MAX_UNITS) throw new RangeError(`skus[${i}].initial ${sku.initial} is not a whole number in [0, ${MAX_UNITS}].`);
    if (!Number.isInteger(sold) || sold < 0 || sold > sku.initial) throw new RangeError(`skus[${i}].sold ${sold} is not a whole number in [0, initial ${sku.initial}].`);
    initialWords[i] = sku.initial;
    counterWords[skuBase(i) + AVAILABLE] = sku.initial - sold;
  });
  if (perThread && strategy === 'naive') {
    // naive's snapshot sums per-thread sale tallies; seed thread 0's with the restored sales.
    const tallies = new Int32Array(threadSlots);
    skus.forEach((sku, i) => (tallies[i * STRIDE] = sku.sold ?? 0));
  }
  return { strategy, skuCount, maxThreads, leaseSize, initial, counters, threadSlots };
}

/** Attach in any thread. threadIndex in [0, maxThreads) and unique per live thread (leased keeps per-thread lease slots). */
export function attachStock(shared: StockShared, threadIndex: number): StockCounter {
  if (!Number.isInteger(threadIndex) || threadIndex < 0 || threadIndex >= shared.maxThreads) {
    throw new RangeError(`threadIndex ${threadIndex} is not in [0, ${shared.maxThreads}) (raise maxThreads in createStockShared).`);
  }
  switch (shared.strategy) {
    case 'naive':
      return new NaiveStock(shared, threadIndex);
    case 'mutex':
      return new MutexStock(shared);
    case 'atomic':
      return new AtomicStock(shared);
    case 'leased':
      return new LeasedStock(shared, threadIndex);
    default:
      throw new RangeError(`unknown stock strategy "${String((shared as StockShared).strategy)}".`); // not a known strategy (the switch above took them all): say which
  }
}
