// `{ "kill": "thread" }` in a real `flashsale run` (#15): one HTTP thread of the built-in service (run as
// its own process because the scenario has faults) is crashed mid-sale over its IPC hook; the supervisor
// restarts it, the crowd goes on, and the audit proves nothing acknowledged was lost and nothing sold twice.
// The kind's scheduling against a hand-started service: test/faults-service-process.test.ts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flashsale } from './helpers/cli.ts';
import { expectPassedUnlessBusy, type SummaryLike } from './helpers/passed.ts';
import { faultScenario } from './helpers/fault-scenario.ts';
import type { RunResult } from '../src/contract/result.ts';

const dir = mkdtempSync(join(tmpdir(), 'flashsale-kill-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('flashsale run with a thread killed mid-sale', () => {
  it('crashes HTTP thread 1 at 700 ms: restarted, every acknowledged order in the ledger, the run passes', { timeout: 90_000 }, async () => {
    const path = faultScenario(dir, 'kill-thread', [{ at: '700ms', kill: 'thread', thread: 1 }], { seconds: 3, seed: 16 });
    const out = join(dir, 'out');
    const run = await flashsale('run', path, '-o', out, '--json', '--service-threads', '2');
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as RunResult; // written by the run under test
    const [fault] = result.faults!;
    expect(fault).toMatchObject({ kind: 'kill-thread', status: 'healed', problem: null, detail: { thread: 1 } });
    expect(fault.hitMs!).toBeGreaterThanOrEqual(699);
    expect(result.audit!.passed, JSON.stringify(result.audit!.checks.filter((c) => !c.passed && !c.skipped))).toBe(true);
    expect(result.audit!.lostOrders).toBe(0);
    expect(result.audit!.checks.find((c) => c.id === 'acked_orders_in_ledger')).toMatchObject({ passed: true, skipped: false });
    expect(result.stock.sold).toBeLessThanOrEqual(300);
    expect(result.stock.ledger).toBe(result.stock.sold);
    expect(result.orders.length).toBeGreaterThan(0);
    expectPassedUnlessBusy(JSON.parse(run.stdout) as SummaryLike, run.code);
  });
});
