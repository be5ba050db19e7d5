// The PostgreSQL ledger against the real server: per-order failures inside one committed batch (as the
// SQLite store reports them), the stock-epoch fence, recovery, and group commit.
import { afterAll, describe, expect, it } from 'vitest';
import { PgLedger } from '../src/stores/postgres/ledger.ts';
import { PgGroupCommitter } from '../src/stores/postgres/group-commit.ts';
import { dropPgSchema, pgRows, postgresAvailable, POSTGRES_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';

const postgres = await postgresAvailable();
requireOrSkip('PostgreSQL', postgres);

const schemas: string[] = [];
async function ledger(): Promise<{ l: PgLedger; sale: number }> {
  const schema = uniqueName('fs_test_ledger').toLowerCase();
  schemas.push(schema);
  const l = await PgLedger.open(POSTGRES_URL, { schema });
  return { l, sale: await l.newSale('{"skus":[]}') };
}
afterAll(async () => {
  if (postgres.ok) for (const s of schemas) await dropPgSchema(s);
});

/** Waits (bounded) until the batch's INSERT is running on the server, or `done` settles. */
async function untilInserting(schema: string, done: Promise<unknown>): Promise<void> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: POSTGRES_URL });
  await c.connect();
  let settled = false;
  void done.finally(() => (settled = true));
  try {
    for (const until = Date.now() + 10_000; Date.now() < until && !settled; ) {
      const r = await c.query("SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1", [`INSERT INTO ${schema}.orders%`]);
      if (r.rows.length > 0) return;
    }
  } finally {
    await c.end();
  }
}

type Row = [string, string, string, number, number, string | null, number | null];
const row = (id: string, over: Partial<{ sku: string; user: string; qty: number; key: string | null; print: number | null }> = {}): Row => [
  id, over.sku ?? 'A', over.user ?? 'u1', over.qty ?? 1, 1_700_000_000_000, over.key ?? null, over.print ?? null,
];

describe.skipIf(!postgres.ok)('PgLedger', () => {
  it('commits a batch and reports each refused order by index, keeping the rest', async () => {
    const { l, sale } = await ledger();
    expect(await l.appendBatch(sale, row('o1', { key: 'k1', print: 11 }))).toEqual([]);
    const flat = [
      ...row('o2'),
      ...row('o1'), // id already in the ledger
      ...row('o3', { key: 'k1', print: 11 }), // key already used in this sale
      ...row('o4', { key: 'k2', print: 12 }),
      ...row('o5', { key: 'k2', print: 12 }), // key used earlier in this batch
      ...row('o4'), // id used earlier in this batch
      ...row('o6', { qty: 0 }), // refused before it is sent
      ...row('o7'),
    ];
    const failed = await l.appendBatch(sale, flat);
    expect(failed.map(([i]) => i)).toEqual([1, 2, 4, 5, 6]);
    expect(failed[0][1]).toMatch(/duplicate order id o1/);
    expect(failed[1][1]).toMatch(/duplicate idempotency key "k1"/);
    expect(failed[2][1]).toMatch(/duplicate idempotency key "k2"/);
    expect(failed[3][1]).toMatch(/duplicate order id o4/);
    expect(failed[4][1]).toMatch(/qty/);
    const r = await l.recover(sale);
    expect(r.orders).toBe(4);
    expect(r.soldBySku).toEqual(new Map([['A', 4]]));
    await l.close();
  });

  it("tells a pay's key from a checkout's: the order's id is a reservation's of the same sale", async () => {
    const { l, sale } = await ledger();
    await pgRows(`INSERT INTO ${l.schema}.reservations (reservation_id, sale_id, sku, user_id, qty, created_at, expires_at, answer, stock_epoch) VALUES ('r1.0', ${sale}, 'A', 'ann', 1, 0, 0, '{}', 1), ('r2.0', ${sale}, 'A', 'ann', 1, 0, 0, '{}', 1)`);
    await l.appendBatch(sale, [...row('r1.0', { sku: 'A', user: 'ann', key: 'pay' }), ...row('o9', { sku: 'A', user: 'ann', key: 'checkout' })]);
    const other = await l.newSale('{}');
    expect(await l.appendBatch(other, row('r2.0', { sku: 'A', user: 'ann', key: 'pay' }))).toEqual([]); // an order of another sale is not this sale's reservation's pay
    expect((await l.recover(sale)).keys.map((k) => [k.key, k.pays]).sort()).toEqual([['checkout', false], ['pay', true]]);
    expect((await l.recover(other)).keys.map((k) => [k.key, k.pays])).toEqual([['pay', false]]);
    await l.close();
  });

  it('keys are unique per sale, not across sales', async () => {
    const { l, sale } = await ledger();
    const next = await l.newSale('{}');
    expect(await l.appendBatch(sale, row('a', { key: 'k' }))).toEqual([]);
    expect(await l.appendBatch(next, row('b', { key: 'k' }))).toEqual([]);
    await l.close();
  });

  it('recovers sold per SKU, units per user (sale and SKU) and keys with fingerprints', async () => {
    const { l, sale } = await ledger();
    await l.appendBatch(sale, [...row('o1', { sku: 'A', user: 'alice', qty: 2 }), ...row('o2', { sku: 'B', user: 'alice' }), ...row('o3', { sku: 'B', user: 'bob', key: 'k', print: -5 })]);
    const r = await l.recover(sale);
    expect(r.soldBySku).toEqual(new Map([['A', 2], ['B', 2]]));
    expect(new Map(r.users)).toEqual(new Map([['alice', 3], ['bob', 1]]));
    expect(r.usersBySku.sort()).toEqual([['A', 'alice', 2], ['B', 'alice', 1], ['B', 'bob', 1]]);
    expect(r.keys).toEqual([{ key: 'k', orderId: 'o3', fingerprint: -5, sku: 'B', userId: 'bob', pays: false }]);
    const page = await l.pageNdjson(sale, 0, 2);
    expect(page.count).toBe(2);
    expect((await l.pageNdjson(sale, page.lastSeq, 10)).count).toBe(1);
    await l.close();
  });

  it('fences stock epochs: after beginRebuild, orders taken under the old epoch fail alone; the rebuild counted everything committed before', async () => {
    const { l, sale } = await ledger();
    expect(await l.stockEpoch(sale)).toBe(1);
    expect(await l.appendBatch(sale, [...row('o1'), ...row('o2')], 1)).toEqual([]);
    const { epoch, recovery } = await l.beginRebuild(sale);
    expect(epoch).toBe(2);
    expect(recovery.soldBySku.get('A')).toBe(2);
    const failed = await l.appendBatch(sale, [...row('o3'), ...row('o4')], [1, 2]);
    expect(failed).toEqual([[0, expect.stringMatching(/stale stock epoch 1 .*epoch 2/)]]);
    expect((await l.recover(sale)).orders).toBe(3);
    await l.close();
  });

  it('a rebuild waits for a batch in flight and counts it', async () => {
    const { l, sale } = await ledger();
    const big: Array<string | number | null> = [];
    for (let i = 0; i < 20_000; i++) big.push(...row(`b${i}`));
    const batch = l.appendBatch(sale, big, 1);
    await untilInserting(l.schema, batch); // mid-batch: without the fence the rebuild would count none of it
    const { recovery } = await l.beginRebuild(sale);
    expect(await batch).toEqual([]);
    expect(recovery.soldBySku.get('A')).toBe(20_000);
    await l.close();
  });

  it('group commit: 3,000 concurrent appends commit in far fewer transactions, each settles once durable', async () => {
    const { l, sale } = await ledger();
    const committer = new PgGroupCommitter(l, sale);
    const results = await Promise.all(
      Array.from({ length: 3000 }, (_, i) => committer.append({ orderId: `g${i}`, sku: 'A', userId: `u${i % 100}`, qty: 1, createdAt: Date.now(), key: i % 10 === 0 ? `k${i}` : null, fingerprint: i % 10 === 0 ? i : null, epoch: 1 })),
    );
    expect(results.every((r) => r === null)).toBe(true);
    expect(committer.stats.orders).toBe(3000);
    expect(committer.stats.batches).toBeLessThan(100);
    expect((await l.recover(sale)).orders).toBe(3000);
    // A duplicate in a later batch fails alone.
    const again = await Promise.all([committer.append({ orderId: 'g1', sku: 'A', userId: 'x', qty: 1, createdAt: 0, key: null, fingerprint: null, epoch: 1 }), committer.append({ orderId: 'new', sku: 'A', userId: 'x', qty: 1, createdAt: 0, key: null, fingerprint: null, epoch: 1 })]);
    expect(again[0]).toMatch(/duplicate order id g1/);
    expect(again[1]).toBeNull();
    await l.close();
  });

  it('refuses a schema name that is not a plain identifier, and names an unreachable server', async () => {
    await expect(PgLedger.open(POSTGRES_URL, { schema: 'x; drop table y' })).rejects.toThrow(/plain lower-case identifier/);
    await expect(PgLedger.open('postgres://postgres@127.0.0.1:1/test')).rejects.toThrow(/cannot open the ledger at postgres:\/\/postgres@127\.0\.0\.1:1\/test/);
    await expect(PgLedger.open('mysql://x/y')).rejects.toThrow(/scheme mysql: is not one of/);
  });
});

