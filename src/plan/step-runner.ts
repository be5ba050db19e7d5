// Real steps for the rate search: the scenario's journey at a constant arrival rate, after a warm-up
// at the same rate, against the built-in service (a fresh one per step, its stock too large to sell
// out and its per-user limit off) or against the targets given (stopOnSellOut off either way).
//
// The warm-up is a run of its own: it warms the target (JIT, caches, connection accept) and its
// requests are counted against the request cap but not judged. The measured run's histograms are the
// step's, whole and exact. With several targets (instances) the rate is split evenly between them,
// one load run each at the same time, merged exactly.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  mergeLoadResults,
  runLoad,
  startService,
  toLoadPlan,
  toSaleDefinition,
  durationMs,
  type LoadedScenario,
  type LoadPlan,
  type LoadResult,
  type RunningService,
  type ThresholdsSpec,
} from './adapter.ts';
import { judgeStep, type MeasuredStep } from './judge.ts';
import type { RateProbe, StepContext } from './search.ts';

export interface StepRunnerConfig {
  loaded: LoadedScenario;
  /** One URL per instance; empty: the built-in service, started for each step. */
  targets: string[];
  /** HTTP threads of the built-in service. */
  serviceThreads?: number;
  /** Load worker threads per target. */
  workers?: number;
  seed: number;
  stepMs: number;
  warmupMs: number;
  objectives: ThresholdsSpec;
  /** The concurrency level the steps belong to (threads or instances), null for a plain plan. */
  level: number | null;
  /** Where the built-in service keeps each step's ledger (removed after the step); null: in memory. */
  ledgerDir: string | null;
  signal?: AbortSignal;
}

/** Start-up and tear-down around a step (service, load workers): refined from each step's wall time. */
const DEFAULT_OVERHEAD_MS = 1500;
const INT32_MAX = 2 ** 31 - 1;
const MAX_EXPECTED_USERS = 2 ** 25;

export function createStepProbe(cfg: StepRunnerConfig): RateProbe<MeasuredStep> {
  const { scenario } = cfg.loaded;
  const journeySteps = scenario.buyers.journey === 'reserve-pay' ? 2 : 1;
  const think = scenario.buyers.thinkTime;
  const thinkMaxMs = journeySteps === 2 ? (typeof think === 'object' ? durationMs(think.max) : durationMs(think)) : 0;
  const timeoutMs = durationMs(scenario.buyers.timeout);
  // In-flight journeys get this long after the schedule ends: a pay step's think time, then a latency.
  const gracefulStopMs = thinkMaxMs + Math.min(timeoutMs, Math.max(1000, cfg.stepMs));
  let overheadMs = DEFAULT_OVERHEAD_MS;

  const runAt = async (urls: string[], rate: number, lengthMs: number, seed: number, maxRequests: number): Promise<LoadResult> => {
    const share = Math.max(1, Math.floor(maxRequests / urls.length));
    const parts = await Promise.all(
      urls.map((url, i) => {
        const plan: LoadPlan = {
          ...toLoadPlan(scenario, { targetUrl: url, workers: cfg.workers, seed: seed + i * 7919 }),
          arrival: { type: 'constant-arrival-rate', rate: rate / urls.length, timeUnitMs: 1000, durationMs: lengthMs },
          stopOnSellOut: false,
          // Each step is a short run of its own with the search's own warm-up before it: a per-run
          // connection warm-up (load.warmup) would only add requests the step's timing does not expect.
          warmup: null,
        };
        plan.caps = { maxRequests: share, gracefulStopMs, maxDurationMs: lengthMs + gracefulStopMs + 1000 };
        return runLoad(plan, { signal: cfg.signal });
      }),
    );
    return parts.length === 1 ? parts[0] : mergeLoadResults(parts);
  };

  const startBuiltIn = async (rate: number, index: number): Promise<{ service: RunningService; ledger: string | null }> => {
    const arrivals = Math.ceil((rate * (cfg.warmupMs + cfg.stepMs)) / 1000) + 1;
    // Enough units that no SKU can sell out whichever SKUs the buyers pick; tables sized for every key.
    const units = Math.min(INT32_MAX, arrivals * scenario.buyers.qty * 2 + 1000);
    const sale = toSaleDefinition(scenario, null);
    sale.skus = sale.skus.map((s) => ({ id: s.id, stock: units }));
    sale.perUserLimit = 0;
    const ledger = cfg.ledgerDir === null ? null : join(cfg.ledgerDir, `plan-ledger-${cfg.level ?? 0}-${index}.db`);
    const service = await startService({
      sale,
      threads: cfg.serviceThreads,
      ledgerPath: ledger ?? ':memory:',
      expectedUsers: Math.min(MAX_EXPECTED_USERS, Math.ceil(arrivals * journeySteps * 1.25) + 1024),
      seed: cfg.seed,
    });
    return { service, ledger };
  };

  return {
    estimate(rate) {
      return {
        ms: cfg.warmupMs + cfg.stepMs + thinkMaxMs + overheadMs,
        requests: Math.ceil((rate * (cfg.warmupMs + cfg.stepMs)) / 1000) * journeySteps,
      };
    },

    async measure(rate: number, context: StepContext): Promise<MeasuredStep> {
      const started = performance.now();
      const startedAt = new Date().toISOString();
      const builtIn = cfg.targets.length === 0 ? await startBuiltIn(rate, context.index) : null;
      const urls = builtIn ? [builtIn.service.url] : cfg.targets;
      // Every step and warm-up has its own seed: its own buyers and Idempotency-Keys, so a target never
      // replays an answer from an earlier step.
      const seed = (cfg.seed + 2 * context.index * 104_729) >>> 0;
      let warmRequests = 0;
      let load: LoadResult;
      try {
        if (cfg.warmupMs > 0) {
          const warm = await runAt(urls, rate, cfg.warmupMs, seed, context.requestBudget);
          warmRequests = warm.counts.requestsSent;
        }
        const budget = Math.max(1, context.requestBudget - warmRequests);
        load = await runAt(urls, rate, cfg.stepMs, (seed + 104_729) >>> 0, budget);
      } finally {
        await builtIn?.service.close();
        if (builtIn?.ledger) await Promise.all(['', '-wal', '-shm'].map((ext) => rm(builtIn.ledger + ext, { force: true })));
      }
      const judged = judgeStep({ load, offeredRate: rate, stepMs: cfg.stepMs, thinkMaxMs, objectives: cfg.objectives });
      const wallMs = performance.now() - started;
      overheadMs = Math.max(0, wallMs - cfg.warmupMs - cfg.stepMs - thinkMaxMs);
      return {
        ...judged,
        interrupted: cfg.signal?.aborted === true,
        index: context.index,
        phase: context.phase,
        retry: context.retry,
        level: cfg.level,
        requests: warmRequests + load.counts.requestsSent,
        wallMs,
        startedAt,
      };
    },
  };
}

