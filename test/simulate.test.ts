import { describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { BIN, flashsale } from './helpers/cli.ts';

const exec = promisify(execFile);
const hasTaskset = process.platform === 'linux' && (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
})();
import { buyerAt, demandBySku, type Buyer } from '../src/simulate/buyers.ts';
import { stockBySku } from '../src/simulate/race.ts';
import { summarize } from '../src/simulate/summary.ts';
import { LOW_OVERLAP, overlapOf } from '../src/simulate/overlap.ts';
import { renderTable, togetherShare, verdict } from '../src/simulate/table.ts';
import type { SimulationResult } from '../src/simulate/summary.ts';
import type { RaceThreadResult } from '../src/simulate/types.ts';

describe('flashsale simulate (CLI)', () => {
  it('prints exactly one JSON object with --json', async () => {
    const r = await flashsale('simulate', '--strategy', 'atomic', '--threads', '2', '--stock', '1000', '--buyers', '5000', '--per-user-limit', '1', '--qty', '2', '--skus', '2', '--seed', '3', '--json');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]);
    expect(out).toMatchObject({ strategy: 'atomic', threads: 2, stock: 1000, buyers: 5000, oversold: 0, stranded: 0, userLimitViolations: 0 });
    expect(out.sold).toBeLessThanOrEqual(1000);
    expect(out.sold).toBe(out.counterSold);
    expect(out.opsPerSec).toBeGreaterThan(0);
    expect(out).toHaveProperty('sellOutMs');
  });

  it('prints a table with a verdict', async () => {
    const r = await flashsale('simulate', '--strategy', 'leased', '--threads', '2', '--stock', '500', '--buyers', '2000');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^strategy\s+leased/m);
    expect(r.stdout).toMatch(/^oversold\s+0$/m);
    expect(r.stdout).toMatch(/^exact: no oversell/m);
  });

  // The README's "watch it oversell": the lesson shows every time, or the output says plainly why not.
  it('naive on 2 threads oversells or loses updates, or says the threads did not race; never "exact"', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await flashsale('simulate', '--strategy', 'naive', '--threads', '2', '--json');
      expect(r.code).toBe(0);
      const json = JSON.parse(r.stdout) as SimulationResult;
      const together = togetherShare(json);
      // The lesson showed, or the run says plainly that the threads did not really race.
      expect(json.oversold > 0 || json.lostUpdates > 0 || together < LOW_OVERLAP, JSON.stringify(json)).toBe(true);
      const text = renderTable(json);
      expect(text).not.toMatch(/exact/);
      expect(text).toMatch(/why: naive takes a unit in three separate steps: read the counter, check it has enough/);
      if (json.lostUpdates > 0) expect(text).toMatch(/the counter LOST [\d,]+ updates/);
      else expect(text).toMatch(/^the threads did not race: they ran at the same instant for only \d+% of the sale/m);
    }
    const table = await flashsale('simulate', '--strategy', 'naive', '--threads', '2');
    expect(table.stdout).toMatch(/^threads overlap\s+\d+% of the sale by the clock; at the same instant in \d+% of it$/m);
    expect(table.stdout).not.toMatch(/exact/);
  });

  // Both threads on one core: their clocks overlap, but they take turns, and the output must say so.
  it.skipIf(!hasTaskset)('says the threads did not race when they only took turns on one core', async () => {
    const { stdout } = await exec('taskset', ['-c', '0', process.execPath, BIN, 'simulate', '--strategy', 'naive', '--threads', '2', '--json']);
    const json = JSON.parse(stdout) as SimulationResult;
    expect(json.concurrency).toBeLessThan(LOW_OVERLAP);
    const text = renderTable(json);
    expect(text).toMatch(json.lostUpdates > 0 ? /^the threads ran at the same instant for only \d+% of the sale/m : /^the threads did not race: they ran at the same instant for only \d+% of the sale/m);
    expect(text).not.toMatch(/exact/);
  });

  it('takes --per-user-limit none, the scenario files\' spelling', async () => {
    const r = await flashsale('simulate', '--strategy', 'atomic', '--threads', '1', '--stock', '100', '--buyers', '500', '--per-user-limit', 'none', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ perUserLimit: null, userLimitViolations: 0 });
  });

  it.each([
    [['--strategy', 'optimistic'], /--strategy.*"optimistic" is not one of: naive, mutex, atomic, leased/],
    [['--strategy', 'atomic', '--stock', '-1'], /--stock.*-1 is below the minimum of 0/],
    [['--strategy', 'atomic', '--threads', '0'], /--threads.*0 is below the minimum of 1/],
    [['--stock', '10'], /required option '--strategy <name>'/],
    // Refused before any table is allocated or thread started.
    [['--strategy', 'atomic', '--buyers', '100000000', '--per-user-limit', '1'], /--per-user-limit: at most 33,554,432 distinct users, got 50,000,000: lower --users/],
  ])('rejects %j with exit 2 and names the option', async (args, message) => {
    const r = await flashsale('simulate', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('simulate building blocks', () => {
  it('draws the same crowd from the same seed, with repeat users', () => {
    const plan = { count: 1000, seed: 9, users: 100, skus: 3, maxQty: 4 };
    const a: Buyer = { user: 0, sku: 0, qty: 0 };
    const b: Buyer = { user: 0, sku: 0, qty: 0 };
    const users = new Set<number>();
    for (let i = 0; i < plan.count; i++) {
      expect(buyerAt(plan, i, a)).toEqual(buyerAt(plan, i, b));
      expect(a.qty).toBeGreaterThanOrEqual(1);
      expect(a.qty).toBeLessThanOrEqual(4);
      expect(a.sku).toBeLessThan(3);
      users.add(a.user);
    }
    expect(users.size).toBeLessThanOrEqual(100);
    expect(demandBySku(plan).reduce((x, y) => x + y, 0)).toBeGreaterThan(plan.count);
    expect(buyerAt({ ...plan, seed: 10 }, 0, a)).not.toEqual(buyerAt(plan, 0, b));
  });

  it('splits stock over SKUs without losing a unit', () => {
    expect(stockBySku(10, 3)).toEqual([4, 3, 3]);
    expect(stockBySku(0, 2)).toEqual([0, 0]);
  });

  it('audits from receipts: oversold, stranded, limit violations, sell-out time', () => {
    const thread = (over: Partial<RaceThreadResult>): RaceThreadResult => ({
      threadIndex: 0, attempts: 10, soldBySku: [0, 0], minRefusedBySku: [0, 0], refusedSoldOut: 0, refusedLimit: 0, releases: 0, releasedUnits: 0,
      purchases: [], minAvailable: Infinity, startedAt: 1000, endedAt: 1010, firstRefusedAtBySku: [0, 0], probes: 0, concurrentProbes: 0, ...over,
    });
    const r = summarize({
      options: { strategy: 'naive', threads: 2, stock: 10, buyers: 20, perUserLimit: 2, seed: 1 },
      plan: { count: 20, seed: 1, users: 5, skus: 2, maxQty: 1 },
      initial: [5, 5],
      demand: [12, 8],
      results: [
        thread({ soldBySku: [4, 1], minRefusedBySku: [0, 1], purchases: [['u1', 2], ['u2', 3]], firstRefusedAtBySku: [0, 1004], startedAt: 1000 }),
        thread({ threadIndex: 1, soldBySku: [3, 1], minRefusedBySku: [1, 0], purchases: [['u1', 1]], firstRefusedAtBySku: [1002, 0], endedAt: 1020 }),
      ],
      snapshots: [{ initial: 5, available: 0, sold: 6 }, { initial: 5, available: 3, sold: 2 }],
    });
    expect(r.sold).toBe(9);
    expect(r.oversold).toBe(2); // SKU 0: 7 sold of 5
    expect(r.stranded).toBe(3); // SKU 1: 3 left while a 1-unit buyer was refused
    expect(r.userLimitViolations).toBe(2); // u1 bought 3, u2 bought 3, limit 2
    expect(r.sellOutMs).toBe(4); // the later SKU first refused at +4 ms
    expect(r.opsPerSec).toBe(1000); // 20 buyers in 20 ms
    expect(r.counterSold).toBe(8);
    // SKU 0: 7 held by buyers, the counter recorded 5 − 0 = 5: 2 lost updates.
    expect(r.lostUpdates).toBe(2);
    expect(verdict(r)).toMatch(/OVERSOLD 2 units.*LOST 2 updates.*3 units stranded.*2 users bought above the limit/);
  });

  it('never says "exact" when the counter lost updates, even when nothing was oversold', () => {
    // All 10,000,000 units were handed out, one per buyer, yet the counter still shows 381,072.
    const r = summarize({
      options: { strategy: 'naive', threads: 2, stock: 10_000_000, buyers: 10_000_000, perUserLimit: null, seed: 1 },
      plan: { count: 10_000_000, seed: 1, users: 5_000_000, skus: 1, maxQty: 1 },
      initial: [10_000_000],
      demand: [10_000_000],
      results: [0, 1].map((threadIndex) => ({
        threadIndex, attempts: 5_000_000, soldBySku: [5_000_000], minRefusedBySku: [0], refusedSoldOut: 0, refusedLimit: 0, releases: 0, releasedUnits: 0,
        purchases: null, minAvailable: Infinity, startedAt: 1000, endedAt: 1400, firstRefusedAtBySku: [0], probes: 4000, concurrentProbes: 3900,
      })),
      snapshots: [{ initial: 10_000_000, available: 381_072, sold: 10_000_000 }],
    });
    expect(r).toMatchObject({ oversold: 0, lostUpdates: 381_072, overlap: 1, concurrency: 0.975 });
    expect(verdict(r)).not.toMatch(/exact/);
    expect(verdict(r)).toMatch(/the counter LOST 381,072 updates/);
  });

  it('measures how much threads ran at the same time', () => {
    expect(overlapOf([{ startedAt: 0, endedAt: 10 }, { startedAt: 0, endedAt: 10 }])).toBe(1);
    expect(overlapOf([{ startedAt: 0, endedAt: 10 }, { startedAt: 5, endedAt: 15 }])).toBeCloseTo(1 / 3, 3);
    expect(overlapOf([{ startedAt: 0, endedAt: 10 }, { startedAt: 12, endedAt: 20 }])).toBe(0); // took turns
    expect(overlapOf([{ startedAt: 0, endedAt: 10 }])).toBe(1);
  });
});
