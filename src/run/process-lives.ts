// What `run --service-processes` keeps about each serve process while the run lasts: its lives (one per
// pid: who started it, when it was ready, how it ended), its restarts by kill faults and their failures,
// and whether a kill fault has it down now (it will come back: not dead). From that it says, once and at
// once, when every process has ended with none coming back — the target is dead — and it writes each
// process's part of result.json (target.stores.perProcess). Times are epoch ms here, ms from t0 in the record.
import type { ServiceProcessRecord } from '../contract/result.ts';
import type { ProcessTrouble } from './process-health.ts';

export interface ProcessEnd {
  pid: number;
  code: number | null;
  signal: string | null;
  /** The run (or a fault) asked it to end. */
  asked: boolean;
}

interface Life {
  pid: number;
  startedBy: 'run' | 'fault';
  startedAt: number;
  readyAt: number;
  ended: { at: number; by: 'run' | 'fault' | 'unasked'; code: number | null; signal: string | null } | null;
}

/** What a process served, as its last health answer said (or null: it never answered). */
export type ServedOf = (pid: number, fromMs: number) => NonNullable<ServiceProcessRecord['lives'][number]['served']> | null;

export class ProcessLives {
  readonly #lives: Life[][] = [];
  readonly #restarts: number[] = [];
  readonly #restartTroubles: ProcessTrouble[][] = [];
  readonly #downByFault: boolean[] = [];
  /** Whether process i runs now (its ServiceProcess says). */
  readonly #running: (i: number) => boolean;
  readonly #now: () => number;
  #t0: number | null = null;
  #watching = false;
  #allDown: { at: number; detail: string } | null = null;
  #onDown: ((detail: string) => void) | null = null;

  constructor(count: number, running: (i: number) => boolean, now: () => number = Date.now) {
    for (let i = 0; i < count; i++) {
      this.#lives.push([]);
      this.#restarts.push(0);
      this.#restartTroubles.push([]);
      this.#downByFault.push(false);
    }
    this.#running = running;
    this.#now = now;
  }

  /** Process i got a pid (at its start or a fault's restart; `startedAt` is when it was asked to start). */
  started(i: number, pid: number, by: Life['startedBy'], startedAt: number): void {
    this.#lifeOf(i, pid, by, startedAt);
  }

  /** Process i's pid ended. An end nobody asked for may make the target dead. */
  ended(i: number, x: ProcessEnd): void {
    const at = this.#now();
    const byFault = this.#downByFault[i];
    const life = this.#lifeOf(i, x.pid, byFault ? 'fault' : 'run', at);
    life.ended = { at, by: !x.asked ? 'unasked' : byFault ? 'fault' : 'run', code: x.code, signal: x.signal };
    if (!x.asked) this.#checkAllDown();
  }

  /** A kill fault takes process i down (even if it had already ended on its own): it will come back. */
  faultDown(i: number): void {
    this.#downByFault[i] = true;
  }

  /** The fault's kill failed: process i is not down by it. */
  faultKillFailed(i: number): void {
    this.#downByFault[i] = false;
  }

  /** A kill fault's restart of process i is over: a new pid, or the reason it failed. */
  restarted(i: number, outcome: { pid: number; startedAt: number } | { pid: number | null; failure: string }): void {
    if ('failure' in outcome) {
      this.#restartTroubles[i].push({ at: this.#now(), pid: outcome.pid, kind: 'restart_failed', detail: `a kill fault's restart failed: ${outcome.failure}` });
    } else {
      this.#lifeOf(i, outcome.pid, 'fault', outcome.startedAt);
      this.#restarts[i]++;
    }
    this.#downByFault[i] = false;
    this.#checkAllDown();
  }

  /** From now until `stopWatching`, every process ending with none coming back is a dead target. */
  watch(): void {
    this.#watching = true;
    this.#checkAllDown(); // all may have ended before the watch began
  }

  stopWatching(): void {
    this.#watching = false;
  }

  loadStarted(t0: number): void {
    this.#t0 = t0;
  }

  /** Called once, at once, when the target is dead (or now, if it already is). */
  onAllDown(listener: (detail: string) => void): void {
    this.#onDown = listener;
    if (this.#allDown !== null) listener(this.#allDown.detail);
  }

  get allDown(): { at: number; detail: string } | null {
    return this.#allDown;
  }

  /** Each process's part of result.json, times in ms from `from`. */
  record(from: number, port: number, troubles: (i: number) => ProcessTrouble[], served: ServedOf): ServiceProcessRecord[] {
    return this.#lives.map((lives, i) => ({
      index: i,
      port,
      lives: lives.map((l) => ({
        pid: l.pid,
        startedBy: l.startedBy,
        startedMs: l.startedAt - from,
        readyMs: l.readyAt - from,
        ended: l.ended && { atMs: l.ended.at - from, by: l.ended.by, code: l.ended.code, signal: l.ended.signal },
        served: served(l.pid, from),
      })),
      restartsByFaults: this.#restarts[i],
      troubles: [...troubles(i), ...this.#restartTroubles[i]].sort((a, b) => a.at - b.at).map((t) => ({ atMs: t.at - from, pid: t.pid, kind: t.kind, detail: t.detail })),
    }));
  }

  /** The life of pid (made if it ended before its start's answer was recorded: then ready = now). */
  #lifeOf(i: number, pid: number, startedBy: Life['startedBy'], startedAt: number): Life {
    let life = this.#lives[i].find((l) => l.pid === pid);
    if (!life) {
      life = { pid, startedBy, startedAt, readyAt: this.#now(), ended: null };
      this.#lives[i].push(life);
    }
    return life;
  }

  #checkAllDown(): void {
    const n = this.#lives.length;
    if (!this.#watching || this.#allDown !== null || n === 0) return;
    for (let i = 0; i < n; i++) if (this.#running(i) || this.#downByFault[i]) return;
    const each = this.#lives.map((l, i) => {
      const last = l.at(-1);
      return last?.ended ? `process ${i} (pid ${last.pid}) ${last.ended.signal ?? `exit code ${last.ended.code}`} ${this.when(last.ended.at)}` : `process ${i} did not start again`;
    });
    this.#allDown = { at: this.#now(), detail: `every service process had ended, none restarting: ${each.join(', ')}` };
    this.#onDown?.(this.#allDown.detail);
  }

  /** When an epoch-ms instant was: "N s into the load", or "before the load". */
  when(at: number): string {
    return this.#t0 === null || at < this.#t0 ? 'before the load' : `${((at - this.#t0) / 1000).toFixed(1)} s into the load`;
  }
}
