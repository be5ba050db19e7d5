import { StartTimeoutError } from '../errors.ts';
// A start line in a SharedArrayBuffer: threads check in and sleep on a flag; the main thread waits (without
// blocking its event loop, which piscina needs to hand out tasks) until all are in, then releases them
// with one notify so they truly race.

const READY = 0;
const GO = 32; // own 128-byte stride: check-ins must not bounce the line sleepers watch
const RUNNING = 64; // threads awake after the release (another stride)
/** How long an awake thread spins for the others before it starts anyway. */
const RENDEZVOUS_MS = 1000;

export function createStartGate(): SharedArrayBuffer {
  return new SharedArrayBuffer(96 * Int32Array.BYTES_PER_ELEMENT);
}

/**
 * Worker side: check in, then block until released. With `parties`, then spin (not sleep) until that
 * many threads are awake, up to RENDEZVOUS_MS: waking from Atomics.wait takes each thread a different
 * time (tens of ms on a busy machine), long enough for a short race to be over before the last one
 * starts, so the racers set off from a spin, together.
 */
export function arriveAndWait(gate: SharedArrayBuffer, parties = 1): void {
  const words = new Int32Array(gate);
  Atomics.add(words, READY, 1);
  Atomics.notify(words, READY);
  while (Atomics.load(words, GO) === 0) Atomics.wait(words, GO, 0);
  if (parties <= 1) return;
  Atomics.add(words, RUNNING, 1);
  const giveUp = performance.now() + RENDEZVOUS_MS;
  while (Atomics.load(words, RUNNING) < parties && performance.now() < giveUp) {
    // spin: every thread leaves this loop within a few ns of the last one arriving
  }
}

/** Main side: resolves once `count` threads have checked in, or rejects after timeoutMs. */
export async function waitForArrivals(gate: SharedArrayBuffer, count: number, timeoutMs: number): Promise<void> {
  const words = new Int32Array(gate);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const arrived = Atomics.load(words, READY);
    if (arrived >= count) return;
    const left = deadline - performance.now();
    if (left <= 0) throw new StartTimeoutError(`only ${arrived} of ${count} threads reached the start line within ${timeoutMs} ms.`);
    await Atomics.waitAsync(words, READY, arrived, left).value;
  }
}

export function release(gate: SharedArrayBuffer): void {
  const words = new Int32Array(gate);
  Atomics.store(words, GO, 1);
  Atomics.notify(words, GO);
}
