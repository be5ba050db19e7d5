// A worker's side of the shared control words: the start signal with t0, exact request tickets across
// workers, the first stop reason winning, and a stop watch that fires once a stop is really there.
import { describe, expect, it } from 'vitest';
import { RunControl } from '../src/load/control.ts';
import { createSharedState, GO, READY, STOP_INTERRUPTED, STOP_NONE, STOP_SOLD_OUT } from '../src/load/shared.ts';

describe('run control', () => {
  it('says it is ready and returns t0 once the main thread says go', async () => {
    const shared = createSharedState(1, 1);
    const control = new RunControl(shared);
    const started = control.ready();
    expect(Atomics.load(control.words, READY)).toBe(1);
    new Float64Array(shared.t0)[0] = 1_700_000_000_000;
    Atomics.store(control.words, GO, 1);
    Atomics.notify(control.words, GO);
    await expect(started).resolves.toBe(1_700_000_000_000);
  });

  it('hands out exactly maxRequests tickets, whichever worker asks', () => {
    const shared = createSharedState(2, 1);
    const a = new RunControl(shared);
    const b = new RunControl(shared);
    let granted = 0;
    for (let i = 0; i < 10; i++) granted += Number((i % 2 ? a : b).takeTicket(7));
    expect(granted).toBe(7);
  });

  it('keeps the first stop reason, and wakes a watcher only for a real stop', async () => {
    const control = new RunControl(createSharedState(1, 1));
    let stops = 0;
    const stopped = new Promise<void>((resolve) => control.watchStop(() => false, () => (stops++, resolve())));
    control.wakeWatchers(); // another worker finishing: no stop yet, the watch re-arms
    await new Promise((r) => setTimeout(r, 20));
    expect(stops).toBe(0);
    expect(control.stopCode()).toBe(STOP_NONE);
    control.stop(STOP_SOLD_OUT);
    control.stop(STOP_INTERRUPTED);
    await stopped;
    expect(stops).toBe(1);
    expect(control.stopCode()).toBe(STOP_SOLD_OUT);
  });
});
