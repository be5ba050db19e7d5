// Which core a benchmark's sides and its target run on, and how busy the target was: so "one core" in a
// client benchmark means one core, and a reader can tell whether the client or the target set the pace.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK; 100 on Linux nearly always). */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** A process's CPU so far (user + system), ms, from /proc; null where there is no /proc. */
export function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields after the command name (which may hold spaces, hence from the last ')'): utime and stime
    // are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Starts watching `pid`'s CPU; the returned function gives the ms it used since (null where /proc cannot tell). */
export function watchCpu(pid: number | undefined): () => number | null {
  const before = processCpuMs(pid);
  return () => {
    const after = processCpuMs(pid);
    return before === null || after === null ? null : after - before;
  };
}

/**
 * --pin: this process (every thread: the sides, V8's helpers) on the first CPU and the target on the
 * second, with taskset, so the sides' garbage collector helpers share their one core instead of
 * borrowing the target's. Says what it did; throws where it cannot (no taskset, fewer than two CPUs).
 */
export function pinSidesAndTarget(targetPid: number | undefined): string {
  const cpus = availableParallelism();
  if (cpus < 2) throw new Error(`--pin: needs two CPUs (one for the sides, one for the target); this machine has ${cpus}`);
  for (const [cpu, pid] of [[0, process.pid], [1, targetPid]] as const) {
    const r = spawnSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`--pin: taskset -a -cp ${cpu} ${pid} failed: ${(r.error?.message ?? r.stderr).trim()}`);
  }
  return `pinned: the sides (this process, all threads) on CPU 0, the target on CPU 1 (${cpus} CPUs)`;
}
