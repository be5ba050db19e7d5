// CPU time of each thread of this process, by role, from Linux's /proc/self/task (utime + stime per
// thread). The V8 profile counts a thread blocked in fsync as busy; this counts only CPU the kernel
// charged, so it says what the ledger thread itself costs. Roles come from the thread names Node gives:
// MainThread, WorkerThread (the service starts the ledger thread before the HTTP threads, so the first
// WorkerThread is the ledger's), anything else (V8's GC and compiler helpers, libuv's pool) is "helpers".
import { readdirSync, readFileSync } from 'node:fs';

export type ThreadRole = 'main' | 'ledger' | 'http' | 'helpers';
export type ThreadCpu = Record<ThreadRole, number>;

/** Clock ticks per second of /proc's utime/stime: 100 on every Linux Node runs on (USER_HZ). */
const TICK_US = 10_000;

/** Per-thread CPU µs now, keyed by thread id, with its name; null where /proc is not there (not Linux). */
export function threadTimes(): Map<number, { name: string; us: number }> | null {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return null;
  }
  const out = new Map<number, { name: string; us: number }>();
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // The name sits in parentheses and may hold spaces; the fields after it are space-separated.
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      // fields[0] is field 3 (state): utime is field 14, stime field 15.
      out.set(Number(tid), { name, us: (Number(fields[11]) + Number(fields[12])) * TICK_US });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** CPU µs by role between two readings (threads that started in between count from zero). */
export function cpuByRole(before: ReturnType<typeof threadTimes>, after: ReturnType<typeof threadTimes>): ThreadCpu | null {
  if (!before || !after) return null;
  const workers = [...after.entries()].filter(([, t]) => t.name === 'WorkerThread').map(([tid]) => tid).sort((a, b) => a - b);
  const ledgerTid = workers[0];
  const cpu: ThreadCpu = { main: 0, ledger: 0, http: 0, helpers: 0 };
  for (const [tid, t] of after) {
    const used = t.us - (before.get(tid)?.us ?? 0);
    const role: ThreadRole = t.name === 'MainThread' ? 'main' : t.name !== 'WorkerThread' ? 'helpers' : tid === ledgerTid ? 'ledger' : 'http';
    cpu[role] += used;
  }
  return cpu;
}
