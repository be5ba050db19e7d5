// Real worker threads (piscina), released together, hammering shared stock. The race itself is the
// simulate worker; drain mode makes every thread take single units at the end until refused, so any unit
// stranded in a lease would show up as available > 0.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { StrategyName } from '../src/stock/index.ts';
import { simulate, type SimulateOptions } from '../src/simulate/race.ts';

const EXACT: StrategyName[] = ['mutex', 'atomic', 'leased'];

function race(strategy: StrategyName, overrides: Partial<SimulateOptions>) {
  return simulate({ strategy, threads: 4, stock: 5_000, buyers: 40_000, skus: 1, maxQty: 3, perUserLimit: null, seed: 7, leaseSize: 16, sampleEvery: 97, ...overrides });
}

describe.each(EXACT)('%s from 4 threads', (strategy) => {
  it('sells one SKU out exactly, quantities 1–3, releases mixed in', async () => {
    const r = await race(strategy, { releaseEvery: 5, drain: true });
    expect(r.demand).toBeGreaterThan(r.stock);
    expect(r.releasedUnits).toBeGreaterThan(0);
    expect(r.sold).toBe(r.stock); // min(stock, demand)
    expect(r.counterSold).toBe(r.sold);
    expect(r.available).toBe(0);
    expect(r.oversold).toBe(0);
    expect(r.stranded).toBe(0);
    expect(r.minAvailable).toBeGreaterThanOrEqual(0);
  });

  it('sells several SKUs out exactly', async () => {
    const r = await race(strategy, { skus: 5, stock: 4_003, releaseEvery: 7, drain: true });
    expect(r.sold).toBe(4_003);
    expect(r.counterSold).toBe(4_003);
    expect(r.available).toBe(0);
    expect(r.oversold).toBe(0);
    expect(r.minAvailable).toBeGreaterThanOrEqual(0);
  });

  it('sells exactly the demand when stock exceeds it', async () => {
    const r = await race(strategy, { stock: 100_000, buyers: 20_000, skus: 3, releaseEvery: 4 });
    expect(r.demand).toBeLessThan(r.stock);
    expect(r.sold + r.releasedUnits).toBe(r.demand);
    expect(r.counterSold).toBe(r.sold);
    expect(r.available).toBe(r.stock - r.sold);
    expect(r.refusedSoldOut).toBe(0);
  });

  it('keeps every user within the limit when the same users race from every thread', async () => {
    const r = await race(strategy, { stock: 100_000, buyers: 20_000, users: 3, perUserLimit: 4, releaseEvery: 3 });
    expect(r.userLimitViolations).toBe(0);
    expect(r.sold).toBeGreaterThan(0);
    expect(r.sold).toBeLessThanOrEqual(3 * 4);
    expect(r.refusedLimit).toBeGreaterThan(0);
    expect(r.counterSold).toBe(r.sold);
  });
});

describe('leased at sell-out', () => {
  it.each([1, 1000])('steals back every parked unit (lease size %i)', async (leaseSize) => {
    // Lease size 1000 against 3,000 units: most of the stock sits in leases when the global pool empties.
    const r = await race('leased', { stock: 3_000, buyers: 8_000, maxQty: 5, leaseSize, releaseEvery: 6, drain: true });
    expect(r.sold).toBe(3_000);
    expect(r.counterSold).toBe(3_000);
    expect(r.available).toBe(0);
    expect(r.stranded).toBe(0);
    expect(r.minAvailable).toBeGreaterThanOrEqual(0);
  });
});

describe('naive from 2 threads', () => {
  it('oversells, and reports what it really handed out', async (ctx) => {
    // Lost updates need both threads on a CPU at the same instant. On a busy machine they may take turns
    // for a whole run, so try a few times; the accounting is checked every time.
    let oversold = 0;
    for (let attempt = 0; attempt < 3 && oversold === 0; attempt++) {
      const r = await simulate({ strategy: 'naive', threads: 2, stock: 5_000_000, buyers: 6_000_000, skus: 1, maxQty: 1, perUserLimit: null, seed: attempt + 1 });
      expect(r.counterSold).toBe(r.sold); // naive's snapshot sums the per-thread receipts
      expect(r.sold).toBeGreaterThanOrEqual(r.stock);
      oversold = r.oversold;
    }
    // Never overlapped? Then this machine is not running two threads at once right now (a plain increment
    // race loses nothing either) and oversell cannot be shown; if it is, naive must have oversold.
    if (oversold === 0 && (await lostIncrements()) === 0) ctx.skip('threads never ran at the same time on this machine');
    expect(oversold).toBeGreaterThan(0);
  });
});

/** Two threads doing plain `counter++` on one shared word for ~200 ms: increments lost to the race. */
async function lostIncrements(): Promise<number> {
  const words = new Int32Array(new SharedArrayBuffer(8));
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const words = new Int32Array(workerData);
    Atomics.add(words, 1, 1);
    while (Atomics.load(words, 1) < 2); // start together
    let done = 0;
    const end = Date.now() + 200;
    while (Date.now() < end) for (let i = 0; i < 10000; i++) { words[0] = words[0] + 1; done++; }
    parentPort.postMessage(done);`;
  const done = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(code, { eval: true, workerData: words.buffer });
          w.once('message', (n: number) => void w.terminate().then(() => resolve(n)));
          w.once('error', reject);
        }),
    ),
  );
  return done[0] + done[1] - words[0];
}
