// What other processes took of the machine's CPU: /proc/stat's busy time less this process's own.
import { describe, expect, it } from 'vitest';
import { parseProcStat, watchMachine } from '../src/measure/host-watch.ts';

describe('the machine watch', () => {
  it('reads busy and total CPU time from /proc/stat (steal counts as busy, iowait as idle)', () => {
    //                     user nice system idle iowait irq softirq steal guest guest_nice
    expect(parseProcStat('cpu  100 5 20 800 30 1 2 40 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n')).toEqual({ busyMs: 1680, totalMs: 9980 });
    expect(parseProcStat('not a stat file')).toBeNull();
    expect(parseProcStat('cpu  1 2 x')).toBeNull();
  });

  it.skipIf(process.platform !== 'linux')('gives a share between 0 and 1 on Linux', async () => {
    const w = watchMachine();
    await new Promise((r) => setTimeout(r, 200));
    const m = w.stop();
    expect(m).not.toBeNull();
    expect(m!.othersCpuShare).toBeGreaterThanOrEqual(0);
    expect(m!.othersCpuShare).toBeLessThanOrEqual(1);
    expect(m!.cpus).toBeGreaterThan(0);
  });
});
