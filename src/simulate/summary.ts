// Turns the threads' receipts into the simulation's verdict: what was sold, oversold, stranded, and how
// fast. Pure functions, so the arithmetic is tested without threads.
import type { StockSnapshot, StrategyName } from '../stock/types.ts';
import type { BuyerPlan } from './buyers.ts';
import { overlapOf } from './overlap.ts';
import type { RaceThreadResult } from './types.ts';

export interface SimulationResult {
  strategy: StrategyName;
  threads: number;
  stock: number;
  buyers: number;
  skus: number;
  maxQty: number;
  perUserLimit: number | null;
  seed: number;
  users: number;
  /** Units the crowd asked for. */
  demand: number;
  /** Units buyers hold at the end, by their own receipts. */
  sold: number;
  /** Units sold beyond stock, summed over SKUs. */
  oversold: number;
  /** Units left available although a buyer whose order fitted them was turned away as sold out. */
  stranded: number;
  /** What the counter says is left, and says was sold; for exact strategies sold === counterSold. */
  available: number;
  counterSold: number;
  /** Sales the counter did not record: units buyers hold beyond what the counter says went
   * (initial − available). Two threads read the same value and both wrote value − qty: a lost update. */
  lostUpdates: number;
  /** Share of the sale (start line to each thread's sell-out) during which every thread was selling,
   * by the clock: near 1 when they ran side by side, near 0 when one finished before another began. */
  overlap: number;
  /** Share of the threads' selling in which another thread ran at the same instant (ConcurrencyProbe):
   * low when they took turns on a core although their clocks overlap. null with one thread. */
  concurrency: number | null;
  userLimitViolations: number;
  refusedSoldOut: number;
  refusedLimit: number;
  /** Purchases declined after the take (tests only), and their units, which went back to stock. */
  releases: number;
  releasedUnits: number;
  /** Lowest available seen by sampling during the race (null when not sampled). */
  minAvailable: number | null;
  /** Buyers served per second, all threads, start line to last thread done. */
  opsPerSec: number;
  /** Start line to the moment the last SKU first refused a buyer as sold out (null: never sold out). */
  sellOutMs: number | null;
  elapsedMs: number;
}

export interface RaceOutcome {
  options: { strategy: StrategyName; threads: number; stock: number; buyers: number; perUserLimit: number | null; seed: number };
  plan: BuyerPlan;
  initial: number[];
  demand: number[];
  results: RaceThreadResult[];
  snapshots: StockSnapshot[];
}

export function summarize({ options, plan, initial, demand, results, snapshots }: RaceOutcome): SimulationResult {
  let sold = 0;
  let oversold = 0;
  let stranded = 0;
  let lostUpdates = 0;
  let sellOutAt: number | null = 0;
  const started = Math.min(...results.map((r) => r.startedAt));
  const ended = Math.max(...results.map((r) => r.endedAt));
  for (let sku = 0; sku < plan.skus; sku++) {
    const soldHere = results.reduce((sum, r) => sum + r.soldBySku[sku], 0);
    sold += soldHere;
    oversold += Math.max(0, soldHere - initial[sku]);
    const refused = results.map((r) => r.minRefusedBySku[sku]).filter((q) => q > 0);
    const available = snapshots[sku].available;
    lostUpdates += Math.max(0, soldHere - (initial[sku] - available));
    if (refused.length > 0 && Math.min(...refused) <= available) stranded += available;
    const firstRefused = results.map((r) => r.firstRefusedAtBySku[sku]).filter((t) => t > 0);
    if (firstRefused.length === 0) sellOutAt = null;
    else if (sellOutAt !== null) sellOutAt = Math.max(sellOutAt, Math.min(...firstRefused));
  }
  const limit = options.perUserLimit;
  let userLimitViolations = 0;
  if (limit !== null) {
    const bought = new Map<string, number>();
    for (const r of results) for (const [user, units] of r.purchases ?? []) bought.set(user, (bought.get(user) ?? 0) + units);
    for (const units of bought.values()) if (units > limit) userLimitViolations++;
  }
  const minAvailable = Math.min(...results.map((r) => r.minAvailable));
  const elapsedMs = ended - started;
  const attempts = results.reduce((sum, r) => sum + r.attempts, 0);
  return {
    strategy: options.strategy,
    threads: options.threads,
    stock: options.stock,
    buyers: options.buyers,
    skus: plan.skus,
    maxQty: plan.maxQty,
    perUserLimit: limit,
    seed: plan.seed,
    users: plan.users,
    demand: demand.reduce((a, b) => a + b, 0),
    sold,
    oversold,
    stranded,
    available: snapshots.reduce((sum, s) => sum + s.available, 0),
    counterSold: snapshots.reduce((sum, s) => sum + s.sold, 0),
    lostUpdates,
    overlap: overlapOf(results.map(saleSpan)),
    concurrency: concurrencyOf(results),
    userLimitViolations,
    refusedSoldOut: results.reduce((sum, r) => sum + r.refusedSoldOut, 0),
    refusedLimit: results.reduce((sum, r) => sum + r.refusedLimit, 0),
    releases: results.reduce((sum, r) => sum + r.releases, 0),
    releasedUnits: results.reduce((sum, r) => sum + r.releasedUnits, 0),
    minAvailable: Number.isFinite(minAvailable) ? minAvailable : null,
    opsPerSec: elapsedMs > 0 ? Math.round((attempts / elapsedMs) * 1000) : 0,
    sellOutMs: sellOutAt === null ? null : Math.max(0, sellOutAt - started),
    elapsedMs,
  };
}

/** A thread's part of the sale: from the start line until it had seen every SKU sold out (or its end). */
function saleSpan(r: RaceThreadResult): { startedAt: number; endedAt: number } {
  const allRefused = r.firstRefusedAtBySku.every((t) => t > 0);
  return { startedAt: r.startedAt, endedAt: allRefused ? Math.max(r.startedAt, ...r.firstRefusedAtBySku) : r.endedAt };
}

function concurrencyOf(results: readonly RaceThreadResult[]): number | null {
  if (results.length < 2) return null;
  const probes = results.reduce((n, r) => n + (r.probes ?? 0), 0);
  if (probes === 0) return null; // the sale was over before any thread looked
  return Math.round((results.reduce((n, r) => n + (r.concurrentProbes ?? 0), 0) / probes) * 1000) / 1000;
}
