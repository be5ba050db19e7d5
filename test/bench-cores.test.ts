// bench/cores.ts: a process's CPU from /proc (what bench:load and bench:transport report as the target's
// busy share). --pin itself is not run here: it would pin the test runner's own threads.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { processCpuMs, watchCpu } from '../bench/cores.ts';

describe.skipIf(!existsSync('/proc/self/stat'))('bench/cores.ts', () => {
  it('reads this process CPU from /proc, and a watch counts what was burnt since it began, as the process itself counts it', () => {
    expect(processCpuMs(process.pid)).toBeGreaterThan(0);
    const watch = watchCpu(process.pid);
    const own = process.cpuUsage();
    // Burn 200 ms of this process's CPU (not of wall time: a busy machine may give less), at most 10 s.
    const until = Date.now() + 10_000;
    let x = 0;
    while (Date.now() < until && (process.cpuUsage(own).user + process.cpuUsage(own).system) / 1000 < 200) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    const used = watch();
    const counted = (process.cpuUsage(own).user + process.cpuUsage(own).system) / 1000;
    expect(counted).toBeGreaterThanOrEqual(200);
    // Both count every thread of the process; /proc in clock ticks (10 ms), read a moment before the other.
    expect(used).toBeGreaterThanOrEqual(counted - 30);
    expect(used).toBeLessThanOrEqual(counted + 20);
  });

  it('answers null for a process that is not there, or no process', () => {
    expect(processCpuMs(2 ** 22 + 12345)).toBeNull(); // above Linux's largest pid
    expect(processCpuMs(undefined)).toBeNull();
    expect(watchCpu(undefined)()).toBeNull();
  });
});
