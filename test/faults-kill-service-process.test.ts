// `{ "kill": "service-process", "process": 1 }` on `run --service-processes 2` (#15 on #14): SIGKILL one
// of the two processes mid-sale, restart it beside the other with --rebuild-stock; the audit proves no
// acknowledged order was lost and nothing oversold across the kill and the rebuild. And the refusals,
// before any load: this kind without --service-processes or with a process the run does not have, and
// the in-process kinds (kill service, kill thread) on the stores.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flashsale } from './helpers/cli.ts';
import { expectPassedUnlessBusy, type SummaryLike } from './helpers/passed.ts';
import { postgresAvailable, redisAvailable, requireOrSkip } from './helpers/servers.ts';
import { FAULT_THRESHOLDS, processesWith, readRun, schemaExists, storesFlags, storesScenario } from './helpers/stores-run.ts';

const redis = await redisAvailable();
const postgres = await postgresAvailable();
requireOrSkip('Redis', redis);
requireOrSkip('PostgreSQL', postgres);

const dir = mkdtempSync(join(tmpdir(), 'flashsale-kill-process-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KILL = { at: '1s', kill: 'service-process', process: 1, downFor: '1s' };

describe('kill service-process: refused before any load (exit 2)', () => {
  const cases: Array<[string, unknown, string[], RegExp]> = [
    ['without --service-processes', KILL, [], /faults\[0\]\.kill: "service-process" kills one of the service's processes on the shared stores, and this run has none/],
    ['a process the run does not have', { ...KILL, process: 2 }, storesFlags(2), /faults\[0\]\.process: the run has 2 service process\(es\), numbered 0 to 1/],
    ['kill service on the stores', { at: '1s', kill: 'service', downFor: '1s' }, storesFlags(2), /faults\[0\]\.kill: "service" kills the one built-in service on its SQLite ledger, and this run's service is 2 processes on the shared stores/],
    ['kill thread on the stores', { at: '1s', kill: 'thread', thread: 0 }, storesFlags(2), /faults\[0\]\.kill: "thread" crashes a thread of the in-process service through its supervisor/],
  ];
  for (const [what, fault, flags, message] of cases) {
    it(what, async () => {
      const out = join(dir, `refused-${what.replaceAll(/\W+/g, '-')}`);
      const run = await flashsale('run', storesScenario(dir, 'refused', { stock: 10, faults: [fault] }), '-o', out, ...flags);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(existsSync(join(out, 'result.json')), 'no load was sent').toBe(false);
    });
  }

  it('a process index that is not a whole number is a scenario error naming the field', async () => {
    const run = await flashsale('run', storesScenario(dir, 'bad-index', { stock: 10, faults: [{ ...KILL, process: -1 }] }), '-o', join(dir, 'bad-index'), ...storesFlags(2));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/faults\[0\]\.process: /);
  });
});

describe.skipIf(!(redis.ok && postgres.ok))('kill service-process on run --service-processes 2', () => {
  it('process 1 killed with SIGKILL mid-sale and restarted with --rebuild-stock: nothing acknowledged lost, nothing oversold', { timeout: 180_000 }, async () => {
    const STOCK = 300;
    const out = join(dir, 'kill');
    const run = await flashsale('run', storesScenario(dir, 'kill-process', { stock: STOCK, seconds: 5, faults: [KILL], thresholds: FAULT_THRESHOLDS }), '-o', out, '--json', ...storesFlags(2));
    const result = readRun(out);
    expectPassedUnlessBusy(JSON.parse(run.stdout) as SummaryLike, run.code);
    const [fault] = result.faults!;
    expect(fault, JSON.stringify(fault)).toMatchObject({ kind: 'kill-service-process', status: 'healed', problem: null });
    expect(fault.hitMs!).toBeGreaterThanOrEqual(999);
    expect(fault.healedMs!).toBeGreaterThan(fault.hitMs!);
    expect(fault.detail).toMatchObject({ process: 1, exit: 'SIGKILL' });
    expect(fault.detail.restartedPid).not.toBe(fault.detail.pid);
    expect(run.stderr).toMatch(/service process 1: rebuilding the stock from the ledger: --rebuild-stock/);
    expect(result.audit!.passed, JSON.stringify(result.audit!.checks.filter((c) => !c.passed && !c.skipped))).toBe(true);
    expect(result.audit!.lostOrders).toBe(0);
    expect(result.stock.sold).toBeLessThanOrEqual(STOCK);
    expect(result.stock.ledger).toBe(result.stock.sold);
    expect(result.warnings ?? [], 'the killed process is not reported as an unexpected exit').not.toContainEqual(expect.stringMatching(/ended without being asked/));
    const s = result.target.stores!;
    // The record of each process: process 1's first pid killed by the fault, its second started by it.
    expect(s.allDown).toBeUndefined();
    expect(s.perProcess!.map((p) => [p.restartsByFaults, p.lives.map((l) => [l.pid, l.startedBy, l.ended?.by])])).toEqual([
      [0, [[expect.any(Number), 'run', 'run']]],
      [1, [[fault.detail.pid, 'run', 'fault'], [fault.detail.restartedPid, 'fault', 'run']]],
    ]);
    expect(s.perProcess![1].lives[0].ended).toMatchObject({ signal: 'SIGKILL' });
    expect(await schemaExists(s.schema)).toBe(false);
    expect(processesWith(s.schema), 'the restarted process was stopped too').toEqual([]);
  });
});
