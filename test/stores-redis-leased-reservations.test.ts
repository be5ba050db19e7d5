// Reservations on redis-leased against the real Redis (src/stores/redis/leased-reservations.ts): a reserve
// takes its units from one owner's lease and moves them to a hold any owner can claim, pay, drop or
// sweep; the sale-wide limit is held across owners and comes back with a drop or an expiry; units of an
// expired reservation go back to the pool and an owner that answered sold out sells them; a rebuild
// brings open reservations and keys of reserves and pays back. Also: many takes at once on an owner with no
// lease yet are all served (waiters on one LEASE used to answer sold out with units left in the pool).
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../src/stores/redis/link.ts';
import { RedisLeasedStock } from '../src/stores/redis/leased-store.ts';
import type { ReservedHold } from '../src/stores/redis/reservations.ts';
import type { StockLoad } from '../src/stores/stock-store.ts';
import { dropRedisKeys, redisAvailable, REDIS_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';

const redis = await redisAvailable();
requireOrSkip('Redis', redis);

const prefixes: string[] = [];
const owners: RedisLeasedStock[] = [];
afterAll(async () => {
  for (const o of owners) await o.close().catch(() => {});
  if (redis.ok) for (const p of prefixes) await dropRedisKeys(p);
});

async function owner(p: string, name: string, skuCount = 1): Promise<RedisLeasedStock> {
  const o = new RedisLeasedStock(await connectRedis(REDIS_URL), { prefix: p, saleId: 1, skuCount, owner: name, owners: 2, leaseSize: 4 });
  owners.push(o);
  return o;
}

async function sale(stock: number[], load: Partial<StockLoad> = {}): Promise<string> {
  const p = uniqueName('fs-test-lresv');
  prefixes.push(p);
  const loader = await owner(p, 'loader', stock.length);
  expect(await loader.load({ epoch: 1, skus: stock.map((initial) => ({ initial, sold: 0, held: 0 })), users: [], keys: [], ...load })).toBe(true);
  return p;
}

const req = (holdId: string, userId: string, limit = 1, sku = 0) => ({ sku, qty: 1, userId, limit, key: null, fingerprint: 0, holdId });
const FAR = () => Date.now() + 60_000;
/** Polls until `ok` (bounded: heartbeats run every 100 ms, later on a loaded machine). */
async function until(ok: () => Promise<boolean> | boolean): Promise<void> {
  for (const end = Date.now() + 5000; !(await ok()) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
}

/**
 * An owner's snapshot once it matches (polled): it counts other owners' leases as they last reported them
 * (every heartbeat, 100 ms), so a take or a give-back elsewhere shows a heartbeat later.
 */
async function snapshotIs(o: RedisLeasedStock, want: Record<string, number>): Promise<void> {
  const matches = async () => {
    const snap = (await o.snapshot(0)) as Record<string, number> | null;
    return snap !== null && Object.keys(want).every((k) => snap[k] === want[k]);
  };
  await until(matches);
  expect(await o.snapshot(0)).toMatchObject(want);
}

function claimed(c: Awaited<ReturnType<RedisLeasedStock['reservations']['claim']>>): ReservedHold {
  if (c.kind !== 'claimed') throw new Error(`expected a claim, got ${c.kind}`);
  return c.hold;
}

describe.skipIf(!redis.ok)('redis-leased reservations', () => {
  it('a hold taken on one owner is claimed, paid and dropped on another; the limit holds across owners', async () => {
    const p = await sale([10]);
    const a = await owner(p, 'a');
    const b = await owner(p, 'b');
    expect(await a.reservations.reserve(req('r1.0', 'ann'), FAR())).toEqual({ kind: 'taken', epoch: 1 });
    expect(await b.reservations.reserve(req('r2.0', 'ann'), FAR()), 'sale-wide limit, other owner').toEqual({ kind: 'limit' });
    expect(await b.take({ ...req('o1', 'ann') }), 'a checkout counts the reservation too').toEqual({ kind: 'limit' });
    await snapshotIs(a, { initial: 10, available: 9, held: 1, sold: 0 });
    const hold = claimed(await b.reservations.claim(0, 'r1.0'));
    expect(hold).toMatchObject({ holdId: 'r1.0', userId: 'ann', qty: 1, limited: true });
    expect(await a.reservations.claim(0, 'r1.0')).toEqual({ kind: 'busy' });
    await b.reservations.paid(hold);
    await snapshotIs(a, { initial: 10, available: 9, held: 0, sold: 1 });
    expect(await a.reservations.claim(0, 'r1.0')).toEqual({ kind: 'gone' });

    expect((await b.reservations.reserve(req('r3.0', 'bob'), FAR())).kind).toBe('taken');
    expect(await a.reservations.drop(0, ['r3.0'])).toBe(1);
    expect(await a.reservations.drop(0, ['r3.0']), 'once').toBe(0);
    expect((await a.reservations.reserve(req('r4.0', 'bob'), FAR())).kind, 'the allowance came back (under the user tag)').toBe('taken');
    await snapshotIs(b, { initial: 10, available: 8, held: 1, sold: 1 });
  });

  it('units of an expired reservation go back to the pool: an owner that answered sold out sells them, none twice', async () => {
    const p = await sale([5]);
    const a = await owner(p, 'a');
    const b = await owner(p, 'b');
    const soon = Date.now() + 200;
    for (let i = 0; i < 5; i++) expect((await a.reservations.reserve(req(`r${i}.0`, `u${i}`), soon)).kind).toBe('taken');
    expect(await b.take(req('o-early', 'late', 0)), 'every unit reserved').toEqual({ kind: 'sold_out' });
    expect(await a.reservations.reserve(req('r9.0', 'late'), soon)).toEqual({ kind: 'sold_out' });
    await new Promise((r) => setTimeout(r, 250));
    expect(await b.reservations.sweep(0, Date.now())).toBe(5);
    expect(await a.reservations.sweep(0, Date.now()), 'each expires once').toBe(0);
    // The holders of the expired reservations buy too (limit 1): their allowance came back with the expiry.
    const takes = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).take(req(`o${i}`, i < 5 ? `u${i}` : `buyer${i}`))));
    expect(takes.filter((t) => t.kind === 'taken')).toHaveLength(5);
    expect(takes.filter((t) => t.kind === 'sold_out')).toHaveLength(3);
    await snapshotIs(a, { held: 0 });
  });

  it('a keyed reserve replays on another owner and keeps its answer; a rebuild brings holds and reserve/pay keys back', async () => {
    const p = await sale([10]);
    const a = await owner(p, 'a');
    const b = await owner(p, 'b');
    const keyed = { ...req('rk.0', 'kim'), key: 'K', fingerprint: 7 };
    expect((await a.reservations.reserve(keyed, FAR())).kind).toBe('taken');
    expect(await b.reservations.reserve({ ...keyed, holdId: 'rk2.0' }, FAR())).toEqual({ kind: 'replay', holdId: 'rk.0', answer: null });
    await a.reservations.keyEnd(0, 'K', 'rk.0', '{"reservationId":"rk.0"}');
    expect(await b.reservations.reserve({ ...keyed, holdId: 'rk3.0' }, FAR())).toEqual({ kind: 'replay', holdId: 'rk.0', answer: '{"reservationId":"rk.0"}' });
    expect(await b.reservations.reserve({ ...keyed, fingerprint: 9, holdId: 'rk4.0' }, FAR())).toEqual({ kind: 'mismatch' });
    await snapshotIs(a, { held: 1 });

    // The ledger's view after: rk.0 open (kim), one paid reservation with a keyed pay, one keyed checkout.
    const expiresAt = FAR();
    const load: StockLoad = {
      epoch: 2,
      skus: [{ initial: 10, sold: 2, held: 1 }],
      users: [[0, 'kim', 1], [0, 'pat', 1], [0, 'cy', 1]],
      keys: [
        { sku: 0, key: 'K', fingerprint: 7, orderId: 'rk.0', userId: '', answer: '{"reservationId":"rk.0"}', of: 'reserve' },
        { sku: 0, key: 'PAY', fingerprint: 11, orderId: 'rp.0', userId: 'pat', answer: '{"orderId":"rp.0"}', of: 'pay' },
        { sku: 0, key: 'CO', fingerprint: 13, orderId: 'o1', userId: 'cy', answer: '{"orderId":"o1"}', of: 'checkout' },
      ],
      holds: [{ sku: 0, holdId: 'rk.0', qty: 1, userId: 'kim', limited: true, expiresAt }],
    };
    expect(await b.load(load)).toBe(true);
    await until(() => a.epochOf(0) === 2); // a sells from its old lease until its next LEASE adopts the new epoch (the ledger's fence refuses those orders)
    await snapshotIs(a, { initial: 10, available: 7, held: 1, sold: 2, epoch: 2 });
    expect(await a.reservations.reserve({ ...keyed, holdId: 'rk5.0' }, FAR())).toEqual({ kind: 'replay', holdId: 'rk.0', answer: '{"reservationId":"rk.0"}' });
    expect(await a.reservations.keyBegin(0, 'PAY', 11, 'rp.0')).toEqual({ kind: 'replay', holdId: 'rp.0', answer: '{"orderId":"rp.0"}' });
    expect(await a.take({ ...req('o9', 'cy', 0), key: 'CO', fingerprint: 13 })).toEqual({ kind: 'replay', holdId: 'o1', answer: '{"orderId":"o1"}' });
    expect(await a.take(req('o10', 'kim')), "the open reservation's allowance").toEqual({ kind: 'limit' });
    const hold = claimed(await a.reservations.claim(0, 'rk.0'));
    expect(hold.expiresAt).toBe(expiresAt);
    expect(await b.reservations.drop(0, ['rk.0'])).toBe(1);
    expect((await a.take(req('o11', 'kim'))).kind, 'the allowance back under the new epoch').toBe('taken');
  });

  it('many takes at once on an owner with no lease yet are all served', async () => {
    const p = await sale([40]);
    const a = await owner(p, 'a');
    await owner(p, 'b'); // a second owner with nothing leased: "others report no units"
    const takes = await Promise.all(Array.from({ length: 40 }, (_, i) => a.take(req(`o${i}`, `u${i}`, 0))));
    expect(takes.map((t) => t.kind)).toEqual(Array(40).fill('taken'));
  });
});
