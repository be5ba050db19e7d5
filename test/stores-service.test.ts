// The service on the shared stores, as users run it: `flashsale serve --stock-store redis://…
// --ledger postgres://…` processes selling one sale together. Two processes sell exactly the stock; one
// killed with SIGKILL mid-sale loses no acknowledged order (and a --rebuild-stock start puts its orphaned
// holds back on sale); Redis killed and restarted empty mid-sale is rebuilt from the ledger (and a declined
// checkout whose release found Redis gone says its units are not back yet, until that rebuild); PostgreSQL
// cut off for a second answers 503, never a 201 that is not in the ledger. Every test checks the receipts
// against the ledger read directly, and each process's inventory against the shared totals.
import { afterAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { dropPgSchema, dropRedisKeys, postgresAvailable, POSTGRES_URL, redisAvailable, REDIS_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';
import { PrivateRedis, redisServerInstalled } from './helpers/private-redis.ts';
import { killAll, serve, serveRefused } from './helpers/serve.ts';
import { acknowledged, runCrowd, runCrowdKillingOne, type Receipt } from './helpers/store-crowd.ts';
import { TcpGate } from '../src/faults/tcp-gate.ts';
import { storeMode } from '../src/cli/commands/serve.ts';
import { ledgerRows } from './helpers/stores-run.ts';

const redis = await redisAvailable();
const postgres = await postgresAvailable();
const redisServer = redisServerInstalled();
requireOrSkip('Redis', redis);
requireOrSkip('PostgreSQL', postgres);
requireOrSkip('redis-server (a private Redis this test may kill)', redisServer);
const ready = redis.ok && postgres.ok && redisServer.ok;

const TOKEN = 'stores-service-test';
const schemas: string[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  killAll();
  for (const c of cleanups) await c().catch(() => {});
  for (const s of schemas) {
    await dropPgSchema(s).catch(() => {});
    await dropRedisKeys(`flashsale:${s}`).catch(() => {});
  }
});

function newSchema(): string {
  const s = uniqueName('svc').toLowerCase();
  schemas.push(s);
  return s;
}

function args(schema: string, stock: number, extra: { redis?: string; ledger?: string; more?: string[]; port?: number } = {}): string[] {
  return ['--port', String(extra.port ?? 0), '--sku', 'A', '--stock', String(stock), '--per-user-limit', '1', '--stock-store', extra.redis ?? REDIS_URL, '--ledger', extra.ledger ?? POSTGRES_URL, '--store-schema', schema, '--admin-token', TOKEN, ...(extra.more ?? [])];
}

async function inventory(url: string): Promise<{ initial: number; available: number; reserved: number; sold: number }> {
  const res = await fetch(`${url}/api/v1/inventory/A`);
  expect(res.status).toBe(200);
  return res.json() as Promise<{ initial: number; available: number; reserved: number; sold: number }>;
}

/** Every acknowledged order is in the ledger; no user bought twice (limit 1); never more than the stock. */
async function audit(schema: string, receipts: Receipt[], stock: number): Promise<Array<{ order_id: string; user_id: string }>> {
  const rows = await ledgerRows(schema);
  const ids = new Set(rows.map((r) => r.order_id));
  const lost = acknowledged(receipts).filter((id) => !ids.has(id));
  expect(lost, 'acknowledged orders missing from the ledger').toEqual([]);
  expect(new Set(rows.map((r) => r.user_id)).size, 'a user holds two orders (limit 1)').toBe(rows.length);
  expect(rows.length).toBeLessThanOrEqual(stock);
  return rows;
}

describe('serve --stock-store: flags checked before anything connects', () => {
  const base = { ledger: ':memory:', stockStore: 'memory' };
  it('memory + SQLite, or Redis + PostgreSQL; any other mix is a usage error naming the flags', () => {
    expect(storeMode(base)).toBe('memory');
    expect(storeMode({ stockStore: 'redis://127.0.0.1:6379/2', ledger: 'postgres://postgres@127.0.0.1/test' })).toBe('stores');
    expect(() => storeMode({ ...base, stockStore: 'redis://127.0.0.1:6379' })).toThrow(/--stock-store redis:\/\/… needs --ledger postgres:\/\/…/);
    expect(() => storeMode({ ...base, ledger: 'postgres://h/db' })).toThrow(/--ledger postgres:\/\/… needs --stock-store redis:\/\/…/);
    expect(() => storeMode({ ...base, ledger: 'POSTGRES://h/db' }), 'an upper-case scheme is still PostgreSQL, not a SQLite file').toThrow(/--ledger postgres:\/\/… needs --stock-store redis:\/\/…/);
    expect(() => storeMode({ ...base, stockStore: 'mem' })).toThrow(/--stock-store "mem": expected memory or redis:\/\/host:port\/db/);
    expect(() => storeMode({ ...base, rebuildStock: true })).toThrow(/apply only with --stock-store redis/);
    expect(() => storeMode({ ...base, joinPort: true }), 'two in-process services on one port would each sell the whole stock').toThrow(/--join-port apply only with --stock-store redis/);
  });

  it('a bad store URL or schema stops serve with exit 2 and the flag named, no stack', { timeout: 60_000 }, async () => {
    const r = await serveRefused(['--port', '0', '--stock-store', 'redis://127.0.0.1:6379/99', '--ledger', 'postgres://postgres@127.0.0.1/test']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--stock-store .*database "99" is not a number in 0\.\.15/);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });
});

const users = (n: number, stem: string) => Array.from({ length: n }, (_, i) => `${stem}${i}`);

describe.skipIf(!ready)('serve on Redis + PostgreSQL', () => {
  it('two processes sell exactly the stock, once; a start with another sale on the same schema is refused', { timeout: 240_000 }, async () => {
    const schema = newSchema();
    const STOCK = 200;
    const a = await serve(args(schema, STOCK));
    const b = await serve(args(schema, STOCK));
    const receipts = await runCrowd({ urls: () => [a.url, b.url], users: users(400, 'u'), sku: 'A', concurrency: 16, deadlineMs: 120_000, keyed: true });
    expect(receipts.filter((r) => r.status === 201).length).toBe(STOCK);
    expect(new Set(receipts.filter((r) => r.status === 201).map((r) => r.url)).size, 'both processes sold').toBe(2);
    const rows = await audit(schema, receipts, STOCK);
    expect(rows.length).toBe(STOCK);
    for (const s of [a, b]) expect(await inventory(s.url)).toEqual({ initial: STOCK, available: 0, reserved: 0, sold: STOCK });
    const res = await fetch(`${b.url}/admin/orders`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect((await res.text()).trim().split('\n').length).toBe(STOCK);
    // A replayed key answers the first order, through the other process.
    const first = receipts.find((r) => r.status === 201)!; // the sale sold STOCK units
    const again = await fetch(`${first.url === a.url ? b.url : a.url}/api/v1/checkout`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `k-${first.userId}` }, body: JSON.stringify({ sku: 'A', userId: first.userId, qty: 1 }) });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { orderId: string }).orderId).toBe(first.orderId);
    const refused = await serveRefused(args(schema, STOCK + 1));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/holds sale 1 with 200 orders/);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('two processes behind one URL (--join-port) sell exactly the stock', { timeout: 240_000 }, async () => {
    const schema = newSchema();
    const STOCK = 100;
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port; // a TCP server's address is an object
    await new Promise((resolve) => probe.close(resolve));
    const a = await serve(args(schema, STOCK, { port }));
    const b = await serve(args(schema, STOCK, { port, more: ['--join-port'] }));
    expect(b.url).toBe(a.url);
    const receipts = await runCrowd({ urls: () => [a.url], users: users(200, 'j'), sku: 'A', concurrency: 16, deadlineMs: 120_000 });
    expect(receipts.filter((r) => r.status === 201).length).toBe(STOCK);
    expect((await audit(schema, receipts, STOCK)).length).toBe(STOCK);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('kill -9 of one process mid-sale loses no acknowledged order; --rebuild-stock puts its orphaned holds back on sale', { timeout: 240_000 }, async () => {
    const schema = newSchema();
    const STOCK = 300;
    const a = await serve(args(schema, STOCK));
    const b = await serve(args(schema, STOCK));
    const { receipts, killed } = await runCrowdKillingOne({ victim: a, survivor: b, afterOrders: 60, users: users(500, 'k'), sku: 'A', concurrency: 16, deadlineMs: 120_000 });
    expect(killed, 'the process was killed mid-sale').toBe(true);
    await audit(schema, receipts, STOCK);
    // A third process rebuilds the stock from the ledger: the dead process's holds are free again.
    const c = await serve(args(schema, STOCK, { more: ['--rebuild-stock'] }));
    expect(c.stderr()).toMatch(/stock_rebuilt: stock epoch \d+ rebuilt from the ledger/);
    const rest = await runCrowd({ urls: () => [b.url, c.url], users: users(400, 'late'), sku: 'A', concurrency: 8, deadlineMs: 120_000 });
    const rows = await audit(schema, [...receipts, ...rest], STOCK);
    expect(rows.length, 'every unit sold in the end, none twice').toBe(STOCK);
    expect(await inventory(b.url)).toMatchObject({ initial: STOCK, available: 0, sold: STOCK });
    await Promise.all([b.stop(), c.stop()]);
  });

  it('Redis killed and restarted empty mid-sale: 503s, a rebuild from the ledger, then exactly the stock sold', { timeout: 240_000 }, async () => {
    const schema = newSchema();
    const STOCK = 300;
    const own = await PrivateRedis.start();
    cleanups.push(() => own.kill());
    const a = await serve(args(schema, STOCK, { redis: own.url }));
    const b = await serve(args(schema, STOCK, { redis: own.url }));
    let restarting: Promise<void> | null = null;
    const receipts = await runCrowd({
      urls: () => [a.url, b.url],
      users: users(600, 'r'),
      sku: 'A',
      concurrency: 16,
      deadlineMs: 150_000,
      retries: 60,
      onReceipt: (_r, all) => {
        if (restarting === null && all.filter((x) => x.status === 201).length >= 100) {
          restarting = own.kill().then(() => own.restart());
        }
      },
    });
    await restarting;
    const errors = new Set(receipts.filter((r) => r.status === 503).map((r) => r.error));
    expect([...errors].some((e) => e === 'store_unavailable' || e === 'stock_rebuilding'), `503s seen: ${[...errors].join(', ')}`).toBe(true);
    const rows = await audit(schema, receipts, STOCK);
    expect(rows.length).toBe(STOCK);
    expect(a.stderr() + b.stderr()).toMatch(/stock_rebuilt/);
    for (const s of [a, b]) expect(await inventory(s.url)).toMatchObject({ initial: STOCK, available: 0, sold: STOCK });
    await Promise.all([a.stop(), b.stop()]);
  });

  it('a declined checkout whose release finds Redis gone answers 402 saying the units are not back yet; the rebuild after Redis returns gives them back', { timeout: 120_000 }, async () => {
    const schema = newSchema();
    const STOCK = 5;
    const own = await PrivateRedis.start();
    cleanups.push(() => own.kill());
    const a = await serve(args(schema, STOCK, { redis: own.url, more: ['--decline-rate', '1', '--payment-latency', '1500ms'] }));
    const checkout = () => fetch(`${a.url}/api/v1/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'A', userId: 'decliner', qty: 1 }) });
    // The units are taken at once, then the payment takes 1.5 s: Redis dies meanwhile, so the release fails.
    const answer = checkout();
    for (let i = 0; i < 50 && (await inventory(a.url)).available === STOCK; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await inventory(a.url)).available, 'the unit is held while the payment runs').toBe(STOCK - 1);
    await own.kill();
    const res = await answer;
    const body = (await res.json()) as { error: string; message: string };
    expect([res.status, body.error]).toEqual([402, 'payment_declined']);
    expect(body.message).toMatch(/the units could not be given back yet \(the stock store did not answer\) and will be when the stock is next rebuilt/);
    // Redis back empty: the next checkout finds the stock missing and the ledger rebuilds it — nothing was sold.
    await own.restart();
    const deadline = Date.now() + 30_000;
    let seen: Awaited<ReturnType<typeof inventory>> | null = null;
    while (Date.now() < deadline && !(seen !== null && seen.available === STOCK && seen.sold === 0)) {
      await (await checkout()).arrayBuffer(); // a 503 stock_rebuilding that starts the rebuild, or another decline
      seen = await fetch(`${a.url}/api/v1/inventory/A`).then((r) => (r.status === 200 ? (r.json() as Promise<typeof seen>) : null));
    }
    expect(seen).toMatchObject({ initial: STOCK, available: STOCK, sold: 0 });
    expect(await ledgerRows(schema)).toEqual([]);
    await a.stop();
  });

  it('PostgreSQL cut off for a second: 503 ledger_unavailable, never a 201 the ledger lacks; then exactly the stock sold', { timeout: 240_000 }, async () => {
    const schema = newSchema();
    const STOCK = 300;
    const gate = new TcpGate('127.0.0.1', Number(new URL(POSTGRES_URL).port || 5432));
    await gate.open();
    cleanups.push(() => gate.cut());
    const ledger = new URL(POSTGRES_URL);
    ledger.port = String(gate.port);
    const a = await serve(args(schema, STOCK, { ledger: ledger.href }));
    let cut: Promise<void> | null = null;
    const receipts = await runCrowd({
      urls: () => [a.url],
      users: users(600, 'p'),
      sku: 'A',
      concurrency: 16,
      deadlineMs: 150_000,
      retries: 60,
      onReceipt: (_r, all) => {
        if (cut === null && all.filter((x) => x.status === 201).length >= 80) {
          cut = gate.cut().then(() => new Promise((resolve) => setTimeout(resolve, 1000))).then(() => gate.open());
        }
      },
    });
    await cut;
    expect(receipts.some((r) => r.status === 503 && r.error === 'ledger_unavailable'), 'checkouts got 503 ledger_unavailable while PostgreSQL was cut off').toBe(true);
    const rows = await audit(schema, receipts, STOCK);
    expect(rows.length).toBe(STOCK);
    expect(a.stderr()).toMatch(/stock_rebuilt/);
    await a.stop();
  });
});
