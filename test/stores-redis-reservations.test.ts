// Reservations' Redis scripts against the real Redis (src/stores/redis/reservations.ts): a hold is open
// while it is in the expiry set and whoever removes it owns it — claim, drop and sweep settle each hold
// once, also with four connections racing; a rebuild loads open reservations back as payable holds that
// still expire; keys of pays begin, replay, keep their answer or are forgotten.
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisLink } from '../src/stores/redis/link.ts';
import { RedisLuaStock } from '../src/stores/redis/lua-store.ts';
import { RedisReservations } from '../src/stores/redis/reservations.ts';
import type { StockLoad } from '../src/stores/stock-store.ts';
import { dropRedisKeys, redisAvailable, REDIS_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';

const redis = await redisAvailable();
requireOrSkip('Redis', redis);

const prefixes: string[] = [];
const links: RedisLink[] = [];
afterAll(async () => {
  for (const l of links) await l.close().catch(() => {});
  if (redis.ok) for (const p of prefixes) await dropRedisKeys(p);
});

async function open(stock: number, load: Partial<StockLoad> = {}): Promise<{ stock: RedisLuaStock; resv: RedisReservations; prefix: string }> {
  const prefix = uniqueName('fs-test-resv');
  prefixes.push(prefix);
  const link = await connectRedis(REDIS_URL);
  links.push(link);
  const s = new RedisLuaStock(link, { prefix, saleId: 1, skuCount: 1, layout: 'sku', perUserLimit: 1 });
  expect(await s.load({ epoch: 1, skus: [{ initial: stock, sold: 0, held: 0 }], users: [], keys: [], ...load })).toBe(true);
  return { stock: s, resv: new RedisReservations(link, { prefix, saleId: 1, skuCount: 1, layout: 'sku' }), prefix };
}

async function another(prefix: string): Promise<RedisReservations> {
  const link = await connectRedis(REDIS_URL);
  links.push(link);
  return new RedisReservations(link, { prefix, saleId: 1, skuCount: 1, layout: 'sku' });
}

const req = (holdId: string, userId = holdId) => ({ sku: 0, qty: 1, userId, limit: 1, key: null, fingerprint: 0, holdId });

describe.skipIf(!redis.ok)('reservations in Redis', () => {
  it('reserve holds units and allowance; claim owns the hold once; drop gives back once', async () => {
    const { stock, resv } = await open(2);
    const later = Date.now() + 60_000;
    expect(await resv.reserve(req('r1', 'ann'), later)).toEqual({ kind: 'taken', epoch: 1 });
    expect(await resv.reserve(req('r2', 'ann'), later)).toEqual({ kind: 'limit' });
    expect(await stock.snapshot(0)).toMatchObject({ available: 1, held: 1 });
    const c = await resv.claim(0, 'r1');
    expect(c).toEqual({ kind: 'claimed', epoch: 1, hold: { sku: 0, holdId: 'r1', qty: 1, userId: 'ann', limited: true, expiresAt: later } });
    expect(await resv.claim(0, 'r1')).toEqual({ kind: 'busy' });
    await resv.unclaim((c as { hold: Parameters<RedisReservations['unclaim']>[0] }).hold); // claimed above
    expect((await resv.claim(0, 'r1')).kind).toBe('claimed');
    expect(await resv.drop(0, ['r1'])).toBe(1);
    expect(await resv.drop(0, ['r1'])).toBe(0);
    expect(await resv.claim(0, 'r1')).toEqual({ kind: 'gone' });
    expect(await stock.snapshot(0)).toMatchObject({ available: 2, held: 0 });
    expect((await resv.reserve(req('r3', 'ann'), later)).kind, 'the allowance came back').toBe('taken');
  });

  it('four connections sweeping and claiming at once settle every hold exactly once', async () => {
    const { stock, resv, prefix } = await open(200);
    const now = Date.now();
    // 100 due now, 100 far off: sweepers must take exactly the first 100, claimers race them for all.
    for (let i = 0; i < 200; i++) expect((await resv.reserve(req(`h${i}`), i < 100 ? now - 1 : now + 60_000)).kind).toBe('taken');
    const racers = [resv, ...(await Promise.all([1, 2, 3].map(() => another(prefix))))];
    const ids = Array.from({ length: 200 }, (_, i) => `h${i}`);
    const [swept, claims] = await Promise.all([
      Promise.all(racers.map((r) => r.sweep(0, now))),
      Promise.all(racers.map((r) => Promise.all(ids.map((id) => r.claim(0, id))))),
    ]);
    const claimed = new Map<string, number>();
    for (const list of claims) list.forEach((c, i) => c.kind === 'claimed' && claimed.set(ids[i], (claimed.get(ids[i]) ?? 0) + 1));
    expect([...claimed.values()].every((n) => n === 1), 'a hold claimed twice').toBe(true);
    const sweptTotal = swept.reduce((a, b) => a + b, 0);
    expect(sweptTotal + claimed.size, 'every due hold swept or claimed, every later one claimed').toBe(200);
    expect([...claimed.keys()].filter((id) => Number(id.slice(1)) >= 100)).toHaveLength(100);
    // Claimed holds are still held until dropped or confirmed.
    expect(await stock.snapshot(0)).toMatchObject({ available: sweptTotal, held: claimed.size });
    await stock.confirm([...claimed.keys()].map((id) => ({ ...req(id), key: null, answer: '{}' })));
    expect(await stock.snapshot(0)).toEqual({ initial: 200, available: sweptTotal, held: 0, sold: claimed.size, epoch: 1 });
  });

  it('a rebuild loads open reservations back: payable, and they still expire', async () => {
    const soon = Date.now() + 300;
    const { stock, resv } = await open(5, {
      epoch: 1,
      skus: [{ initial: 5, sold: 1, held: 2 }],
      users: [[0, 'kept', 1], [0, 'brief', 1]],
      holds: [
        { sku: 0, holdId: 'kept', qty: 1, userId: 'kept', limited: true, expiresAt: Date.now() + 60_000 },
        { sku: 0, holdId: 'brief', qty: 1, userId: 'brief', limited: true, expiresAt: soon },
      ],
    });
    expect(await stock.snapshot(0)).toEqual({ initial: 5, available: 2, held: 2, sold: 1, epoch: 1 });
    expect((await resv.reserve(req('again', 'kept'), soon)).kind, 'the restored allowance holds').toBe('limit');
    expect(await resv.sweep(0, soon - 1)).toBe(0);
    expect(await resv.sweep(0, soon)).toBe(1);
    expect(await resv.claim(0, 'brief')).toEqual({ kind: 'gone' });
    expect((await resv.claim(0, 'kept')).kind).toBe('claimed');
    expect(await stock.snapshot(0)).toMatchObject({ available: 3, held: 1 });
  });

  it('a pay key: run once, replay in flight (no answer) and after (the answer), mismatch, forget', async () => {
    const { resv } = await open(1);
    expect(await resv.keyBegin(0, 'k', 7, 'r1')).toEqual({ kind: 'run' });
    expect(await resv.keyBegin(0, 'k', 7, 'r1')).toEqual({ kind: 'replay', holdId: 'r1', answer: null });
    expect(await resv.keyBegin(0, 'k', 8, 'r1')).toEqual({ kind: 'mismatch' });
    await resv.keyEnd(0, 'k', 'other', '{"x":1}'); // not this key's request: ignored
    await resv.keyEnd(0, 'k', 'r1', '{"orderId":"r1"}');
    expect(await resv.keyBegin(0, 'k', 7, 'r1')).toEqual({ kind: 'replay', holdId: 'r1', answer: '{"orderId":"r1"}' });
    expect(await resv.keyBegin(0, 'k2', 7, 'r2')).toEqual({ kind: 'run' });
    await resv.keyEnd(0, 'k2', 'r2', null);
    expect(await resv.keyBegin(0, 'k2', 7, 'r2'), 'forgotten: a retry runs again').toEqual({ kind: 'run' });
  });

  it('reserve replays a keyed reserve and refuses sold out and a missing sale', async () => {
    const { resv } = await open(1);
    const keyed = { ...req('r1', 'kim'), key: 'rk', fingerprint: 5 };
    expect((await resv.reserve(keyed, Date.now() + 60_000)).kind).toBe('taken');
    expect(await resv.reserve({ ...keyed, holdId: 'r9' }, Date.now() + 60_000)).toEqual({ kind: 'replay', holdId: 'r1', answer: null });
    await resv.keyEnd(0, 'rk', 'r1', '{"reservationId":"r1"}');
    expect(await resv.reserve({ ...keyed, holdId: 'r9' }, Date.now() + 60_000)).toEqual({ kind: 'replay', holdId: 'r1', answer: '{"reservationId":"r1"}' });
    expect(await resv.reserve(req('r2', 'lee'), Date.now() + 60_000)).toEqual({ kind: 'sold_out' });
    const gone = new RedisReservations(links[0], { prefix: uniqueName('fs-test-none'), saleId: 1, skuCount: 1, layout: 'sku' });
    expect(await gone.reserve(req('r3'), Date.now())).toEqual({ kind: 'missing' });
    expect(await gone.claim(0, 'r3')).toEqual({ kind: 'missing' });
  });
});
