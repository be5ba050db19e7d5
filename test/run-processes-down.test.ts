// `run --service-processes N` when the target dies (#14): every process ended, none inside a kill fault
// that will restart it. The judge fails such a run as it fails a dead target (thresholds_crossed, exit
// 99, the reason first), whatever the shortened load measured; Ctrl-C first stays interrupted and a
// broken audit still outranks it. On the real stores: kill -9 of every process mid-run stops the crowd
// at once (well before its 25 s schedule), says why, writes result.json with each process's end, and
// the audit still runs on what PostgreSQL holds; one process killed by a fault, down while it is the
// only one, is not a dead target (the fault restarts it) and the crowd runs its schedule. The summary
// gives each process in a few words.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judge, type JudgeInput } from '../src/judge/judge.ts';
import type { LoadResult } from '../src/contract/result.ts';
import { buildLoadResult, fakeEvents, fakeRunResult } from './helpers/fake-result.ts';
import { formatSummary } from '../src/report/summary.ts';
import { spawnFlashsale, flashsale } from './helpers/cli.ts';
import { postgresAvailable, redisAvailable, requireOrSkip } from './helpers/servers.ts';
import { FAULT_THRESHOLDS, processesWith, readRun, schemaExists, schemaFromOutput, storesFlags, storesScenario, storesScratch } from './helpers/stores-run.ts';

const base = buildLoadResult(fakeEvents({ seed: 21, buyers: 1500, stock: 400, journey: 'checkout', errorRate: 0, declineRate: 0 }));
const DOWN = 'every service process had ended, none restarting: process 0 (pid 7) SIGKILL 1.1 s into the load';

function judged(over: Partial<LoadResult>, input: Partial<JudgeInput> = {}) {
  const load = { ...structuredClone(base), ...over };
  const sold = load.orders.reduce((n, o) => n + o.qty, 0);
  return judge({
    load,
    initialUnits: 400,
    audit: { inputs: { inventory: [{ sku: 'redmi-1s', initial: 400, available: 400 - sold, reserved: 0, sold }], ledgerOrders: load.orders, unavailable: {} }, perUserLimit: 1, initialStock: new Map([['redmi-1s', 400]]) },
    thresholds: {},
    ...input,
  });
}

describe('the verdict of a run whose target died', () => {
  it('fails as a dead target does, the reason first, even when every threshold held', () => {
    const j = judged({ stopReason: 'target_down' }, { targetDown: DOWN });
    expect(j.thresholds.every((t) => t.status === 'passed')).toBe(true);
    expect(j.verdict).toEqual({ status: 'thresholds_crossed', passed: false, exitCode: 99, reasons: [`target: ${DOWN}`] });
  });

  it('a merged run that stopped for it, without the detail, still fails, saying so', () => {
    expect(judged({ stopReason: 'target_down' }).verdict).toMatchObject({ status: 'thresholds_crossed', exitCode: 99, reasons: ['target: the target went down during the load and the crowd was stopped early'] });
  });

  it('Ctrl-C first stays interrupted (105); a broken audit still outranks it (3)', () => {
    expect(judged({ stopReason: 'interrupted' }, { targetDown: DOWN }).verdict).toMatchObject({ status: 'interrupted', exitCode: 105 });
    const lost = base.orders.slice(1);
    const j = judged({ stopReason: 'target_down' }, { targetDown: DOWN, audit: { inputs: { inventory: null, ledgerOrders: lost, unavailable: { inventory: 'GET failed' } }, perUserLimit: 1, initialStock: new Map([['redmi-1s', 400]]) } });
    expect(j.verdict).toMatchObject({ status: 'audit_failed', exitCode: 3 });
    expect(j.verdict.reasons).toContainEqual(`target: ${DOWN}`);
  });
});

describe('the summary on the stores', () => {
  it('says each process in a few words: what it answered, restarts, deaths, troubles', () => {
    const route = (answered: number, ok: number) => ({ answered, ok, unavailable: answered - ok });
    const served = (ok: number) => ({ atMs: 900, checkout: route(ok + 2, ok), reserve: route(0, 0), pay: route(0, 0), unavailable: 2, storeErrors: { redis: 0, postgres: 0 } });
    const life = (pid: number, by: 'run' | 'fault' | 'unasked', ok: number) => ({ pid, startedBy: 'run' as const, startedMs: -3000, readyMs: -1000, ended: { atMs: 1000, by, code: null, signal: 'SIGKILL' }, served: served(ok) });
    const result = fakeRunResult();
    result.target.stores = {
      processes: 2, threadsPerProcess: 1, stockStore: 'redis://127.0.0.1:6379', ownRedis: false, ledger: 'postgres://x', schema: 's', prefix: 'p', kept: false,
      perProcess: [
        { index: 0, port: 1, lives: [life(1, 'fault', 10), { ...life(2, 'run', 1000), startedBy: 'fault' }], restartsByFaults: 1, troubles: [] },
        { index: 1, port: 1, lives: [life(3, 'unasked', 5)], restartsByFaults: 0, troubles: [{ atMs: 500, pid: 3, kind: 'threads_down', detail: '0 of 1 HTTP threads serving' }, { atMs: 600, pid: 3, kind: 'healthy_again', detail: 'healthy again' }] },
      ],
    };
    expect(formatSummary(result)).toMatch(/processes\.+: #0 1,014 answered \(1,010 ok\), restarted 1×; #1 7 answered \(5 ok\), died 1×, 1 trouble\(s\)\n/);
  });
});

const redis = await redisAvailable();
const postgres = await postgresAvailable();
requireOrSkip('Redis', redis);
requireOrSkip('PostgreSQL', postgres);
const stores = redis.ok && postgres.ok;

const { dir, leftSchemas } = storesScratch('processes-down');

/** Waits (bounded) until `test` holds on what the run wrote to stderr. */
async function until(stderr: () => string, test: RegExp): Promise<void> {
  for (let i = 0; i < 600 && !test.test(stderr()); i++) await new Promise((r) => setTimeout(r, 100));
  expect(stderr()).toMatch(test);
}

describe.skipIf(!stores)('run --service-processes 2: every process killed mid-run', () => {
  it('stops the crowd at once, says why, writes the result with each process\'s end, fails the verdict (exit 99), audits what PostgreSQL holds', { timeout: 120_000 }, async () => {
    const SCHEDULE_MS = 25_000;
    const out = join(dir, 'all-killed');
    const run = spawnFlashsale(['run', storesScenario(dir, 'all-killed', { stock: 100_000, seconds: SCHEDULE_MS / 1000 }), '-o', out, ...storesFlags(2)]);
    await until(run.stderr, /→ http:/);
    const schema = schemaFromOutput(run.stderr());
    expect(schema, run.stderr()).not.toBeNull();
    leftSchemas.push(schema!);
    await until(run.stderr, /\s[1-9]\d* ok\b/); // some orders acknowledged: the load is going
    const victims = processesWith(schema!);
    expect(victims.length, 'two service processes run').toBe(2);
    const killedAt = Date.now();
    for (const pid of victims) process.kill(pid, 'SIGKILL');
    const done = await run.done;
    const tookMs = Date.now() - killedAt;
    expect(done.code, done.stderr).toBe(99);
    expect(tookMs, 'the run ended well before its schedule would have').toBeLessThan(SCHEDULE_MS / 2);
    expect(done.stderr).toMatch(/every service process had ended, none restarting: process 0 \(pid \d+\) SIGKILL [\d.]+ s into the load, process 1 \(pid \d+\) SIGKILL [\d.]+ s into the load: the target is dead, so the crowd stops now/);
    const result = readRun(out);
    expect(result.stopReason).toBe('target_down');
    expect(result.durationMs).toBeLessThan(SCHEDULE_MS / 2);
    expect(result.verdict).toMatchObject({ status: 'thresholds_crossed', passed: false, exitCode: 99 });
    expect(result.verdict.reasons[0]).toMatch(/^target: every service process had ended, none restarting: process 0 \(pid \d+\) SIGKILL/);
    const s = result.target.stores!;
    expect(s.allDown).toMatchObject({ crowdStopped: true });
    expect(s.allDown!.atMs).toBeGreaterThan(0);
    expect(s.perProcess!.map((p) => p.lives.map((l) => [l.ended?.by, l.ended?.signal]))).toEqual([[['unasked', 'SIGKILL']], [['unasked', 'SIGKILL']]]);
    expect(s.perProcess!.flatMap((p) => p.lives.map((l) => l.pid)).sort()).toEqual([...victims].sort());
    for (const p of s.perProcess!) expect(p.lives[0].ended!.atMs).toBeLessThanOrEqual(s.allDown!.atMs);
    // Nothing recorded is lost: the audit ran on the ledger as PostgreSQL holds it.
    expect(result.audit!.lostOrders).toBe(0);
    expect(result.audit!.checks.find((c) => c.id === 'acked_orders_in_ledger')).toMatchObject({ passed: true, skipped: false });
    expect(result.stock.ledger).toBeGreaterThanOrEqual(result.stock.acknowledged);
    expect(processesWith(schema!)).toEqual([]);
    expect(await schemaExists(schema!)).toBe(false);
  });
});

describe.skipIf(!stores)('run --service-processes 1: its only process killed by a fault', () => {
  it('is not a dead target: the fault restarts it, the crowd runs its schedule, the record has both pids', { timeout: 180_000 }, async () => {
    const out = join(dir, 'fault-only');
    const kill = { at: '1s', kill: 'service-process', process: 0, downFor: '500ms' };
    const run = await flashsale('run', storesScenario(dir, 'fault-only', { stock: 300, seconds: 3, faults: [kill], thresholds: FAULT_THRESHOLDS }), '-o', out, '--json', ...storesFlags(1));
    const result = readRun(out);
    leftSchemas.push(result.target.stores!.schema);
    expect(run.stderr).not.toMatch(/the target is dead/);
    expect(result.stopReason).not.toBe('target_down');
    expect(result.durationMs, 'the crowd ran its 3 s schedule').toBeGreaterThanOrEqual(3000);
    expect(result.verdict.reasons.filter((r) => r.startsWith('target:'))).toEqual([]);
    const s = result.target.stores!;
    expect(s.allDown).toBeUndefined();
    const [p] = s.perProcess!;
    expect(p).toMatchObject({ index: 0, restartsByFaults: 1 });
    expect(p.lives.map((l) => [l.startedBy, l.ended?.by])).toEqual([['run', 'fault'], ['fault', 'run']]);
    expect(p.lives[1].pid).not.toBe(p.lives[0].pid);
    expect(p.lives[1].startedMs).toBeGreaterThanOrEqual(p.lives[0].ended!.atMs);
    expect(p.lives[1].ended).toMatchObject({ code: 0, signal: null });
    expect(result.audit!.lostOrders).toBe(0);
  });
});
