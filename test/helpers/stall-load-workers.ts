// A test hook that starves the load generator deterministically, with no hook in production code:
// preloaded with `node --import` (worker threads inherit it), it makes every worker thread of the
// process block its own event loop for STALL_MS out of every PERIOD_MS, as a generator on a core
// that something else keeps busy would be. Only with FLASHSALE_TEST_STALL="<stallMs>/<periodMs>" set,
// and only in worker threads (for a run against an external target, those are the load workers).
import { isMainThread } from 'node:worker_threads';

const spec = process.env.FLASHSALE_TEST_STALL;
if (spec && !isMainThread) {
  const [stallMs, periodMs] = spec.split('/').map(Number);
  const timer = setInterval(() => {
    const until = performance.now() + stallMs;
    while (performance.now() < until) {
      // busy: the thread's event loop can do nothing else
    }
  }, periodMs);
  timer.unref(); // never keeps a finished worker alive
}
