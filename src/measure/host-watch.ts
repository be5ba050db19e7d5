// How much of this machine's CPU other processes took while the load ran: the machine's busy time
// (/proc/stat, all CPUs, steal included) less this process's own (every thread: load workers and, for
// the built-in service, its HTTP and ledger threads). The built-in service shares the machine with the
// generator, so when something else keeps a core busy, a slow result may be the machine's, not the
// service's. Linux only: elsewhere the share is unknown (null) and nothing is judged on it.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { MachineLoad } from '../contract/result.ts';

export type { MachineLoad };


interface Sample {
  busyMs: number;
  totalMs: number;
  ownMs: number;
}

/** USER_HZ: /proc/stat counts in hundredths of a second on every Linux this runs on. */
const TICK_MS = 10;

/** The machine's busy and total CPU time (ms, all CPUs) from /proc/stat's first line; null if unreadable. */
export function parseProcStat(text: string): { busyMs: number; totalMs: number } | null {
  const line = text.split('\n', 1)[0];
  if (!line.startsWith('cpu ')) return null;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 8 || f.some((n) => !Number.isFinite(n))) return null;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  const busy = user + nice + system + irq + softirq + steal;
  return { busyMs: busy * TICK_MS, totalMs: (busy + idle + iowait) * TICK_MS };
}

function sample(): Sample | null {
  let stat: ReturnType<typeof parseProcStat>;
  try {
    stat = parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
  if (!stat) return null;
  const own = process.cpuUsage();
  return { ...stat, ownMs: (own.user + own.system) / 1000 };
}

/** Starts watching; stop() gives what other processes took since, or null when it cannot be known. */
export function watchMachine(): { stop(): MachineLoad | null } {
  const start = sample();
  return {
    stop() {
      const end = sample();
      if (!start || !end || end.totalMs - start.totalMs <= 0) return null;
      const others = end.busyMs - start.busyMs - (end.ownMs - start.ownMs);
      const share = Math.min(1, Math.max(0, others / (end.totalMs - start.totalMs)));
      return { othersCpuShare: Math.round(share * 1000) / 1000, cpus: availableParallelism() };
    },
  };
}
