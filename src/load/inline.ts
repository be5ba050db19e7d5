// The same load engine without a worker thread: one engine in the calling thread. For the benchmark
// (one load worker, measured beside autocannon in the same process) and for tests that look inside.
import type { LoadResult } from '../contract/result.ts';
import { LoadEngine } from './engine.ts';
import type { LoadPlan } from '../contract/load-plan.ts';
import { createSharedState, GO, READY, requestStop, STOP_INTERRUPTED } from './shared.ts';
import { validatePlan } from './validate.ts';

/** `onGo`: called at t0, once the engine is ready (a benchmark's mark between start-up and the run). */
export async function runLoadInline(plan: LoadPlan, options: { signal?: AbortSignal; onGo?: () => void } = {}): Promise<LoadResult> {
  validatePlan(plan);
  const shared = createSharedState(1, plan.skus.ids.length);
  const control = new Int32Array(shared.control);
  const done = new LoadEngine({ plan: { ...plan, workers: 1 }, worker: 0, workers: 1, shared }).run();
  const stop = () => requestStop(control, STOP_INTERRUPTED);
  options.signal?.addEventListener('abort', stop, { once: true });
  done.catch(() => undefined); // awaited below; seen here so a failure while waiting is not "unhandled"
  // t0 once the engine is ready (after its warm-up), as runLoad does; bounded by the warm-up's own bound.
  for (let i = 0; i < 100 && Atomics.load(control, READY) === 0; i++) await Atomics.waitAsync(control, READY, 0, 100).value;
  new Float64Array(shared.t0)[0] = Date.now();
  Atomics.store(control, GO, 1);
  Atomics.notify(control, GO);
  options.onGo?.();
  try {
    return await done;
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}
