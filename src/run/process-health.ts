// Each service process's own health during `run --service-processes N`. Behind one shared port a GET
// /healthz reaches whichever process the kernel picks, so the run asks each process over the IPC channel
// it opened when it spawned it (service/health-messages.ts): at start, that every one of its HTTP threads
// serves; then every second, while the load runs. What it finds goes to the run's log at once and to the
// result's warnings at the end, naming the process: one that ended unasked, one with HTTP threads down
// (a thread that crashed too often is left down), one that stopped answering (two checks in a row).
// Killed and restarted processes of a `kill: "service-process"` fault are not running while down, and
// are not reported: the fault's record says what happened to them. Each trouble is also kept with its
// time, and each process's last answer of what it served (its /metrics counters), for the result's
// per-process record (service-processes.ts).
import { messageOf, StoreUnavailableError } from '../errors.ts';
import { healthOf, type ProcessHealth, type ProcessServed } from '../service/health-messages.ts';
import type { ServiceProcess } from '../faults/service-process.ts';

const EVERY_MS = 1000;
const ANSWER_MS = 5000;
const READY_POLL_MS = 100;

/** The part of ServiceProcess this needs (tests give a fake). */
export type WatchedProcess = Pick<ServiceProcess, 'pid' | 'running' | 'unexpectedExits' | 'ask' | 'stderr'>;

export async function askHealth(p: WatchedProcess, timeoutMs = ANSWER_MS): Promise<ProcessHealth> {
  const reply = await p.ask({ flashsale: 'health' }, 'health-done', timeoutMs);
  const health = healthOf(reply);
  if (health === null) throw new StoreUnavailableError(`answered ${JSON.stringify(reply).slice(0, 120)}`);
  return health;
}

/** A trouble the watch found in one process (epoch ms): threads down, two missed answers, it recovered (or, said by the cluster, a kill fault's restart failed). */
export interface ProcessTrouble {
  at: number;
  pid: number | null;
  kind: 'threads_down' | 'no_answer' | 'healthy_again' | 'restart_failed';
  detail: string;
}

/** A process's last answer of what it served, by pid (epoch ms). */
export interface ServedAnswer {
  at: number;
  served: ProcessServed;
}

export class ProcessHealthWatch {
  readonly #processes: readonly WatchedProcess[];
  readonly #log: (line: string) => void;
  /** Says when an epoch-ms instant was, as the run's other lines do (from t0 once the load started). */
  readonly #when: (at: number) => string;
  readonly #notes: string[] = [];
  /** Per process: exits reported so far, health checks missed in a row, the last trouble said (said again only when it changes). */
  readonly #state: Array<{ exits: number; missed: number; said: string | null; troubles: ProcessTrouble[] }>;
  readonly #served = new Map<number, ServedAnswer>();
  #timer: NodeJS.Timeout | null = null;
  #checking: Promise<void> | null = null;

  constructor(processes: readonly WatchedProcess[], log: (line: string) => void, when?: (at: number) => string) {
    this.#processes = processes;
    this.#log = log;
    const started = Date.now();
    this.#when = when ?? ((at) => `${((at - started) / 1000).toFixed(1)} s after the processes started`);
    this.#state = processes.map(() => ({ exits: 0, missed: 0, said: null, troubles: [] }));
  }

  /**
   * Each process's own readiness: every HTTP thread serving, said by the process itself (not by
   * whichever one answers the shared URL). Rejects naming the process that is not ready within timeoutMs.
   */
  async ready(timeoutMs: number): Promise<void> {
    await Promise.all(
      this.#processes.map(async (p, i) => {
        let last = 'no answer';
        for (const until = Date.now() + timeoutMs; Date.now() < until; ) {
          if (!p.running) throw new StoreUnavailableError(`service process ${i} (pid ${p.pid}) ended during its start: ${p.stderr().trim().split('\n').slice(-2).join(' | ')}`);
          try {
            const h = await askHealth(p, Math.max(1, until - Date.now()));
            if (h.threadsUp === h.threads) return;
            last = `${h.threadsUp} of ${h.threads} HTTP threads serving`;
          } catch (e) {
            last = messageOf(e);
          }
          await new Promise((r) => setTimeout(r, READY_POLL_MS));
        }
        throw new StoreUnavailableError(`service process ${i} (pid ${p.pid}) did not report itself ready within ${timeoutMs / 1000} s (${last})`);
      }),
    );
  }

  start(everyMs = EVERY_MS): void {
    this.#timer = setInterval(() => {
      this.#checking ??= this.check().finally(() => (this.#checking = null));
    }, everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#checking;
  }

  /** What was found, for the result's warnings (exits are warned by the cluster itself). */
  notes(): string[] {
    return [...this.#notes];
  }

  /** The troubles found in process i, in order. */
  troubles(i: number): ProcessTrouble[] {
    return [...(this.#state[i]?.troubles ?? [])];
  }

  /** The last answer of what the process with this pid served; null when it never said. */
  served(pid: number): ServedAnswer | null {
    return this.#served.get(pid) ?? null;
  }

  /** One round: exits since the last, and each running process's own answer. */
  async check(): Promise<void> {
    await Promise.all(this.#processes.map((p, i) => this.#checkOne(p, i)));
  }

  async #checkOne(p: WatchedProcess, i: number): Promise<void> {
    const s = this.#state[i];
    const at = this.#when(Date.now());
    const others = this.#processes.some((q) => q !== p && q.running) ? 'the others go on selling on the shared URL' : 'no other process is running';
    for (const x of p.unexpectedExits.slice(s.exits)) {
      this.#log(`service process ${i} (pid ${x.pid}) ended without being asked (${x.signal ?? `exit code ${x.code}`}) ${at}; ${others}`);
    }
    s.exits = p.unexpectedExits.length;
    if (!p.running) return;
    const pid = p.pid;
    let trouble: string | null = null;
    let kind: ProcessTrouble['kind'] = 'threads_down';
    try {
      const h = await askHealth(p);
      s.missed = 0;
      if (h.served && pid !== null) this.#served.set(pid, { at: Date.now(), served: h.served });
      if (h.threadsUp < h.threads) trouble = `${h.threadsUp} of ${h.threads} HTTP threads serving`;
    } catch (e) {
      if (!p.running) return; // it ended meanwhile: the next round reports the exit
      s.missed++;
      kind = 'no_answer';
      if (s.missed >= 2) trouble = `did not answer its health check twice in a row (${messageOf(e)})`;
      else return;
    }
    if (trouble === s.said) return;
    const was = s.said;
    s.said = trouble;
    if (trouble === null) {
      s.troubles.push({ at: Date.now(), pid, kind: 'healthy_again', detail: `healthy again (was: ${was})` });
      this.#log(`service process ${i} (pid ${pid}): healthy again (was: ${was}), ${at}`);
      return;
    }
    s.troubles.push({ at: Date.now(), pid, kind, detail: trouble });
    const line = `service process ${i} (pid ${pid}): ${trouble}, ${at}`;
    this.#notes.push(line);
    this.#log(line);
  }
}
