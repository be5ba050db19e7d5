// redis-lua against the real Redis: the take script's answers one by one, then several processes racing
// one sale (limits and keys shared across them), with and without batching.
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../src/stores/redis/link.ts';
import { RedisLuaStock, type RedisLuaOptions } from '../src/stores/redis/lua-store.ts';
import type { StockLoad } from '../src/stores/stock-store.ts';
import { dropRedisKeys, redisAvailable, REDIS_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';
import { checkRace, loadSale, raceProcesses } from './helpers/store-race.ts';

const redis = await redisAvailable();
requireOrSkip('Redis', redis);

const prefixes: string[] = [];
function prefix(): string {
  const p = uniqueName('fs-test-lua');
  prefixes.push(p);
  return p;
}
afterAll(async () => {
  if (redis.ok) for (const p of prefixes) await dropRedisKeys(p);
});

async function store(options: Partial<RedisLuaOptions> & { skus?: number[] } = {}): Promise<RedisLuaStock> {
  const skus = options.skus ?? [5];
  const s = new RedisLuaStock(await connectRedis(REDIS_URL), { prefix: prefix(), saleId: 1, skuCount: skus.length, layout: 'sku', perUserLimit: 0, ...options });
  const load: StockLoad = { epoch: 1, skus: skus.map((initial) => ({ initial, sold: 0, held: 0 })), users: [], keys: [] };
  expect(await s.load(load)).toBe(true);
  return s;
}

const take = { sku: 0, qty: 1, userId: 'alice', limit: 0, key: null, fingerprint: 0 };

describe.skipIf(!redis.ok)('redis-lua: one take at a time', () => {
  it('takes until sold out, never below zero; confirm and release move units', async () => {
    const s = await store({ skus: [3] });
    expect(await s.take({ ...take, qty: 2, holdId: 'h1' })).toEqual({ kind: 'taken', epoch: 1 });
    expect(await s.take({ ...take, qty: 2, holdId: 'h2' })).toEqual({ kind: 'sold_out' });
    expect(await s.take({ ...take, holdId: 'h3' })).toEqual({ kind: 'taken', epoch: 1 });
    expect(await s.take({ ...take, holdId: 'h4' })).toEqual({ kind: 'sold_out' });
    expect(await s.snapshot(0)).toEqual({ initial: 3, available: 0, held: 3, sold: 0, epoch: 1 });
    await s.confirm([{ ...take, qty: 2, holdId: 'h1', answer: '{}' }]);
    await s.release([{ ...take, holdId: 'h3' }]);
    await s.release([{ ...take, holdId: 'h3' }]); // twice: the second finds nothing
    expect(await s.snapshot(0)).toEqual({ initial: 3, available: 1, held: 0, sold: 2, epoch: 1 });
    await expect(s.take({ ...take, holdId: 'h1' })).resolves.toEqual({ kind: 'taken', epoch: 1 }); // h1 was confirmed: the id is free again
    await s.close();
  });

  it('holds the per-user limit, and a release gives the allowance back', async () => {
    const s = await store({ perUserLimit: 2 });
    const limited = { ...take, limit: 2 };
    expect((await s.take({ ...limited, qty: 2, holdId: 'a' })).kind).toBe('taken');
    expect(await s.take({ ...limited, holdId: 'b' })).toEqual({ kind: 'limit' });
    expect((await s.take({ ...limited, userId: 'bob', holdId: 'c' })).kind).toBe('taken');
    await s.release([{ ...limited, qty: 2, holdId: 'a' }]);
    expect((await s.take({ ...limited, holdId: 'd' })).kind).toBe('taken');
    await s.close();
  });

  it('replays a key (in flight, then answered), refuses it for another request, frees it on release', async () => {
    const s = await store();
    const keyed = { ...take, key: 'k1', fingerprint: 7 };
    expect((await s.take({ ...keyed, holdId: 'o1' })).kind).toBe('taken');
    expect(await s.take({ ...keyed, holdId: 'o2' })).toEqual({ kind: 'replay', holdId: 'o1', answer: null });
    expect(await s.take({ ...keyed, fingerprint: 9, holdId: 'o3' })).toEqual({ kind: 'mismatch' });
    await s.confirm([{ ...keyed, holdId: 'o1', answer: '{"orderId":"o1"}' }]);
    expect(await s.take({ ...keyed, holdId: 'o4' })).toEqual({ kind: 'replay', holdId: 'o1', answer: '{"orderId":"o1"}' });
    expect((await s.take({ ...keyed, key: 'k2', holdId: 'o5' })).kind).toBe('taken');
    await s.release([{ ...keyed, key: 'k2', holdId: 'o5' }]);
    expect((await s.take({ ...keyed, key: 'k2', holdId: 'o6' })).kind).toBe('taken');
    expect((await s.snapshot(0))?.held).toBe(1);
    await s.close();
  });

  it("answers 'missing' when the stock is gone (Redis lost its keys), and a rebuild refuses an older epoch", async () => {
    const s = await store();
    const p = prefixes.at(-1)!;
    await dropRedisKeys(p);
    expect(await s.take({ ...take, holdId: 'x' })).toEqual({ kind: 'missing' });
    expect(await s.snapshot(0)).toBeNull();
    const load = (epoch: number, sold: number): StockLoad => ({ epoch, skus: [{ initial: 5, sold, held: 0 }], users: [], keys: [] });
    expect(await s.load(load(3, 2))).toBe(true);
    expect(await s.load(load(2, 0))).toBe(false); // a slower rebuilder with an older epoch changes nothing
    expect(await s.snapshot(0)).toEqual({ initial: 5, available: 3, held: 0, sold: 2, epoch: 3 });
    expect(await s.take({ ...take, holdId: 'y' })).toEqual({ kind: 'taken', epoch: 3 });
    await s.close();
  });

  it('restores users and keys on rebuild: a restored key replays its order, one without fingerprint answers mismatch', async () => {
    const s = await store({ perUserLimit: 1 });
    await s.load({
      epoch: 5,
      skus: [{ initial: 5, sold: 2, held: 0 }],
      users: [[0, 'alice', 1]],
      keys: [
        { sku: 0, key: 'k1', fingerprint: 7, orderId: 'o1', userId: 'bob', answer: '{"orderId":"o1"}', of: 'checkout' },
        { sku: 0, key: 'old', fingerprint: null, orderId: 'o0', userId: 'carol', answer: '{"orderId":"o0"}', of: 'checkout' },
      ],
    });
    expect(await s.take({ ...take, limit: 1, holdId: 'h' })).toEqual({ kind: 'limit' });
    expect(await s.take({ ...take, userId: 'bob', limit: 1, key: 'k1', fingerprint: 7, holdId: 'h2' })).toEqual({ kind: 'replay', holdId: 'o1', answer: '{"orderId":"o1"}' });
    expect(await s.take({ ...take, userId: 'carol', limit: 1, key: 'old', fingerprint: 7, holdId: 'h3' })).toEqual({ kind: 'mismatch' });
    await s.close();
  });

  it('refuses a sale-wide limit over several SKUs with one tag per SKU (it could not be held)', async () => {
    const link = await connectRedis(REDIS_URL);
    expect(() => new RedisLuaStock(link, { prefix: 'x', saleId: 1, skuCount: 2, layout: 'sku', perUserLimit: 1 })).toThrow(/layout 'sale'/);
    await link.close();
  });
});

describe.skipIf(!redis.ok)('redis-lua: processes racing one sale', () => {
  for (const variant of [
    { name: 'one SKU, tag per SKU', layout: 'sku' as const, stock: [300], batch: false },
    { name: 'one SKU, batched takes', layout: 'sku' as const, stock: [300], batch: true },
    { name: 'two SKUs, one tag for the sale (sale-wide limit)', layout: 'sale' as const, stock: [150, 150], batch: false },
  ]) {
    it(`${variant.name}: nothing oversold, limits and keys held across 4 processes`, async () => {
      const p = prefix();
      await loadSale('redis-lua', p, variant.stock, { layout: variant.layout });
      const outcomes = await raceProcesses(4, (i) => ({
        url: REDIS_URL, design: 'redis-lua', prefix: p, saleId: 1, skuCount: variant.stock.length, perUserLimit: 3, layout: variant.layout, batch: variant.batch,
        owner: `p${i}`, owners: 4, seed: 1000 + i, buyers: 250, users: 150, keys: 40, keyShare: 0.25, releaseShare: 0.1, concurrency: 16,
      }));
      await checkRace('redis-lua', p, variant.stock, outcomes, { perUserLimit: 3, layout: variant.layout });
    });
  }
});
