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

/** CPU time (ms, user + system, every thread) of process `pid` from /proc/<pid>/stat; null if gone. */
export function processCpuMs(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after its closing parenthesis.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime: fields 14 and 15 of the line
    return Number.isFinite(ticks) ? ticks * TICK_MS : null;
  } catch {
    return null;
  }
}

/** How often children's CPU is read: a child killed between two reads loses at most this much of its count. */
const CHILD_SAMPLE_MS = 250;

export interface WatchOptions {
  /** Processes of this run that count as its own (the built-in service as its own process, which a fault
   * may kill and restart under a new pid): their CPU is not "other processes". */
  children?: () => readonly number[];
}

/** Starts watching; stop() gives what other processes took since, or null when it cannot be known. */
export function watchMachine(options: WatchOptions = {}): { stop(): MachineLoad | null } {
  const start = sample();
  // Per child pid: its CPU when first seen and when last seen.
  const seen = new Map<number, { first: number; last: number }>();
  const readChildren = () => {
    for (const pid of options.children?.() ?? []) {
      const ms = processCpuMs(pid);
      if (ms === null) continue;
      const s = seen.get(pid);
      if (s) s.last = ms;
      else seen.set(pid, { first: seen.size === 0 ? ms : 0, last: ms });
    }
  };
  readChildren();
  const timer = options.children ? setInterval(readChildren, CHILD_SAMPLE_MS) : null;
  timer?.unref();
  return {
    stop() {
      if (timer) clearInterval(timer);
      readChildren();
      const end = sample();
      if (!start || !end || end.totalMs - start.totalMs <= 0) return null;
      let childrenMs = 0;
      for (const s of seen.values()) childrenMs += s.last - s.first;
      const others = end.busyMs - start.busyMs - (end.ownMs - start.ownMs) - childrenMs;
      const share = Math.min(1, Math.max(0, others / (end.totalMs - start.totalMs)));
      return { othersCpuShare: Math.round(share * 1000) / 1000, cpus: availableParallelism() };
    },
  };
}
