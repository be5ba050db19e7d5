import { describe, expect, it } from 'vitest';
import { ProcessLives } from '../src/run/process-lives.ts';

/** Two processes on a clock the test moves; `running[i]` is what each ServiceProcess would say. */
function twoProcesses() {
  let now = 1_000;
  const running = [true, true];
  const lives = new ProcessLives(2, (i) => running[i], () => now);
  const downs: string[] = [];
  lives.onAllDown((d) => downs.push(d));
  lives.started(0, 100, 'run', 900);
  lives.started(1, 101, 'run', 950);
  lives.loadStarted(2_000);
  lives.watch();
  return { lives, running, downs, tick: (ms: number) => (now += ms) };
}

describe('ProcessLives', () => {
  it('says the target is dead once, when the last process ends unasked, naming each', () => {
    const { lives, running, downs, tick } = twoProcesses();
    tick(1_500);
    running[0] = false;
    lives.ended(0, { pid: 100, code: null, signal: 'SIGKILL', asked: false });
    expect(downs).toEqual([]);
    tick(500);
    running[1] = false;
    lives.ended(1, { pid: 101, code: 1, signal: null, asked: false });
    expect(downs).toHaveLength(1);
    expect(downs[0]).toBe('every service process had ended, none restarting: process 0 (pid 100) SIGKILL 0.5 s into the load, process 1 (pid 101) exit code 1 1.0 s into the load');
    expect(lives.allDown?.at).toBe(3_000);
  });

  it('says when an instant was from t0, as the lines of the health watch do', () => {
    const { lives } = twoProcesses();
    expect(lives.when(1_999)).toBe('before the load');
    expect(lives.when(4_200)).toBe('2.2 s into the load');
  });

  it('does not call a process down inside a kill fault dead, until its restart fails', () => {
    const { lives, running, downs, tick } = twoProcesses();
    running[0] = false;
    lives.ended(0, { pid: 100, code: null, signal: 'SIGKILL', asked: false });
    lives.faultDown(1);
    running[1] = false;
    lives.ended(1, { pid: 101, code: null, signal: 'SIGKILL', asked: true });
    expect(downs).toEqual([]);
    tick(100);
    lives.restarted(1, { pid: 101, failure: 'port taken' });
    expect(downs).toHaveLength(1);
    const rec = lives.record(2_000, 8080, () => [], () => null);
    expect(rec[1].troubles).toEqual([{ atMs: -900, pid: 101, kind: 'restart_failed', detail: "a kill fault's restart failed: port taken" }]);
    expect(rec[1].lives[0].ended?.by).toBe('fault');
    expect(rec[0].lives[0].ended?.by).toBe('unasked');
  });

  it('records a restart as a second life started by the fault, and a process back is not dead', () => {
    const { lives, running, downs, tick } = twoProcesses();
    lives.faultDown(1);
    running[1] = false;
    lives.ended(1, { pid: 101, code: null, signal: 'SIGKILL', asked: true });
    tick(700);
    running[1] = true;
    lives.restarted(1, { pid: 202, startedAt: 1_100 });
    running[0] = false;
    lives.ended(0, { pid: 100, code: null, signal: 'SIGKILL', asked: false });
    expect(downs).toEqual([]);
    const rec = lives.record(2_000, 8080, (i) => (i === 1 ? [{ at: 2_500, pid: 202, kind: 'threads_down', detail: '1 of 2 threads' }] : []), (pid) => (pid === 202 ? { atMs: 5, checkout: { answered: 3, ok: 3, unavailable: 0 }, reserve: { answered: 0, ok: 0, unavailable: 0 }, pay: { answered: 0, ok: 0, unavailable: 0 }, unavailable: 0, storeErrors: { redis: 0, postgres: 0 } } : null));
    expect(rec[1].restartsByFaults).toBe(1);
    expect(rec[1].lives.map((l) => [l.pid, l.startedBy, l.startedMs, l.readyMs])).toEqual([
      [101, 'run', -1_050, -1_000],
      [202, 'fault', -900, -300],
    ]);
    expect(rec[1].lives[1].served?.checkout.ok).toBe(3);
    expect(rec[1].troubles.map((t) => t.kind)).toEqual(['threads_down']);
  });

  it('ignores ends before the watch and after it stops; an end before its start was recorded makes a life', () => {
    let now = 0;
    const running = [false];
    const lives = new ProcessLives(1, (i) => running[i], () => now);
    const downs: string[] = [];
    lives.onAllDown((d) => downs.push(d));
    lives.ended(0, { pid: 7, code: null, signal: 'SIGKILL', asked: false });
    expect(downs).toEqual([]);
    now = 10;
    lives.watch();
    expect(downs).toHaveLength(1);
    expect(lives.record(0, 1, () => [], () => null)[0].lives).toEqual([{ pid: 7, startedBy: 'run', startedMs: 0, readyMs: 0, ended: { atMs: 0, by: 'unasked', code: null, signal: 'SIGKILL' }, served: null }]);
    const later = new ProcessLives(1, () => false, () => 0);
    const none: string[] = [];
    later.onAllDown((d) => none.push(d));
    later.watch();
    later.stopWatching();
    expect(none).toHaveLength(1); // one that never started counts as ended: the watch begins after the starts
  });
});
