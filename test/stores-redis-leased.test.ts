// redis-leased against the real Redis: leases, the sale-wide limit and keys under users' own tags,
// draining at sell-out (exact: every unit sold, none twice), and processes racing one sale.
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../src/stores/redis/link.ts';
import { RedisLeasedStock, type RedisLeasedOptions } from '../src/stores/redis/leased-store.ts';
import { dropRedisKeys, redisAvailable, REDIS_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';
import { checkRace, loadSale, raceProcesses } from './helpers/store-race.ts';

const redis = await redisAvailable();
requireOrSkip('Redis', redis);

const prefixes: string[] = [];
function prefix(): string {
  const p = uniqueName('fs-test-leased');
  prefixes.push(p);
  return p;
}
afterAll(async () => {
  if (redis.ok) for (const p of prefixes) await dropRedisKeys(p);
});

async function owner(p: string, name: string, skuCount: number, options: Partial<RedisLeasedOptions> = {}): Promise<RedisLeasedStock> {
  return new RedisLeasedStock(await connectRedis(REDIS_URL), { prefix: p, saleId: 1, skuCount, owner: name, owners: 2, leaseSize: 4, ...options });
}

const take = { sku: 0, qty: 1, userId: 'alice', limit: 0, key: null, fingerprint: 0 };

describe.skipIf(!redis.ok)('redis-leased: one process', () => {
  it('leases a batch, sells from it without Redis, gives unsold units back on close', async () => {
    const p = prefix();
    await loadSale('redis-leased', p, [10]);
    const a = await owner(p, 'a', 1);
    expect(await a.take({ ...take, holdId: 'h1' })).toEqual({ kind: 'taken', epoch: 1 });
    const snap = await a.snapshot(0);
    expect(snap).toMatchObject({ initial: 10, available: 9, sold: 1 }); // 4 leased, 3 of them unsold
    for (let i = 2; i <= 4; i++) expect((await a.take({ ...take, holdId: `h${i}` })).kind).toBe('taken');
    await a.close();
    const checker = await owner(p, 'checker', 1);
    expect(await checker.snapshot(0)).toMatchObject({ initial: 10, available: 6, sold: 4 });
    await checker.close();
  });

  it('holds a sale-wide limit over two SKUs, and keys across SKUs and processes', async () => {
    const p = prefix();
    await loadSale('redis-leased', p, [10, 10]);
    const a = await owner(p, 'a', 2);
    const b = await owner(p, 'b', 2);
    const limited = { ...take, limit: 2 };
    expect((await a.take({ ...limited, sku: 0, holdId: 'a1' })).kind).toBe('taken');
    expect((await b.take({ ...limited, sku: 1, holdId: 'b1' })).kind).toBe('taken');
    expect(await a.take({ ...limited, sku: 1, holdId: 'a2' })).toEqual({ kind: 'limit' });
    const keyed = { ...take, userId: 'bob', key: 'k', fingerprint: 3 };
    expect((await a.take({ ...keyed, holdId: 'a3' })).kind).toBe('taken');
    expect(await b.take({ ...keyed, holdId: 'b3' })).toEqual({ kind: 'replay', holdId: 'a3', answer: null });
    expect(await b.take({ ...keyed, sku: 1, fingerprint: 5, holdId: 'b4' })).toEqual({ kind: 'mismatch' });
    await a.confirm([{ ...keyed, holdId: 'a3', answer: 'done' }]);
    expect(await b.take({ ...keyed, holdId: 'b5' })).toEqual({ kind: 'replay', holdId: 'a3', answer: 'done' });
    await a.release([{ ...limited, sku: 0, holdId: 'a1' }]);
    expect((await b.take({ ...limited, sku: 1, holdId: 'b6' })).kind).toBe('taken');
    await Promise.all([a.close(), b.close()]);
  });

  it('at sell-out, takes the units another live process holds (draining) before saying sold out', async () => {
    const p = prefix();
    await loadSale('redis-leased', p, [6]);
    const a = await owner(p, 'a', 1, { leaseSize: 6, owners: 1 });
    const b = await owner(p, 'b', 1, { leaseSize: 6, owners: 1 });
    expect((await a.take({ ...take, holdId: 'a1' })).kind).toBe('taken'); // a leases all 6
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push((await b.take({ ...take, holdId: `b${i}` })).kind);
    expect(got).toEqual(['taken', 'taken', 'taken', 'taken', 'taken', 'sold_out']);
    expect(await a.take({ ...take, holdId: 'a2' })).toEqual({ kind: 'sold_out' });
    await Promise.all([a.close(), b.close()]);
  });

  it("answers 'missing' when a dead process's lease may hold units (only a rebuild can count them), and after a rebuild sells them", async () => {
    const p = prefix();
    await loadSale('redis-leased', p, [4]);
    const deadLink = await connectRedis(REDIS_URL);
    const dead = new RedisLeasedStock(deadLink, { prefix: p, saleId: 1, skuCount: 1, owner: 'dead', owners: 1, leaseSize: 4, ttlMs: 400, heartbeatMs: 100 });
    expect((await dead.take({ ...take, holdId: 'd1' })).kind).toBe('taken');
    // It dies: no heartbeat, nothing returned (close() would return its units).
    await deadLink.close();
    const b = await owner(p, 'b', 1, { ttlMs: 400, heartbeatMs: 100, maxWaitMs: 2000 });
    expect(await b.take({ ...take, holdId: 'b1' })).toEqual({ kind: 'missing' });
    // The ledger knows 1 was sold (d1): rebuild at epoch 2 puts the other 3 back.
    expect(await b.load({ epoch: 2, skus: [{ initial: 4, sold: 1, held: 0 }], users: [], keys: [] })).toBe(true);
    const kinds: string[] = [];
    for (let i = 0; i < 4; i++) kinds.push((await b.take({ ...take, holdId: `b${i + 2}` })).kind);
    expect(kinds).toEqual(['taken', 'taken', 'taken', 'sold_out']);
    await b.close();
  });
});

describe.skipIf(!redis.ok)('redis-leased: processes racing one sale', () => {
  it('4 processes, limit and keys: nothing oversold, limits and keys held, counters equal receipts', async () => {
    const p = prefix();
    const stock = [200, 200];
    await loadSale('redis-leased', p, stock);
    const outcomes = await raceProcesses(4, (i) => ({
      url: REDIS_URL, design: 'redis-leased', prefix: p, saleId: 1, skuCount: 2, perUserLimit: 3, owner: `p${i}`, owners: 4, leaseSize: 32,
      seed: 2000 + i, buyers: 300, users: 200, keys: 40, keyShare: 0.25, releaseShare: 0.1, concurrency: 16,
    }));
    await checkRace('redis-leased', p, stock, outcomes, { perUserLimit: 3 });
  });

  it('exact at sell-out: 4 processes, demand 4× the stock, every unit sold and none twice', async () => {
    const p = prefix();
    const stock = [300];
    await loadSale('redis-leased', p, stock);
    const outcomes = await raceProcesses(4, (i) => ({
      url: REDIS_URL, design: 'redis-leased', prefix: p, saleId: 1, skuCount: 1, perUserLimit: 0, owner: `p${i}`, owners: 4, leaseSize: 64,
      seed: 3000 + i, buyers: 200, users: 1000, keys: 10, keyShare: 0.05, releaseShare: 0, concurrency: 8,
    }));
    const totals = await checkRace('redis-leased', p, stock, outcomes, { perUserLimit: 0 });
    expect(totals.soldOut[0]).toBe(true);
    expect(totals.confirmedBySku[0]).toBe(300);
  });
});
