// bench/cores.ts: a process's CPU from /proc (what bench:load and bench:transport report as the target's
// busy share). --pin itself is not run here: it would pin the test runner's own threads.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { processCpuMs, watchCpu } from '../bench/cores.ts';

describe.skipIf(!existsSync('/proc/self/stat'))('bench/cores.ts', () => {
  it('reads this process CPU from /proc, and a watch counts what was burnt since it began', () => {
    const before = processCpuMs(process.pid);
    expect(before).toBeGreaterThan(0);
    const watch = watchCpu(process.pid);
    const until = Date.now() + 150;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1); // about 150 ms of CPU (ticks are 10 ms)
    expect(x).toBeGreaterThan(0);
    const used = watch();
    expect(used).toBeGreaterThanOrEqual(50);
    expect(used).toBeLessThan(5_000);
  });

  it('answers null for a process that is not there, or no process', () => {
    expect(processCpuMs(2 ** 22 + 12345)).toBeNull(); // above Linux's largest pid
    expect(processCpuMs(undefined)).toBeNull();
    expect(watchCpu(undefined)()).toBeNull();
  });
});
