// Reservations on the shared stores (serve --stock-store redis://… --ledger postgres://…): two service
// instances on one schema and key prefix behave as one service — reserve on one, pay or release on the
// other; expiry gives the units back once; a pay racing a release of one reservation sells at most once;
// keyed retries replay across instances; an open reservation survives a --rebuild-stock restart and stays
// payable, while expired, released and paid ones are not brought back; a release that straddles a rebuild
// is refused 503 stock_rebuilt (fenced by the stock epoch) and its retry releases the units, and a declined
// pay's release refused so leaves the hold open for a DELETE (or its expiry). Every case runs on both
// stock strategies: redis-lua (the reserve takes from the SKU's stock in Redis) and redis-leased (it takes
// from a process's lease and moves the units to a hold in Redis). Inventories read through another instance are
// polled: redis-leased's totals count other processes' leases as of their last heartbeat (100 ms).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { dropPgSchema, pgRows, dropRedisKeys, postgresAvailable, POSTGRES_URL, redisAvailable, REDIS_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';
import { startStoreService, type RunningStoreService } from '../src/service/on-stores.ts';
import type { SaleDefinition } from '../src/service/sale.ts';
import type { StockStoreDesign } from '../src/stores/stock-store.ts';
import { connectRedis } from '../src/stores/redis/link.ts';
import { RedisReservations } from '../src/stores/redis/reservations.ts';

const redis = await redisAvailable();
const postgres = await postgresAvailable();
requireOrSkip('Redis', redis);
requireOrSkip('PostgreSQL', postgres);
const ready = redis.ok && postgres.ok;

const schemas: string[] = [];
const running = new Set<RunningStoreService>();

afterAll(async () => {
  for (const s of running) await s.close().catch(() => {});
  for (const s of schemas) {
    await dropPgSchema(s).catch(() => {});
    await dropRedisKeys(`flashsale:${s}`).catch(() => {});
  }
});

function sale(over: Partial<SaleDefinition> = {}): SaleDefinition {
  return { skus: [{ id: 'A', stock: 20 }], perUserLimit: 1, reservationTtlMs: 60_000, opensAtEpochMs: null, payment: { declineRate: 0, latencyMs: 0 }, ...over };
}

const quiet = () => {};

let strategy: StockStoreDesign = 'redis-lua';

async function start(schema: string, s: SaleDefinition, more: { rebuildStock?: boolean } = {}): Promise<RunningStoreService> {
  const svc = await startStoreService({ sale: s, redisUrl: REDIS_URL, ledgerUrl: POSTGRES_URL, schema, threads: 1, log: quiet, strategy, ...more });
  running.add(svc);
  return svc;
}

async function stop(svc: RunningStoreService): Promise<void> {
  await svc.close();
  running.delete(svc);
}

function newSchema(): string {
  const s = uniqueName('resv').toLowerCase();
  schemas.push(s);
  return s;
}

interface Answer { status: number; json: any; replayed: boolean }

async function call(base: string, method: string, path: string, body?: unknown, key?: string): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== undefined) headers['idempotency-key'] = key;
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : JSON.parse(text), replayed: res.headers.get('idempotent-replayed') === 'true' };
}

const reserve = (base: string, userId: string, key?: string, qty = 1) => call(base, 'POST', '/api/v1/reservations', { sku: 'A', userId, qty }, key);
const pay = (base: string, reservationId: string, key?: string) => call(base, 'POST', '/api/v1/orders', { reservationId }, key);
const release = (base: string, reservationId: string) => call(base, 'DELETE', `/api/v1/reservations/${encodeURIComponent(reservationId)}`);
const inventory = async (base: string) => (await call(base, 'GET', '/api/v1/inventory/A')).json as { initial: number; available: number; reserved: number; sold: number };

async function ledger(schema: string): Promise<Array<{ order_id: string; user_id: string; qty: number }>> {
  return pgRows(`SELECT order_id, user_id, qty FROM ${schema}.orders`);
}

/** Polls until `ok` holds for the inventory, or the bound runs out (then the last one is returned). */
async function inventoryWhen(base: string, ok: (i: Awaited<ReturnType<typeof inventory>>) => boolean, ms = 15_000) {
  let inv = await inventory(base);
  for (const until = Date.now() + ms; !ok(inv) && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 50));
    inv = await inventory(base);
  }
  return inv;
}

/**
 * Runs `request` while a rebuild's stock-epoch bump is held open in PostgreSQL (an uncommitted UPDATE of
 * the sale's row), waits until the request's release waits on its fence (the sale row FOR SHARE), then
 * commits the bump: the release reads the raised epoch. Returns the request's answer.
 */
async function underEpochBump(schema: string, saleId: number, request: () => Promise<Answer>): Promise<Answer> {
  const bump = new pg.Client({ connectionString: POSTGRES_URL });
  await bump.connect();
  try {
    await bump.query('BEGIN');
    await bump.query(`UPDATE ${schema}.sales SET stock_epoch = stock_epoch + 1 WHERE id = $1`, [saleId]);
    const answer = request();
    let waiting = 0;
    for (const until = Date.now() + 20_000; waiting === 0 && Date.now() < until; ) {
      const w = await lockWaiters(`%UPDATE ${schema}.reservations r SET state%`);
      waiting = w;
      if (waiting === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(waiting, 'the release waits on the stock-epoch fence').toBe(1);
    await bump.query('COMMIT');
    return await answer;
  } finally {
    await bump.end();
  }
}

/** How many statements matching `pattern` wait on a lock. */
async function lockWaiters(pattern: string): Promise<number> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [pattern])).rows.length;
  } finally {
    await client.end();
  }
}

/** Runs `each` over `items`, `n` at a time. */
async function crowd<T>(items: readonly T[], n: number, each: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      await each(items[i], i);
    }
  }));
}

/** The inventory once it equals `expected` (polled, bounded), asserted. */
async function expectInventory(base: string, expected: Awaited<ReturnType<typeof inventory>>): Promise<void> {
  const inv = await inventoryWhen(base, (i) => (Object.keys(expected) as Array<keyof typeof expected>).every((k) => i[k] === expected[k]), 5000);
  expect(inv).toEqual(expected);
}

describe.skipIf(!ready).each(['redis-lua', 'redis-leased'] as const)('reservations on Redis + PostgreSQL, %s', (design) => {
  beforeAll(() => {
    strategy = design;
  });

  it('reserve on one instance, pay or release on the other, with the in-process answers', { timeout: 120_000 }, async () => {
    const schema = newSchema();
    const a = await start(schema, sale());
    const b = await start(schema, sale());
    const r1 = await reserve(a.url, 'dave');
    expect(r1.status).toBe(201);
    expect(Date.parse(r1.json.expiresAt)).toBeGreaterThan(Date.now());
    await expectInventory(b.url, { initial: 20, available: 19, reserved: 1, sold: 0 });
    // The per-user limit counts the reservation, across instances.
    expect((await call(b.url, 'POST', '/api/v1/checkout', { sku: 'A', userId: 'dave', qty: 1 })).json.error).toBe('limit_exceeded');
    const paid = await pay(b.url, r1.json.reservationId);
    expect(paid.status).toBe(201);
    await expectInventory(a.url, { initial: 20, available: 19, reserved: 0, sold: 1 });
    expect((await ledger(schema)).map((o) => o.order_id)).toEqual([paid.json.orderId]);
    const again = await pay(a.url, r1.json.reservationId);
    expect([again.status, again.json.error]).toEqual([410, 'reservation_expired']);

    const r2 = await reserve(b.url, 'erin');
    expect(r2.status).toBe(201);
    expect((await release(a.url, r2.json.reservationId)).status).toBe(204);
    expect((await release(b.url, r2.json.reservationId)).status).toBe(404);
    expect((await pay(b.url, r2.json.reservationId)).status).toBe(410);
    await expectInventory(b.url, { initial: 20, available: 19, reserved: 0, sold: 1 });
    // The allowance came back with the release.
    expect((await call(a.url, 'POST', '/api/v1/checkout', { sku: 'A', userId: 'erin', qty: 1 })).status).toBe(201);

    for (const id of ['nope-1-1', 'rnever0-0.0', 'rx.zz', '']) expect((await pay(a.url, id)).status, id).toBe(id === '' ? 400 : 404);
    expect((await release(a.url, 'nope-1-1')).status).toBe(404);
    expect((await reserve(a.url, '')).status).toBe(400);
    expect((await call(a.url, 'POST', '/api/v1/reservations', { sku: 'B', userId: 'x', qty: 1 })).json.error).toBe('unknown_sku');
    expect((await reserve(a.url, 'big', undefined, 21)).json.error).toBe('sold_out');
    await Promise.all([stop(a), stop(b)]);
  });

  it('a declined payment gives the units and the allowance back (402)', { timeout: 120_000 }, async () => {
    const schema = newSchema();
    const a = await start(schema, sale({ payment: { declineRate: 1, latencyMs: 0 } }));
    const r = await reserve(a.url, 'poor');
    const declined = await pay(a.url, r.json.reservationId);
    expect([declined.status, declined.json.message]).toEqual([402, 'the payment was declined; the units went back on sale']);
    await expectInventory(a.url, { initial: 20, available: 20, reserved: 0, sold: 0 });
    expect((await reserve(a.url, 'poor')).status).toBe(201);
    await stop(a);
  });

  it('expiry returns the units and the allowance exactly once, with two instances sweeping', { timeout: 120_000 }, async () => {
    const schema = newSchema();
    const a = await start(schema, sale({ reservationTtlMs: 300 }));
    const b = await start(schema, sale({ reservationTtlMs: 300 }));
    const made = await Promise.all(Array.from({ length: 10 }, (_, i) => reserve(i % 2 ? a.url : b.url, `slow${i}`)));
    expect(made.map((r) => r.status)).toEqual(Array(10).fill(201));
    await expectInventory(a.url, { initial: 20, available: 20, reserved: 0, sold: 0 });
    const late = await pay(b.url, made[0].json.reservationId);
    expect([late.status, late.json.error]).toEqual([410, 'reservation_expired']);
    expect((await call(a.url, 'POST', '/api/v1/checkout', { sku: 'A', userId: 'slow0', qty: 1 })).status).toBe(201);
    await expectInventory(b.url, { initial: 20, available: 19, reserved: 0, sold: 1 });
    await Promise.all([stop(a), stop(b)]);
  });

  it('a pay racing a release of one reservation, on two instances, sells it at most once', { timeout: 120_000 }, async () => {
    const schema = newSchema();
    const a = await start(schema, sale({ skus: [{ id: 'A', stock: 30 }], payment: { declineRate: 0, latencyMs: 5 } }));
    const b = await start(schema, sale({ skus: [{ id: 'A', stock: 30 }], payment: { declineRate: 0, latencyMs: 5 } }));
    const made = await Promise.all(Array.from({ length: 30 }, (_, i) => reserve(a.url, `racer${i}`)));
    expect(made.map((r) => (r.status === 201 ? 201 : `${r.status} ${r.json?.error}`))).toEqual(Array(30).fill(201));
    const outcomes = await Promise.all(
      made.map(async (r, i) => {
        const id = r.json.reservationId as string;
        const [p, d] = await Promise.all(i % 2 ? [pay(a.url, id), release(b.url, id)] : [pay(b.url, id), release(a.url, id)]);
        return { paid: p.status === 201, released: d.status === 204, statuses: [p.status, d.status] };
      }),
    );
    for (const o of outcomes) {
      expect(o.paid && o.released, `paid and released: ${o.statuses}`).toBe(false);
      expect(o.paid || o.released, `neither: ${o.statuses}`).toBe(true);
    }
    const sold = outcomes.filter((o) => o.paid).length;
    expect((await ledger(schema)).length).toBe(sold);
    await expectInventory(b.url, { initial: 30, available: 30 - sold, reserved: 0, sold });
    await Promise.all([stop(a), stop(b)]);
  });

  it('a keyed reserve and a keyed pay replay across instances, and take one unit', { timeout: 120_000 }, async () => {
    const schema = newSchema();
    const a = await start(schema, sale({ payment: { declineRate: 0, latencyMs: 50 } }));
    const b = await start(schema, sale({ payment: { declineRate: 0, latencyMs: 50 } }));
    const reserved = await Promise.all(Array.from({ length: 6 }, (_, i) => reserve(i % 2 ? a.url : b.url, 'retrier', 'rk-1')));
    expect(reserved.map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(new Set(reserved.map((r) => r.json.reservationId)).size).toBe(1);
    expect(reserved.filter((r) => r.replayed).length).toBe(5);
    expect((await reserve(a.url, 'someone-else', 'rk-1')).json.error).toBe('idempotency_key_reused');
    const id = reserved[0].json.reservationId as string;
    const paid = await Promise.all(Array.from({ length: 6 }, (_, i) => pay(i % 2 ? a.url : b.url, id, 'pk-1')));
    expect(paid.map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(new Set(paid.map((r) => r.json.orderId)).size).toBe(1);
    expect(await ledger(schema)).toHaveLength(1);
    await expectInventory(a.url, { initial: 20, available: 19, reserved: 0, sold: 1 });
    // After the reservation ended, its key still answers the reservation (as in-process).
    const later = await reserve(b.url, 'retrier', 'rk-1');
    expect([later.status, later.replayed, later.json.reservationId]).toEqual([201, true, id]);
    await Promise.all([stop(a), stop(b)]);
  });

  it('an open reservation survives a --rebuild-stock restart and stays payable; released and paid ones are not brought back', { timeout: 120_000 }, async () => {
    const schema = newSchema();
    const a = await start(schema, sale());
    const open = await reserve(a.url, 'keeper', 'keep-1');
    const paid = await reserve(a.url, 'payer');
    expect((await pay(a.url, paid.json.reservationId)).status).toBe(201);
    const released = await reserve(a.url, 'leaver');
    expect((await release(a.url, released.json.reservationId)).status).toBe(204);
    await stop(a);
    const b = await start(schema, sale(), { rebuildStock: true });
    await expectInventory(b.url, { initial: 20, available: 18, reserved: 1, sold: 1 });
    expect((await pay(b.url, released.json.reservationId)).status).toBe(410);
    expect((await pay(b.url, paid.json.reservationId)).status).toBe(410);
    // The keyed reserve replays after the rebuild (its key came back from the ledger).
    const replay = await reserve(b.url, 'keeper', 'keep-1');
    expect([replay.status, replay.replayed, replay.json.reservationId]).toEqual([201, true, open.json.reservationId]);
    expect((await pay(b.url, open.json.reservationId)).status).toBe(201);
    await expectInventory(b.url, { initial: 20, available: 18, reserved: 0, sold: 2 });
    await stop(b);
  });

  it('a reserve → pay crowd over two instances sells exactly the stock, the per-user limit held, with declines', { timeout: 180_000 }, async () => {
    const schema = newSchema();
    const STOCK = 40;
    const s = sale({ skus: [{ id: 'A', stock: STOCK }], payment: { declineRate: 0.25, latencyMs: 2 } });
    const a = await start(schema, s);
    const b = await start(schema, s);
    const urls = [a.url, b.url];
    const reserveAnswers: number[] = [];
    const payAnswers: Answer[] = [];
    const reservedBy = new Map<string, number>();
    // Each buyer asks both instances for a reservation at once (limit 1: at most one may hold), then pays on the other.
    const buy = async (user: string, i: number) => {
      const got = await Promise.all([reserve(urls[i % 2], user), reserve(urls[(i + 1) % 2], user)]);
      for (const [j, r] of got.entries()) {
        reserveAnswers.push(r.status);
        if (r.status !== 201) continue;
        reservedBy.set(user, (reservedBy.get(user) ?? 0) + 1);
        payAnswers.push(await pay(urls[(i + j + 1) % 2], r.json.reservationId));
      }
    };
    await crowd(Array.from({ length: 160 }, (_, i) => `buyer${i}`), 12, buy);
    // Units of declined pays came back: later buyers take them until the sale is exactly sold.
    for (let i = 0; i < 200; i++) {
      const inv = await inventoryWhen(a.url, (x) => x.reserved === 0);
      if (inv.available === 0) break;
      await buy(`late${i}`, i);
    }
    expect(Math.max(...reservedBy.values()), 'a buyer held two reservations at once (limit 1)').toBe(1);
    expect(reserveAnswers.every((x) => [201, 409, 429].includes(x)), `reserve answers ${[...new Set(reserveAnswers)]}`).toBe(true);
    expect(payAnswers.every((x) => x.status === 201 || x.status === 402), `pay answers ${[...new Set(payAnswers.map((x) => x.status))]}`).toBe(true);
    const declined = payAnswers.filter((x) => x.status === 402).length;
    expect(declined, 'some payments were declined').toBeGreaterThan(0);
    const rows = await ledger(schema);
    const paid = payAnswers.filter((x) => x.status === 201).map((x) => x.json.orderId as string);
    expect(rows.length, 'exactly the stock sold').toBe(STOCK);
    expect(new Set(rows.map((r) => r.order_id))).toEqual(new Set(paid));
    expect(new Set(rows.map((r) => r.user_id)).size, 'a user bought twice (limit 1)').toBe(STOCK);
    for (const u of urls) await expectInventory(u, { initial: STOCK, available: 0, reserved: 0, sold: STOCK });
    await Promise.all([stop(a), stop(b)]);
  });

  it('keyed pays, reserves and checkouts keep their final 4xx answers for retries on any instance; the ledger is unchanged', { timeout: 120_000 }, async () => {
    const schema = newSchema();
    // Long enough that no reservation this test still uses expires between its calls on a busy machine
    // (400 ms did once); the 410 case waits it out.
    const s = sale({ reservationTtlMs: 2500, payment: { declineRate: 1, latencyMs: 0 } });
    const a = await start(schema, s);
    const b = await start(schema, s);
    const same = (x: Answer) => [x.status, x.json?.error, x.replayed];
    // 402: the payment was declined; a retry with the key gets the 402 again, not a second attempt.
    const r1 = await reserve(a.url, 'dee');
    const declined = await pay(a.url, r1.json.reservationId, 'pk-402');
    expect(same(declined)).toEqual([402, 'payment_declined', false]);
    const again = await pay(b.url, r1.json.reservationId, 'pk-402');
    expect(same(again)).toEqual([402, 'payment_declined', true]);
    expect(again.json).toEqual(declined.json);
    // 410: expired; 404: never made.
    const r2 = await reserve(b.url, 'eve');
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(r2.json.expiresAt) - Date.now()) + 50));
    expect(same(await pay(b.url, r2.json.reservationId, 'pk-410'))).toEqual([410, 'reservation_expired', false]);
    expect(same(await pay(a.url, r2.json.reservationId, 'pk-410'))).toEqual([410, 'reservation_expired', true]);
    expect(same(await pay(a.url, 'rnever0-0.0', 'pk-404'))).toEqual([404, 'reservation_not_found', false]);
    expect(same(await pay(b.url, 'rnever0-0.0', 'pk-404'))).toEqual([404, 'reservation_not_found', true]);
    // A keyed reserve refused (sold out, over the limit) keeps its refusal, as in-process, even once it would pass.
    expect(same(await reserve(a.url, 'big', 'rk-409', 21))).toEqual([409, 'sold_out', false]);
    expect(same(await reserve(b.url, 'big', 'rk-409', 21))).toEqual([409, 'sold_out', true]);
    const held = await reserve(a.url, 'lim');
    expect(same(await reserve(b.url, 'lim', 'rk-429'))).toEqual([429, 'limit_exceeded', false]);
    expect((await release(b.url, held.json.reservationId)).status).toBe(204);
    expect(same(await reserve(a.url, 'lim', 'rk-429'))).toEqual([429, 'limit_exceeded', true]);
    // Checkouts too: declined, sold out, over the limit.
    const checkout = (base: string, userId: string, key: string, qty = 1) => call(base, 'POST', '/api/v1/checkout', { sku: 'A', userId, qty }, key);
    const co = await checkout(a.url, 'cid', 'ck-402');
    expect(same(co)).toEqual([402, 'payment_declined', false]);
    expect(same(await checkout(b.url, 'cid', 'ck-402'))).toEqual([402, 'payment_declined', true]);
    expect(same(await checkout(a.url, 'big', 'ck-409', 21))).toEqual([409, 'sold_out', false]);
    expect(same(await checkout(b.url, 'big', 'ck-409', 21))).toEqual([409, 'sold_out', true]);
    const held2 = await reserve(b.url, 'cap');
    expect(same(await checkout(a.url, 'cap', 'ck-429'))).toEqual([429, 'limit_exceeded', false]);
    expect((await release(a.url, held2.json.reservationId)).status).toBe(204);
    expect(same(await checkout(b.url, 'cap', 'ck-429'))).toEqual([429, 'limit_exceeded', true]);
    // The same key with another request is still refused as reused.
    expect(same(await pay(a.url, r2.json.reservationId, 'pk-402'))).toEqual([422, 'idempotency_key_reused', false]);
    expect(await ledger(schema)).toEqual([]);
    await expectInventory(a.url, { initial: 20, available: 20, reserved: 0, sold: 0 });
    await Promise.all([stop(a), stop(b)]);
  });

  it('a keyed pay refused 409 reservation_busy (the claim held elsewhere) is not kept: its retry runs and pays', { timeout: 120_000 }, async () => {
    const schema = newSchema();
    const a = await start(schema, sale());
    const r = await reserve(a.url, 'busy');
    // A claim held by "another request" (as a killed process's pay would hold it until a rebuild).
    const link = await connectRedis(REDIS_URL);
    try {
      const holds = new RedisReservations(link, { prefix: `flashsale:${schema}`, saleId: a.saleId, skuCount: 1, layout: 'sku' });
      const c = await holds.claim(0, r.json.reservationId);
      expect(c.kind).toBe('claimed');
      const busy = await pay(a.url, r.json.reservationId, 'pk-busy');
      expect([busy.status, busy.json.error]).toEqual([409, 'reservation_busy']);
      if (c.kind === 'claimed') await holds.unclaim(c.hold);
    } finally {
      await link.close();
    }
    const paid = await pay(a.url, r.json.reservationId, 'pk-busy');
    expect([paid.status, paid.replayed]).toEqual([201, false]);
    expect((await pay(a.url, r.json.reservationId, 'pk-busy')).replayed).toBe(true);
    await stop(a);
  });

  it('a release that straddles a rebuild is refused 503 stock_rebuilt; its retry after the rebuild answers 204 and the units are back', { timeout: 120_000 }, async () => {
    const schema = newSchema();
    const a = await start(schema, sale());
    const r = await reserve(a.url, 'leaver');
    expect(r.status).toBe(201);
    const id = r.json.reservationId as string;
    const got = await underEpochBump(schema, a.saleId, () => release(a.url, id));
    expect([got.status, got.json.error]).toEqual([503, 'stock_rebuilt']);
    // The ledger still has it open: a rebuild (another process, --rebuild-stock) holds it again.
    const b = await start(schema, sale(), { rebuildStock: true });
    await expectInventory(a.url, { initial: 20, available: 19, reserved: 1, sold: 0 });
    expect((await release(a.url, id)).status, 'the retry, under the rebuilt epoch').toBe(204);
    await expectInventory(a.url, { initial: 20, available: 20, reserved: 0, sold: 0 });
    await expectInventory(b.url, { initial: 20, available: 20, reserved: 0, sold: 0 });
    expect((await release(b.url, id)).status, 'released once').toBe(404);
    await Promise.all([stop(a), stop(b)]);
  });

  it('a declined pay whose release straddles a rebuild answers 402 and leaves the hold open: a DELETE after the rebuild gives the units back', { timeout: 120_000 }, async () => {
    const schema = newSchema();
    const s = sale({ payment: { declineRate: 1, latencyMs: 0 } });
    const a = await start(schema, s);
    const r = await reserve(a.url, 'decliner');
    expect(r.status).toBe(201);
    const id = r.json.reservationId as string;
    const got = await underEpochBump(schema, a.saleId, () => pay(a.url, id));
    expect([got.status, got.json.error]).toEqual([402, 'payment_declined']);
    expect(got.json.message, 'the 402 says the units are still held, not back on sale').toMatch(/stay held until the reservation is released \(DELETE\) or expires/);
    const b = await start(schema, s, { rebuildStock: true });
    await expectInventory(a.url, { initial: 20, available: 19, reserved: 1, sold: 0 });
    expect((await release(a.url, id)).status).toBe(204);
    await expectInventory(a.url, { initial: 20, available: 20, reserved: 0, sold: 0 });
    await expectInventory(b.url, { initial: 20, available: 20, reserved: 0, sold: 0 });
    expect(await ledger(schema)).toEqual([]);
    await Promise.all([stop(a), stop(b)]);
  });

  it('a reservation that expired while no process swept is not brought back by a --rebuild-stock restart', { timeout: 120_000 }, async () => {
    const schema = newSchema();
    const a = await start(schema, sale({ reservationTtlMs: 1000 }));
    const stale = await reserve(a.url, 'sleeper');
    expect(stale.status).toBe(201);
    await stop(a);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(stale.json.expiresAt) - Date.now()) + 100));
    const b = await start(schema, sale({ reservationTtlMs: 1000 }), { rebuildStock: true });
    await expectInventory(b.url, { initial: 20, available: 20, reserved: 0, sold: 0 });
    expect((await pay(b.url, stale.json.reservationId)).status).toBe(410);
    expect((await reserve(b.url, 'sleeper')).status, 'the allowance is free again').toBe(201);
    await stop(b);
  });
});
