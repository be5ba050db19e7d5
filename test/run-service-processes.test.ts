// `flashsale run --service-processes N --stock-store … --ledger postgres://…` (#14): the built-in service
// as N serve processes behind one URL on the real Redis and PostgreSQL. Two processes sell exactly the
// stock and the audit passes — checked against the ledger read straight from PostgreSQL; the run's schema
// and keys are dropped (or kept and named with --keep-stores); no process outlives the run, also after
// Ctrl-C (once: the run drains and cleans up; twice: the exit hook kills what it started); every wrong
// combination of flags is refused with exit 2 before any load is sent. A reserve-pay crowd buys through
// reservations held in Redis and paid on whichever process the kernel hands the connection.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flashsale, flashsaleWith, spawnFlashsale } from './helpers/cli.ts';
import { expectPassedUnlessGeneratorLate, type SummaryLike } from './helpers/passed.ts';
import { postgresAvailable, POSTGRES_URL, redisAvailable, REDIS_URL, requireOrSkip } from './helpers/servers.ts';
import { redisServerInstalled } from './helpers/private-redis.ts';
import { ledgerRows, ownRedisPort, processesWith, readRun, schemaExists, schemaFromOutput, storesFlags, storesScenario, storesScratch } from './helpers/stores-run.ts';
import { connectRedis } from '../src/stores/redis/link.ts';
import { withDirectLedger } from '../src/run/run-scenario.ts';
import type { ServiceCluster } from '../src/run/service-processes.ts';

const redis = await redisAvailable();
const postgres = await postgresAvailable();
const redisServer = redisServerInstalled();
requireOrSkip('Redis', redis);
requireOrSkip('PostgreSQL', postgres);
requireOrSkip('redis-server', redisServer);
const stores = redis.ok && postgres.ok;

const { dir, leftSchemas } = storesScratch('run-processes');

async function redisKeysUnder(prefix: string): Promise<number> {
  const link = await connectRedis(REDIS_URL);
  try {
    const [, keys] = (await link.call(['SCAN', '0', 'MATCH', `${prefix}:*`, 'COUNT', 100000])) as [string, string[]]; // SCAN answers [cursor, keys]
    return keys.length;
  } finally {
    await link.close();
  }
}

/** Polls until no live process has `needle` in its argv (a SIGKILL is delivered asynchronously). */
async function noneLeft(...needles: string[]): Promise<number[]> {
  for (let i = 0; i < 50; i++) {
    const left = processesWith(...needles);
    if (left.length === 0) return [];
    await new Promise((r) => setTimeout(r, 100));
  }
  return processesWith(...needles);
}

describe('the audit on the stores reads the ledger from PostgreSQL, not from a process', () => {
  const order = (orderId: string) => ({ orderId, sku: 'phone', userId: `u-${orderId}`, qty: 1 });
  const cluster = (read: () => Promise<ReturnType<typeof order>[]>) => ({ readLedger: read }) as unknown as ServiceCluster; // only readLedger is used
  const served = { inventory: [], ledgerOrders: [order('a'), order('b'), order('ghost')], unavailable: {} };

  it('uses what PostgreSQL holds, and says so when GET /admin/orders answered otherwise', async () => {
    const warnings: string[] = [];
    const inputs = await withDirectLedger(served, cluster(async () => [order('a'), order('b')]), warnings);
    expect(inputs.ledgerOrders!.map((o) => o.orderId)).toEqual(['a', 'b']);
    expect(warnings).toEqual(['GET /admin/orders answered 3 orders (1 not in PostgreSQL), and PostgreSQL holds 2: the audit used PostgreSQL']);
  });

  it('says nothing when they agree; uses the served ledger, with a warning, when PostgreSQL cannot be read', async () => {
    const quiet: string[] = [];
    await withDirectLedger(served, cluster(async () => served.ledgerOrders), quiet);
    expect(quiet).toEqual([]);
    const warnings: string[] = [];
    const inputs = await withDirectLedger(served, cluster(async () => { throw new Error('connection refused'); }), warnings);
    expect(inputs.ledgerOrders).toBe(served.ledgerOrders);
    expect(warnings).toEqual(["the ledger could not be read from PostgreSQL directly (connection refused): the audit used the service's GET /admin/orders"]);
  });
});

describe('run --service-processes: usage refused before any load (exit 2)', () => {
  const sale = storesScenario(dir, 'usage', { stock: 10 });
  const cases: Array<[string, string[], RegExp]> = [
    ['without the stores', ['--service-processes', '2'], /--service-processes N needs the shared stores: --stock-store/],
    ['with --target', [...storesFlags(2), '--target', 'http://127.0.0.1:9'], /--service-processes .* and --target .*give one, not both/],
    ['N < 1', [...storesFlags(0)], /--service-processes <n>' argument '0' is invalid. 0 is below the minimum of 1/],
    ['N absurd', [...storesFlags(1000)], /--service-processes <n>' argument '1000' is invalid. 1000 is above the maximum of 32/],
    ['stores without --service-processes', ['--stock-store', REDIS_URL, '--ledger', POSTGRES_URL], /--stock-store, --ledger, --stock-strategy and --keep-stores belong to --service-processes N/],
    ['a bad Redis URL', [...storesFlags(2, 'redis://127.0.0.1:6379/99')], /--stock-store .*database "99" is not a number in 0\.\.15/],
    ['a ledger that is not PostgreSQL', ['--service-processes', '2', '--stock-store', REDIS_URL, '--ledger', 'ledger.db'], /--ledger "ledger.db" is not a URL/],
    ['--stock-strategy without --service-processes', ['--stock-strategy', 'redis-leased'], /--stock-store, --ledger, --stock-strategy and --keep-stores belong to --service-processes N/],
    ['--stock-strategy without the stores', ['--service-processes', '2', '--stock-strategy', 'redis-leased'], /--service-processes N needs the shared stores: --stock-store/],
    ['an unknown --stock-strategy', [...storesFlags(2), '--stock-strategy', 'redis-magic'], /--stock-strategy "redis-magic": expected one of redis-lua, redis-leased/],
  ];
  for (const [what, flags, message] of cases) {
    it(what, async () => {
      const out = join(dir, `usage-${what.replaceAll(/\W+/g, '-')}`);
      const run = await flashsale('run', sale, '-o', out, ...flags);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/);
      expect(existsSync(join(out, 'result.json')), 'no load was sent').toBe(false);
    });
  }

  it("a scenario whose target.url sends the load elsewhere", async () => {
    const path = join(dir, 'foreign.json');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(sale, 'utf8')), target: { url: 'http://127.0.0.1:9' } }));
    const run = await flashsale('run', path, '-o', join(dir, 'foreign'), ...storesFlags(2));
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/--service-processes starts the built-in service on the shared stores, and the load would go to the scenario's target.url http:\/\/127\.0\.0\.1:9: give one, not both/);
  });

  it.skipIf(!postgres.ok)('an unreachable Redis', async () => {
    const run = await flashsale('run', sale, '-o', join(dir, 'no-redis'), ...storesFlags(2, 'redis://127.0.0.1:1'));
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/--stock-store redis:\/\/127\.0\.0\.1:1: cannot reach Redis .*no load was sent/);
    expect(existsSync(join(dir, 'no-redis', 'result.json'))).toBe(false);
  });

  it('an unreachable PostgreSQL', async () => {
    const run = await flashsale('run', sale, '-o', join(dir, 'no-pg'), '--service-processes', '2', '--stock-store', REDIS_URL, '--ledger', 'postgres://postgres:secret@127.0.0.1:1/test');
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/--ledger postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test: cannot reach PostgreSQL .*no load was sent/);
    expect(run.stderr, 'the password is never printed').not.toMatch(/secret/);
  });

  it.skipIf(!postgres.ok)('redis-server asked for and missing', async () => {
    const run = await flashsaleWith({ env: { REDIS_SERVER_BIN: join(dir, 'no-such-redis-server') } }, 'run', sale, '-o', join(dir, 'no-bin'), ...storesFlags(2, 'redis-server'));
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/--stock-store redis-server: REDIS_SERVER_BIN=.*no-such-redis-server did not run/);
  });
});

describe.skipIf(!stores)('run --service-processes 2 on Redis + PostgreSQL', () => {
  it('sells exactly the stock, the audit passes against the ledger read directly; --keep-stores keeps and names the schema', { timeout: 120_000 }, async () => {
    const STOCK = 120;
    const out = join(dir, 'kept');
    const run = await flashsale('run', storesScenario(dir, 'two-processes', { stock: STOCK, seconds: 3 }), '-o', out, '--json', '--keep-stores', ...storesFlags(2));
    const result = readRun(out);
    const s = result.target.stores!;
    leftSchemas.push(s.schema);
    expectPassedUnlessGeneratorLate(JSON.parse(run.stdout) as SummaryLike, run.code);
    expect(s).toMatchObject({ processes: 2, threadsPerProcess: 1, ownRedis: false, ledger: POSTGRES_URL, kept: true });
    expect(result.target).toMatchObject({ builtIn: true, from: 'built-in' });
    expect(run.stderr).toMatch(new RegExp(`stores kept \\(--keep-stores\\): PostgreSQL schema ${s.schema}`));
    // The audit's figures are the shared totals: the ledger as PostgreSQL holds it, not as a process says.
    const rows = await ledgerRows(s.schema);
    expect(rows.length).toBe(STOCK);
    expect(new Set(rows.map((r) => r.user_id)).size, 'one unit per user').toBe(STOCK);
    expect(result.stock).toMatchObject({ initial: STOCK, sold: STOCK, ledger: STOCK, acknowledged: STOCK, soldFrom: 'inventory' });
    const ids = new Set(rows.map((r) => r.order_id));
    expect(result.orders.filter((o) => !ids.has(o.orderId)), 'every acknowledged order is in PostgreSQL').toEqual([]);
    for (const id of ['acked_orders_in_ledger', 'inventory_matches_ledger', 'sold_within_stock'] as const) {
      expect(result.audit!.checks.find((c) => c.id === id), id).toMatchObject({ passed: true, skipped: false });
    }
    expect(await schemaExists(s.schema)).toBe(true);
    expect(processesWith(s.schema), 'no service process outlives the run').toEqual([]);
    expect(result.warnings ?? [], 'the service\'s ledger and PostgreSQL agree').toEqual([]);
    // Each process's part: one life, started before the load, stopped by the run at its end (exit 0),
    // no trouble; what each served adds up to the sale (every unit a 201 on some process).
    const port = Number(new URL(result.target.url).port);
    expect(s.allDown).toBeUndefined();
    expect(s.perProcess!.map((p) => [p.index, p.port, p.restartsByFaults, p.troubles, p.lives.length])).toEqual([[0, port, 0, [], 1], [1, port, 0, [], 1]]);
    for (const { lives: [life] } of s.perProcess!) {
      expect(life).toMatchObject({ startedBy: 'run', ended: { by: 'run', code: 0, signal: null } });
      expect(life.startedMs).toBeLessThan(life.readyMs);
      expect(life.readyMs).toBeLessThan(0);
      expect(life.ended!.atMs).toBeGreaterThan(0);
      expect(life.served, 'a last health answer, after the load').not.toBeNull();
      expect(life.served!.atMs).toBeLessThanOrEqual(life.ended!.atMs);
      expect(life.served!.storeErrors).toEqual({ redis: 0, postgres: 0 });
    }
    const served = s.perProcess!.map((p) => p.lives[0].served!);
    // (a keyed retry answered again counts twice on the processes, once for the crowd)
    expect(served.reduce((n, x) => n + x.checkout.ok, 0), 'the 201s of both processes cover the units sold').toBeGreaterThanOrEqual(STOCK);
    expect(served.reduce((n, x) => n + x.checkout.answered, 0), 'every checkout answered, on one process or the other').toBeGreaterThanOrEqual(result.counts.requestsAnswered);
    expect(served.every((x) => x.checkout.ok > 0), 'the kernel spread the crowd over both').toBe(true);
  });

  // Both strategies: on redis-leased a reservation's units leave the process's lease for a hold in Redis.
  for (const strategy of ['redis-lua', 'redis-leased'] as const) {
    it(`a reserve-pay crowd on ${strategy}: reservations made and paid across the processes, each paid one in PostgreSQL, never above the stock`, { timeout: 120_000 }, async () => {
      const STOCK = 40;
      const out = join(dir, `reserve-pay-${strategy}`);
      const run = await flashsale('run', storesScenario(dir, `reserve-pay-${strategy}`, { stock: STOCK, seconds: 2, journey: 'reserve-pay' }), '-o', out, '--json', '--keep-stores', ...storesFlags(2), '--stock-strategy', strategy);
      const result = readRun(out);
      const s = result.target.stores!;
      leftSchemas.push(s.schema);
      expect(s.strategy).toBe(strategy);
      expectPassedUnlessGeneratorLate(JSON.parse(run.stdout) as SummaryLike, run.code);
      const rows = await ledgerRows(s.schema);
      expect(rows.length).toBe(result.stock.acknowledged);
      expect(result.stock.sold).toBeLessThanOrEqual(STOCK);
      const ids = new Set(rows.map((r) => r.order_id));
      expect(result.orders.filter((o) => !ids.has(o.orderId)), 'every paid order is in PostgreSQL').toEqual([]);
      for (const id of ['acked_orders_in_ledger', 'sold_within_stock', 'stock_conserved'] as const) {
        expect(result.audit!.checks.find((c) => c.id === id), id).toMatchObject({ passed: true, skipped: false });
      }
    });
  }

  it('--stock-strategy redis-leased: every process sells from leases; a checkout crowd sells exactly the stock, the audit passes', { timeout: 120_000 }, async () => {
    const STOCK = 120;
    const out = join(dir, 'leased');
    const run = await flashsale('run', storesScenario(dir, 'leased', { stock: STOCK, seconds: 3 }), '-o', out, '--json', '--keep-stores', ...storesFlags(2), '--stock-strategy', 'redis-leased');
    const result = readRun(out);
    const s = result.target.stores!;
    leftSchemas.push(s.schema);
    expectPassedUnlessGeneratorLate(JSON.parse(run.stdout) as SummaryLike, run.code);
    expect(s).toMatchObject({ processes: 2, strategy: 'redis-leased', kept: true });
    expect(run.stderr).toMatch(/on .* and .*, redis-leased, schema flashsale_run_/);
    // The sale was sold under redis-leased: the strategy every process registered, and its leases.
    const link = await connectRedis(REDIS_URL);
    try {
      expect(await link.call(['GET', `${s.prefix}:s1:strategy`])).toBe('redis-leased');
      const [, leaseKeys] = (await link.call(['SCAN', '0', 'MATCH', `${s.prefix}:*leases*`, 'COUNT', 100000])) as [string, string[]]; // SCAN answers [cursor, keys]
      expect(leaseKeys.length, 'lease bookkeeping in Redis').toBeGreaterThan(0);
    } finally {
      await link.close();
    }
    const rows = await ledgerRows(s.schema);
    expect(rows.length).toBe(STOCK);
    expect(new Set(rows.map((r) => r.user_id)).size, 'one unit per user').toBe(STOCK);
    expect(result.stock).toMatchObject({ initial: STOCK, sold: STOCK, ledger: STOCK, acknowledged: STOCK });
    expect(result.audit!.passed).toBe(true);
    for (const id of ['acked_orders_in_ledger', 'inventory_matches_ledger', 'sold_within_stock'] as const) {
      expect(result.audit!.checks.find((c) => c.id === id), id).toMatchObject({ passed: true, skipped: false });
    }
    expect(processesWith(s.schema), 'no service process outlives the run').toEqual([]);
  });

  it('drops its schema and keys at the end, and leaves no process', { timeout: 120_000 }, async () => {
    const out = join(dir, 'dropped');
    const run = await flashsale('run', storesScenario(dir, 'dropped', { stock: 40, seconds: 2 }), '-o', out, '--json', ...storesFlags(2));
    const s = readRun(out).target.stores!;
    expectPassedUnlessGeneratorLate(JSON.parse(run.stdout) as SummaryLike, run.code);
    expect(s.kept).toBe(false);
    expect(await schemaExists(s.schema)).toBe(false);
    expect(await redisKeysUnder(s.prefix)).toBe(0);
    expect(processesWith(s.schema)).toEqual([]);
  });
});

describe.skipIf(!stores)('run --service-processes: a process that ends unasked', () => {
  it('is named at once in the run\'s log and in the result\'s warnings, and the run still audits and stops the rest', { timeout: 120_000 }, async () => {
    const out = join(dir, 'unasked');
    const run = spawnFlashsale(['run', storesScenario(dir, 'unasked', { stock: 100_000, seconds: 4 }), '-o', out, ...storesFlags(2)]);
    for (let i = 0; i < 600 && !/→ http:/.test(run.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
    const schema = schemaFromOutput(run.stderr());
    expect(schema, run.stderr()).not.toBeNull();
    leftSchemas.push(schema!);
    const [victim] = processesWith(schema!);
    process.kill(victim, 'SIGKILL');
    const done = await run.done;
    expect(done.code, done.stderr).not.toBe(2);
    const result = readRun(out);
    expect(result.warnings ?? []).toContainEqual(expect.stringMatching(new RegExp(`service process [01] \\(pid ${victim}\\) ended without being asked \\(SIGKILL\\)`)));
    // Said at once, during the run, not only in the result (src/run/process-health.ts).
    expect(done.stderr).toMatch(new RegExp(`service process [01] \\(pid ${victim}\\) ended without being asked \\(SIGKILL\\) \\d+\\.\\d s into the load; the others go on selling`));
    expect(result.audit!.lostOrders).toBe(0);
    expect(processesWith(schema!)).toEqual([]);
    expect(await schemaExists(schema!)).toBe(false);
  });
});

describe.skipIf(!(postgres.ok && redisServer.ok))('run --service-processes: Ctrl-C leaves no process behind', () => {
  /** Starts a long run on its own redis-server; resolves once the service is up and load is going. */
  async function started(name: string) {
    const run = spawnFlashsale(['run', storesScenario(dir, name, { stock: 100_000, seconds: 25 }), '-o', join(dir, name), ...storesFlags(2, 'redis-server')]);
    for (let i = 0; i < 600 && !/→ http:/.test(run.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
    const schema = schemaFromOutput(run.stderr());
    const port = ownRedisPort(run.stderr());
    expect(schema, run.stderr()).not.toBeNull();
    leftSchemas.push(schema!);
    expect(processesWith(schema!).length, 'two service processes run').toBe(2);
    expect(processesWith('redis-server', `:${port}`).length, 'the run\'s redis-server runs').toBe(1);
    await new Promise((r) => setTimeout(r, 1000)); // some load
    return { run, schema: schema!, port: port! };
  }

  it('one Ctrl-C: the run stops the load, audits, and stops every process and drops its schema (exit 105)', { timeout: 120_000 }, async () => {
    const { run, schema, port } = await started('sigint');
    run.child.kill('SIGINT');
    const done = await run.done;
    expect(done.code, done.stderr).toBe(105);
    expect(await noneLeft(schema)).toEqual([]);
    expect(await noneLeft('redis-server', `:${port}`)).toEqual([]);
    expect(await schemaExists(schema)).toBe(false);
  });

  it('two Ctrl-C: the run quits at once, and its exit hook kills every process it started', { timeout: 120_000 }, async () => {
    const { run, schema, port } = await started('sigint-twice');
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 100));
    run.child.kill('SIGINT');
    const done = await run.done;
    expect(done.code, done.stderr).toBe(130);
    expect(await noneLeft(schema)).toEqual([]);
    expect(await noneLeft('redis-server', `:${port}`)).toEqual([]);
  });
});
