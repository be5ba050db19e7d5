// The scheduler on a stand-in service that records what it was asked: faults fire at `at` from the
// sale's opening and heal `downFor` after they hit; one fault at a time per resource; stop() records
// faults not yet hit as not reached and heals those in effect at once; a fault that cannot be injected,
// or whose heal fails, is recorded as such and the others go on.
import { describe, expect, it } from 'vitest';
import { FaultError } from '../src/errors.ts';
import type { ServiceUnderFault } from '../src/faults/kind.ts';
import { validateFaults } from '../src/faults/validate.ts';
import { scheduleFaults } from '../src/faults/scheduler.ts';

// Node's timers may fire up to a millisecond before the Date.now() their delay implies (both round to
// whole ms), so "not before" is checked with that much slack.
const TIMER_SLACK_MS = 2;

function faults(raw: unknown[]) {
  const { faults: list, problems } = validateFaults(raw);
  expect(problems).toEqual([]);
  return list;
}

/** A service that only notes, in ms from `t0`, when it was killed, restarted or had a thread crashed. */
function standIn(t0: number, options: { restartMs?: number; restartFails?: boolean } = {}) {
  const calls: Array<[string, number]> = [];
  const at = () => Date.now() - t0;
  const service: ServiceUnderFault = {
    threads: 2,
    async kill() {
      calls.push(['kill', at()]);
      return { pid: 42, exit: 'SIGKILL' };
    },
    async restart() {
      calls.push(['restart', at()]);
      await new Promise((r) => setTimeout(r, options.restartMs ?? 0));
      if (options.restartFails) throw new FaultError('the service exited (code 2) before listening: port in use');
      return { pid: 43, startMs: 1, healthyMs: 2, recovered: 'continuing sale 1 with 3 orders' };
    },
    async crashThread(index) {
      calls.push([`crash ${index}`, at()]);
    },
    async waitHealthy() {
      return 7;
    },
  };
  return { service, calls };
}

describe('the fault scheduler', () => {
  it('fires at `at` from the opening and heals downFor after the hit', async () => {
    const t0 = Date.now();
    const { service, calls } = standIn(t0);
    const lines: string[] = [];
    const records = await scheduleFaults(faults([{ at: '150ms', kill: 'service', downFor: '100ms' }]), { saleOpensAtEpochMs: t0, context: { service, log: (l) => lines.push(l) } }).done;
    expect(calls.map(([what]) => what)).toEqual(['kill', 'restart']);
    expect(calls[0][1]).toBeGreaterThanOrEqual(150 - TIMER_SLACK_MS);
    expect(calls[1][1] - calls[0][1]).toBeGreaterThanOrEqual(100 - TIMER_SLACK_MS);
    const [r] = records;
    expect(r).toMatchObject({ index: 0, kind: 'kill-service', status: 'healed', plannedMs: 150, healedEarly: false, problem: null });
    expect(r.detail).toEqual({ pid: 43, exit: 'SIGKILL', startMs: 1, healthyMs: 2, recovered: 'continuing sale 1 with 3 orders' });
    expect(r.hitMs).toBeGreaterThanOrEqual(150 - TIMER_SLACK_MS);
    expect(r.inEffectMs).toBeGreaterThanOrEqual(r.hitMs!);
    expect(r.healStartMs! - r.hitMs!).toBeGreaterThanOrEqual(100 - TIMER_SLACK_MS);
    expect(r.healedMs).toBeGreaterThanOrEqual(r.healStartMs!);
    expect(lines[0]).toMatch(/^fault 0 \(kill -9 the service at 150ms, restart it after 100ms\): hit at \d+ ms$/);
    expect(lines[1]).toMatch(/healed at \d+ ms$/);
  });

  it('runs faults on one resource one after the other: a kill that falls during a restart waits for it', async () => {
    const t0 = Date.now();
    const { service, calls } = standIn(t0, { restartMs: 200 });
    const [kill, crash] = await scheduleFaults(faults([{ at: 0, kill: 'service', downFor: '50ms' }, { at: '100ms', kill: 'thread', thread: 1 }]), { saleOpensAtEpochMs: t0, context: { service } }).done;
    expect(calls.map(([what]) => what)).toEqual(['kill', 'restart', 'crash 1']);
    expect(crash.hitMs).toBeGreaterThanOrEqual(kill.healedMs!); // later than planned, and the record says when
    expect(crash).toMatchObject({ plannedMs: 100, status: 'healed', detail: { thread: 1, healthyMs: 7 } });
  });

  it('stop(): faults not yet hit are not reached, faults in effect are healed at once', async () => {
    const t0 = Date.now();
    const { service, calls } = standIn(t0);
    const schedule = scheduleFaults(faults([{ at: 0, kill: 'service', downFor: '1m' }, { at: '1m', kill: 'thread', thread: 0 }]), { saleOpensAtEpochMs: t0, context: { service } });
    await new Promise((r) => setTimeout(r, 100));
    const [early, never] = await schedule.stop();
    expect(Date.now() - t0).toBeLessThan(30_000); // it did not wait out the minute
    expect(early).toMatchObject({ status: 'healed', healedEarly: true });
    expect(never).toMatchObject({ status: 'not_reached', hitMs: null, healedMs: null });
    expect(calls.map(([what]) => what)).toEqual(['kill', 'restart']);
  });

  it('a fault that cannot be injected, or whose heal fails, is recorded so and the others go on', async () => {
    const t0 = Date.now();
    const { service } = standIn(t0, { restartFails: true });
    const records = await scheduleFaults(
      faults([
        { at: 0, kill: 'service', downFor: 0 },
        { at: 0, network: { latency: '10ms' }, downFor: 0 },
        { at: 0, exec: ['true'] },
      ]),
      { saleOpensAtEpochMs: t0, context: { service } },
    ).done;
    expect(records.map((r) => r.status)).toEqual(['heal_failed', 'failed', 'failed']);
    expect(records[0].problem).toBe('the service exited (code 2) before listening: port in use');
    expect(records[0].inEffectMs).not.toBeNull();
    expect(records[1].problem).toBe('network fault: no Toxiproxy proxy between the crowd and the target');
    expect(records[2].problem).toBe('exec: running commands was not allowed (--allow-exec)');
  });

  it('kill faults without a service to act on fail, saying why', async () => {
    const records = await scheduleFaults(faults([{ at: 0, kill: 'service', downFor: 0 }, { at: 0, kill: 'thread', thread: 0 }]), { saleOpensAtEpochMs: Date.now(), context: {} }).done;
    expect(records.map((r) => [r.status, r.problem])).toEqual([
      ['failed', 'kill service: no built-in service process to kill (the target is not the built-in service)'],
      ['failed', 'kill thread 0: this service offers no way to crash one of its threads'],
    ]);
  });
});
