// A test hook that starves the load generator deterministically, with no hook in production code:
// preloaded with `node --import` (worker threads inherit it), it makes every worker thread of the
// process block its own event loop for STALL_MS out of every PERIOD_MS, as a generator on a core
// that something else keeps busy would be. Only with FLASHSALE_TEST_STALL="<stallMs>/<periodMs>" set,
// and only in worker threads (for a run against an external target, those are the load workers).
import { isMainThread } from 'node:worker_threads';

const spec = process.env.FLASHSALE_TEST_STALL;
if (spec && !isMainThread) {
  const [stallMs, periodMs] = spec.split('/').map(Number);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  // Blocked, not busy: the event loop can do nothing, as on a core something else holds, while the
  // core itself stays free for the rest of the test suite.
  const timer = setInterval(() => Atomics.wait(cell, 0, 0, stallMs), periodMs);
  timer.unref(); // never keeps a finished worker alive
}
