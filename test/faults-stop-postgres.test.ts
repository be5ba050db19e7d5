// `{ "stop": "postgres" }` on `run --service-processes 2` (#15 on #14): the processes cut off from
// PostgreSQL for a second through the run's TCP gate (the real server keeps running for everyone else);
// they answer 503 ledger_unavailable, never a 201 the ledger lacks, rebuild once it is back, and the audit
// proves nothing acknowledged was lost and nothing oversold. Refused before any load without
// --service-processes.
import { mkdtempSync, rmSync } from 'node:fs';
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

const dir = mkdtempSync(join(tmpdir(), 'flashsale-stop-postgres-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STOP = { at: '1s', stop: 'postgres', downFor: '1s' };

describe('stop postgres: refused before any load (exit 2)', () => {
  it('without --service-processes', async () => {
    const run = await flashsale('run', storesScenario(dir, 'in-process', { stock: 10, faults: [STOP] }), '-o', join(dir, 'in-process'));
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/faults\[0\]\.stop: "postgres" cuts the service on the shared stores off from its ledger, and this run has none/);
  });

  it('two cuts at once are refused: faults on PostgreSQL run one after the other', async () => {
    const run = await flashsale('run', storesScenario(dir, 'overlap', { stock: 10, faults: [STOP, { ...STOP, at: '1500ms' }] }), '-o', join(dir, 'overlap'), ...storesFlags(2));
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/faults\[1\]\.at: 1500ms falls while faults\[0\] .* still holds the postgres/);
  });
});

describe.skipIf(!(redis.ok && postgres.ok))('stop postgres on run --service-processes 2', () => {
  it('PostgreSQL cut off for a second mid-sale: 503 ledger_unavailable, nothing lost, nothing oversold', { timeout: 180_000 }, async () => {
    const STOCK = 300;
    const out = join(dir, 'stop');
    const run = await flashsale('run', storesScenario(dir, 'stop-postgres', { stock: STOCK, seconds: 4, faults: [STOP], thresholds: FAULT_THRESHOLDS }), '-o', out, '--json', ...storesFlags(2));
    const result = readRun(out);
    expectPassedUnlessBusy(JSON.parse(run.stdout) as SummaryLike, run.code);
    const [fault] = result.faults!;
    expect(fault, JSON.stringify(fault)).toMatchObject({ kind: 'stop-postgres', status: 'healed', problem: null });
    expect(fault.hitMs!).toBeGreaterThanOrEqual(999);
    expect(fault.healedMs! - fault.hitMs!).toBeGreaterThanOrEqual(990);
    expect(fault.impact!.errors, 'the cut was felt').toBeGreaterThan(0);
    expect(run.stderr).toMatch(/ledger_unavailable|cannot open the ledger/);
    expect(result.audit!.passed, JSON.stringify(result.audit!.checks.filter((c) => !c.passed && !c.skipped))).toBe(true);
    expect(result.audit!.lostOrders).toBe(0);
    expect(result.stock.sold).toBeLessThanOrEqual(STOCK);
    expect(result.stock.ledger).toBe(result.stock.sold);
    const s = result.target.stores!;
    expect(await schemaExists(s.schema), 'dropped through the real server, not the gate').toBe(false);
    expect(processesWith(s.schema)).toEqual([]);
  });
});
