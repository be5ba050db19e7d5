// Runs one simulated sale: N piscina threads, one task each, released together from a start line, racing
// a deterministic crowd against the shared stock. Returns what happened, audited from the buyers' own
// receipts rather than from the counter under test.
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { attachStock, createStockShared, type StrategyName } from '../stock/index.ts';
import { checkSharedMemory } from '../stock/memory.ts';
import { createUserLimits, MAX_USERS, userLimitsBytes } from '../stock/user-limits.ts';
import { UsageError } from '../errors.ts';
import { type BuyerPlan, demandBySku } from './buyers.ts';
import { createProgress } from './overlap.ts';
import { createStartGate, release, waitForArrivals } from './start-gate.ts';
import type { RaceTask, RaceThreadResult } from './types.ts';
import { summarize, type SimulationResult } from './summary.ts';

const WORKER = fileURLToPath(new URL('./race-thread.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export interface SimulateOptions {
  strategy: StrategyName;
  threads: number;
  /** Units in the whole sale, split evenly over the SKUs. */
  stock: number;
  buyers: number;
  skus: number;
  /** Each buyer wants 1..maxQty units. */
  maxQty: number;
  perUserLimit: number | null;
  seed: number;
  /** Distinct users the crowd is drawn from; default half the crowd, so users repeat. */
  users?: number;
  leaseSize?: number;
  releaseEvery?: number;
  drain?: boolean;
  sampleEvery?: number;
}

export function stockBySku(stock: number, skus: number): number[] {
  return Array.from({ length: skus }, (_, i) => Math.floor(stock / skus) + (i < stock % skus ? 1 : 0));
}

export async function simulate(options: SimulateOptions): Promise<SimulationResult> {
  const { strategy, threads, skus } = options;
  const plan: BuyerPlan = {
    count: options.buyers,
    seed: options.seed >>> 0,
    users: Math.max(1, options.users ?? Math.ceil(options.buyers / 2)),
    skus,
    maxQty: options.maxQty,
  };
  const initial = stockBySku(options.stock, skus);
  const stock = createStockShared(strategy, initial.map((units) => ({ initial: units })), { maxThreads: threads, leaseSize: options.leaseSize });
  const limitedUsers = Math.min(plan.users, options.buyers);
  if (options.perUserLimit !== null) {
    if (limitedUsers > MAX_USERS) throw new UsageError(`--per-user-limit: at most ${MAX_USERS.toLocaleString('en-US')} distinct users, got ${limitedUsers.toLocaleString('en-US')}: lower --users (default: half of --buyers)`);
    checkSharedMemory(userLimitsBytes(limitedUsers), `${limitedUsers.toLocaleString('en-US')} distinct users (--per-user-limit)`, 'lower --users (default: half of --buyers)');
  }
  const limits = options.perUserLimit === null ? null : createUserLimits(limitedUsers);
  const gate = createStartGate();
  const progress = createProgress(threads);
  const pool = new Piscina({ filename: WORKER, minThreads: threads, maxThreads: threads, concurrentTasksPerWorker: 1, idleTimeout: 60_000 });
  try {
    const runs = Array.from({ length: threads }, (_, threadIndex) => {
      const task: RaceTask = {
        stock,
        limits,
        perUserLimit: options.perUserLimit,
        gate,
        threadIndex,
        threads,
        plan,
        releaseEvery: options.releaseEvery ?? 0,
        drain: options.drain ?? false,
        sampleEvery: options.sampleEvery ?? 0,
        progress,
      };
      return pool.run(task) as Promise<RaceThreadResult>; // piscina types results as any; the racer returns RaceThreadResult
    });
    const all = Promise.all(runs);
    try {
      // A worker that fails before the start line rejects `all`; do not wait for the timeout then.
      await Promise.race([waitForArrivals(gate, threads, START_TIMEOUT_MS), all]);
    } finally {
      release(gate); // even on failure, so no thread is left asleep at the line
    }
    const results = await all;
    const counter = attachStock(stock, 0); // every worker has flushed and gone: index 0 is free
    const snapshots = initial.map((_, sku) => counter.snapshot(sku));
    return summarize({ options, plan, initial, demand: demandBySku(plan), results, snapshots });
  } finally {
    await pool.destroy();
  }
}
