// The load engine's entry point: start a pool of load workers, give them t0 together, watch their
// progress, stop them on request, and merge what they measured.
import { Piscina } from 'piscina';
import { mergeLoadResults } from '../measure/merge.ts';
import { LIVE_FIELDS, sumLive } from '../measure/live.ts';
import type { LoadResult } from '../contract/result.ts';
import type { LoadPlan } from '../contract/load-plan.ts';
import {
  createSharedState,
  GO,
  P_COMPLETED,
  P_ERRORS,
  P_SENT,
  P_SOLD_OUTS,
  P_SUCCESSES,
  P_UNITS,
  READY,
  readProgress,
  requestStop,
  STOP_INTERRUPTED,
  type SharedState,
} from './shared.ts';
import { validatePlan } from './validate.ts';
import { StartTimeoutError } from '../errors.ts';

export { validatePlan, journeySteps } from './validate.ts';
export type { LoadPlan } from '../contract/load-plan.ts';

export interface LoadProgress {
  elapsedMs: number;
  sent: number;
  completed: number;
  successes: number;
  unitsAcknowledged: number;
  errors: number;
  soldOuts: number;
  /** The workers' live bins, summed (src/measure/live.ts: answers by outcome and status class,
   * latency and lateness bins), cumulative since t0. */
  live?: Float64Array;
}

export interface RunLoadOptions {
  /** Aborting stops the run gracefully (in-flight requests may finish within caps.gracefulStopMs) and keeps what was measured. */
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  progressEveryMs?: number;
  /** Epoch ms to use as t0 (the sale's opening, so the crowd's reaction times count from it) when it
   * is still ahead once the workers are ready; otherwise t0 is as soon as they are. */
  startAtEpochMs?: number;
  /** Called once with t0 (epoch ms) as the workers are told it: faults are timed from it. */
  onStart?: (t0EpochMs: number) => void;
}

const WORKER_FILE = new URL('./worker.ts', import.meta.url).href;
/** Time between telling workers t0 and t0 itself, so every worker is waiting when it comes. */
const START_LEAD_MS = 25;
const READY_TIMEOUT_MS = 30_000;

export async function runLoad(plan: LoadPlan, options: RunLoadOptions = {}): Promise<LoadResult> {
  validatePlan(plan);
  const shared = createSharedState(plan.workers, plan.skus.ids.length);
  const control = new Int32Array(shared.control);
  const pool = new Piscina({
    filename: WORKER_FILE,
    minThreads: plan.workers,
    maxThreads: plan.workers,
    concurrentTasksPerWorker: 1,
    idleTimeout: 1_000,
  });
  const stop = () => requestStop(control, STOP_INTERRUPTED);
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) stop();
  let progressTimer: NodeJS.Timeout | null = null;
  let t0 = 0;
  try {
    const tasks = Array.from({ length: plan.workers }, (_, worker) => pool.run({ plan, worker, workers: plan.workers, shared }));
    // A worker that fails before it is ready must not leave us waiting for it.
    const failed = Promise.race(tasks.map((t) => t.then(() => new Promise<never>(() => undefined))));
    await Promise.race([waitReady(control, plan.workers), failed]);
    t0 = Math.max(Date.now() + START_LEAD_MS, options.startAtEpochMs ?? 0);
    new Float64Array(shared.t0)[0] = t0;
    Atomics.store(control, GO, 1);
    Atomics.notify(control, GO);
    options.onStart?.(t0);
    if (options.onProgress) {
      const report = options.onProgress;
      progressTimer = setInterval(() => report(progressOf(shared, plan.workers, t0)), options.progressEveryMs ?? 1000);
    }
    const parts = await Promise.all(tasks).catch(async (e: unknown) => {
      stop(); // let the other workers end on their own before the pool goes
      await Promise.allSettled(tasks);
      throw e;
    });
    const result = mergeLoadResults(parts);
    options.onProgress?.(progressOf(shared, plan.workers, t0));
    return result;
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    options.signal?.removeEventListener('abort', stop);
    await pool.destroy();
  }
}

async function waitReady(control: Int32Array, workers: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (let ready = Atomics.load(control, READY); ready < workers; ready = Atomics.load(control, READY)) {
    if (Date.now() > deadline) throw new StartTimeoutError(`only ${ready} of ${workers} load workers started within ${READY_TIMEOUT_MS / 1000} s`);
    await Atomics.waitAsync(control, READY, ready, 100).value;
  }
}

function progressOf(shared: SharedState, workers: number, t0: number): LoadProgress {
  const p = readProgress(new Float64Array(shared.progress), workers);
  return {
    elapsedMs: Math.max(0, Date.now() - t0),
    sent: p[P_SENT],
    completed: p[P_COMPLETED],
    successes: p[P_SUCCESSES],
    unitsAcknowledged: p[P_UNITS],
    errors: p[P_ERRORS],
    soldOuts: p[P_SOLD_OUTS],
    live: sumLive(new Float64Array(shared.live, 0, LIVE_FIELDS * workers), workers),
  };
}
