// bench/service-threads.ts: CPU by thread role from /proc readings, so bench:service's per-thread
// columns say which thread spent what (the first WorkerThread is the ledger's, threads started in
// the window count from zero, threads that are not Node's are helpers).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuByRole, threadTimes } from '../bench/service-threads.ts';

const reading = (entries: Array<[number, string, number]>) => new Map(entries.map(([tid, name, us]) => [tid, { name, us }]));

describe('cpuByRole', () => {
  it('charges each thread to its role over the window', () => {
    const before = reading([
      [100, 'MainThread', 1_000],
      [101, 'V8Worker', 500],
      [105, 'WorkerThread', 2_000], // the ledger: the first worker started
      [107, 'WorkerThread', 3_000],
    ]);
    const after = reading([
      [100, 'MainThread', 1_500],
      [101, 'V8Worker', 900],
      [105, 'WorkerThread', 2_700],
      [107, 'WorkerThread', 4_000],
      [109, 'WorkerThread', 250], // an HTTP thread restarted in the window: all of it counts
    ]);
    expect(cpuByRole(before, after)).toEqual({ main: 500, helpers: 400, ledger: 700, http: 1_250 });
  });

  it('says nothing when a reading is missing (not Linux)', () => {
    expect(cpuByRole(null, reading([[1, 'MainThread', 5]]))).toBeNull();
  });
});

describe.runIf(existsSync('/proc/self/task'))('threadTimes', () => {
  it('reads every thread of this process with a name and a CPU time', () => {
    const t = threadTimes();
    expect(t).not.toBeNull();
    expect(t!.has(process.pid)).toBe(true); // the process's first thread has the process id
    for (const { name, us } of t!.values()) {
      expect(name.length).toBeGreaterThan(0);
      expect(us).toBeGreaterThanOrEqual(0);
    }
  });
});
