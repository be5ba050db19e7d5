// One racing thread of `flashsale simulate`: attaches to the shared stock (and user limits), waits at the
// start line, then serves its share of the crowd as fast as it can. It keeps its own receipts so the main
// thread can audit the counter against what buyers really got.
import { attachStock } from '../stock/index.ts';
import { attachUserLimits } from '../stock/user-limits.ts';
import { buyerAt, userId, type Buyer } from './buyers.ts';
import { ConcurrencyProbe, PROBE_EVERY } from './overlap.ts';
import { arriveAndWait } from './start-gate.ts';
import type { RaceTask, RaceThreadResult } from './types.ts';

function now(): number {
  return performance.timeOrigin + performance.now();
}

export default function race(task: RaceTask): RaceThreadResult {
  const { plan, threadIndex, threads, releaseEvery, sampleEvery, perUserLimit } = task;
  const stock = attachStock(task.stock, threadIndex);
  const limits = task.limits && perUserLimit !== null ? attachUserLimits(task.limits) : null;
  const soldBySku = new Array<number>(plan.skus).fill(0);
  const minRefusedBySku = new Array<number>(plan.skus).fill(0);
  const purchases = limits ? new Map<string, number>() : null;
  const buyer: Buyer = { user: 0, sku: 0, qty: 0 };
  let attempts = 0;
  let refusedSoldOut = 0;
  let refusedLimit = 0;
  let releases = 0;
  let releasedUnits = 0;
  let sales = 0;
  let minAvailable = Infinity;
  // Stamped once per SKU, at its first sold-out refusal: a clock read per sale would slow the race.
  const firstRefusedAtBySku = new Array<number>(plan.skus).fill(0);

  const probe = new ConcurrencyProbe(task.progress, threadIndex, threads);
  let selling = plan.skus; // SKUs this thread has not yet seen sold out
  arriveAndWait(task.gate, threads);
  const startedAt = now();
  for (let i = threadIndex; i < plan.count; i += threads) {
    buyerAt(plan, i, buyer);
    const { sku, qty } = buyer;
    attempts++;
    if (selling > 0 && (attempts & (PROBE_EVERY - 1)) === 0) probe.probe();
    const id = limits ? userId(buyer.user) : '';
    if (limits && !limits.tryAcquire(id, qty, perUserLimit as number)) { // limits exist only with a numeric limit
      refusedLimit++;
      continue;
    }
    if (!stock.tryTake(sku, qty)) {
      refusedSoldOut++;
      if (minRefusedBySku[sku] === 0 || qty < minRefusedBySku[sku]) minRefusedBySku[sku] = qty;
      if (firstRefusedAtBySku[sku] === 0) {
        firstRefusedAtBySku[sku] = now();
        selling--;
      }
      if (limits) limits.release(id, qty);
    } else if (releaseEvery > 0 && ++sales % releaseEvery === 0) {
      // Payment declined: the units and the user's allowance come back.
      stock.release(sku, qty);
      if (limits) limits.release(id, qty);
      releases++;
      releasedUnits += qty;
    } else {
      soldBySku[sku] += qty;
      if (purchases) purchases.set(id, (purchases.get(id) ?? 0) + qty);
    }
    if (sampleEvery > 0 && attempts % sampleEvery === 0) {
      const available = stock.snapshot(sku).available;
      if (available < minAvailable) minAvailable = available;
    }
  }
  if (task.drain) {
    for (let sku = 0; sku < plan.skus; sku++) {
      while (stock.tryTake(sku, 1)) soldBySku[sku]++;
    }
  }
  stock.flush();
  return {
    threadIndex,
    attempts,
    soldBySku,
    minRefusedBySku,
    refusedSoldOut,
    refusedLimit,
    releases,
    releasedUnits,
    purchases: purchases ? [...purchases] : null,
    minAvailable,
    startedAt,
    firstRefusedAtBySku,
    probes: probe.probes,
    concurrentProbes: probe.concurrent,
    endedAt: now(),
  };
}
