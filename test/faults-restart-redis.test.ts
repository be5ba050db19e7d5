// `{ "restart": "redis" }` on `run --service-processes 2 --stock-store redis-server` (#15 on #14): the
// run's own redis-server killed with SIGKILL mid-sale and started again empty; the processes answer 503,
// rebuild the stock from the ledger, and the audit proves nothing acknowledged was lost and nothing
// oversold. Refused before any load on a redis:// URL (the machine's shared Redis is never killed) and
// without --service-processes.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flashsale } from './helpers/cli.ts';
import { expectPassedUnlessBusy, type SummaryLike } from './helpers/passed.ts';
import { postgresAvailable, redisAvailable, requireOrSkip } from './helpers/servers.ts';
import { redisServerInstalled } from './helpers/private-redis.ts';
import { FAULT_THRESHOLDS, processesWith, readRun, schemaExists, storesFlags, storesScenario } from './helpers/stores-run.ts';

const redis = await redisAvailable();
const postgres = await postgresAvailable();
const redisServer = redisServerInstalled();
requireOrSkip('Redis', redis);
requireOrSkip('PostgreSQL', postgres);
requireOrSkip('redis-server', redisServer);

const dir = mkdtempSync(join(tmpdir(), 'flashsale-restart-redis-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RESTART = { at: '1s', restart: 'redis', downFor: '500ms' };

describe('restart redis: refused before any load (exit 2)', () => {
  it('on a redis:// URL: the machine\'s shared Redis is never killed', async () => {
    const out = join(dir, 'shared');
    const run = await flashsale('run', storesScenario(dir, 'shared', { stock: 10, faults: [RESTART] }), '-o', out, ...storesFlags(2));
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/faults\[0\]\.restart: "redis" kills Redis, and this run's Redis is a redis:\/\/ URL that other programs may share: only a redis-server the run starts itself may be killed \(--stock-store redis-server\)/);
    expect(existsSync(join(out, 'result.json'))).toBe(false);
  });

  it('without --service-processes', async () => {
    const run = await flashsale('run', storesScenario(dir, 'in-process', { stock: 10, faults: [RESTART] }), '-o', join(dir, 'in-process'));
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/faults\[0\]\.restart: "redis" restarts the Redis of the service on the shared stores, and this run has none/);
  });

  it('an unknown restart target is a scenario error naming the field', async () => {
    const run = await flashsale('run', storesScenario(dir, 'memcached', { stock: 10, faults: [{ ...RESTART, restart: 'memcached' }] }), '-o', join(dir, 'memcached'), ...storesFlags(2, 'redis-server'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/faults\[0\]\.restart: /);
  });
});

describe.skipIf(!(postgres.ok && redisServer.ok))('restart redis on run --service-processes 2 --stock-store redis-server', () => {
  it('the run\'s redis-server killed and started empty mid-sale: 503s, a rebuild from the ledger, nothing lost, nothing oversold', { timeout: 180_000 }, async () => {
    const STOCK = 300;
    const out = join(dir, 'restart');
    const run = await flashsale('run', storesScenario(dir, 'restart-redis', { stock: STOCK, seconds: 4, faults: [RESTART], thresholds: FAULT_THRESHOLDS }), '-o', out, '--json', ...storesFlags(2, 'redis-server'));
    const result = readRun(out);
    expectPassedUnlessBusy(JSON.parse(run.stdout) as SummaryLike, run.code);
    const [fault] = result.faults!;
    expect(fault, JSON.stringify(fault)).toMatchObject({ kind: 'restart-redis', status: 'healed', problem: null });
    expect(fault.hitMs!).toBeGreaterThanOrEqual(999);
    expect(fault.healedMs!).toBeGreaterThan(fault.hitMs!);
    expect(fault.detail.restartedPid).not.toBe(fault.detail.pid);
    expect(fault.impact!.errors, 'the restart was felt').toBeGreaterThan(0);
    expect(run.stderr).toMatch(/stock_rebuilt: stock epoch \d+ rebuilt from the ledger/);
    expect(result.audit!.passed, JSON.stringify(result.audit!.checks.filter((c) => !c.passed && !c.skipped))).toBe(true);
    expect(result.audit!.lostOrders).toBe(0);
    expect(result.stock.sold).toBeLessThanOrEqual(STOCK);
    expect(result.stock.ledger).toBe(result.stock.sold);
    const s = result.target.stores!;
    expect(s.ownRedis).toBe(true);
    expect(await schemaExists(s.schema)).toBe(false);
    expect(processesWith(s.schema)).toEqual([]);
    const port = /127\.0\.0\.1:(\d+)/.exec(s.stockStore)![1]; // the record names the own server's URL
    expect(processesWith('redis-server', `:${port}`), 'the run\'s redis-server was stopped').toEqual([]);
  });
});
