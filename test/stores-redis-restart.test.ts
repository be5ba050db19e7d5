// Redis keeps nothing on disk here. Mid-sale it is flushed (FLUSHALL) or killed with SIGKILL and started
// again empty; the service's processes (two stores, each its own connection) find the stock missing and
// rebuild it from the PostgreSQL ledger. Whatever the timing: every acknowledged order is in the ledger,
// no unit is sold twice, every unit is sold in the end, and per-user limits hold.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { connectRedis } from '../src/stores/redis/link.ts';
import { RedisLuaStock } from '../src/stores/redis/lua-store.ts';
import { RedisLeasedStock } from '../src/stores/redis/leased-store.ts';
import { PgLedger } from '../src/stores/postgres/ledger.ts';
import { PgGroupCommitter } from '../src/stores/postgres/group-commit.ts';
import { ensureStock, rebuildStock, type SaleStock } from '../src/stores/rebuild.ts';

import type { StockStore, StockStoreDesign } from '../src/stores/stock-store.ts';
import { dropPgSchema, postgresAvailable, POSTGRES_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';
import { PrivateRedis, redisServerInstalled } from './helpers/private-redis.ts';
import { StoreUnavailableError } from '../src/errors.ts';

const postgres = await postgresAvailable();
const server = redisServerInstalled();
requireOrSkip('PostgreSQL', postgres);
requireOrSkip('redis-server (a private Redis this test may flush and kill)', server);
const ready = postgres.ok && server.ok;

const STOCK = 300;
const LIMIT = 2;
const SALE: SaleStock = { skus: [{ id: 'A', stock: STOCK }] };
const schemas: string[] = [];
let redis: PrivateRedis;

beforeAll(async () => {
  if (ready) redis = await PrivateRedis.start();
});
afterAll(async () => {
  if (!ready) return;
  await redis.kill();
  for (const s of schemas) await dropPgSchema(s);
});

async function openStore(design: StockStoreDesign, name: string): Promise<StockStore> {
  const link = await connectRedis(redis.url);
  return design === 'redis-lua'
    ? new RedisLuaStock(link, { prefix: 'fs', saleId: 1, skuCount: 1, layout: 'sku', perUserLimit: LIMIT })
    : new RedisLeasedStock(link, { prefix: 'fs', saleId: 1, skuCount: 1, owner: name, owners: 2, leaseSize: 16, ttlMs: 1000, heartbeatMs: 50 });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!ready)('Redis lost mid-sale, stock rebuilt from the ledger', () => {
  for (const design of ['redis-lua', 'redis-leased'] as const) {
    for (const fault of ['FLUSHALL', 'SIGKILL and restart'] as const) {
      it(`${design}, ${fault}: nothing acknowledged lost, nothing sold twice, every unit sold`, async () => {
        const schema = uniqueName('fs_test_restart').toLowerCase();
        schemas.push(schema);
        const link = await connectRedis(redis.url);
        await link.call(['FLUSHALL']);
        await link.close();
        const ledger = await PgLedger.open(POSTGRES_URL, { schema });
        const saleId = 1;
        expect(await ledger.newSale(JSON.stringify(SALE))).toBe(saleId);
        const stores = [await openStore(design, 'p0'), await openStore(design, 'p1')];
        expect(await ensureStock(ledger, stores[0], saleId, SALE)).not.toBeNull(); // nothing in Redis at start
        const committer = new PgGroupCommitter(ledger, saleId);
        const acked: Array<{ orderId: string; userId: string }> = [];
        let rebuilding: Promise<unknown> | null = null;
        let rebuilds = 0;
        let unavailable = 0;
        let stale = 0;
        let faulted = false;
        const fail = async () => {
          faulted = true;
          if (fault === 'FLUSHALL') {
            const l = await connectRedis(redis.url);
            await l.call(['FLUSHALL']);
            await l.close();
          } else {
            await redis.kill();
            await sleep(100);
            await redis.restart();
          }
        };
        let faulting: Promise<void> | null = null;
        const deadline = Date.now() + 40_000;
        let seq = 0;
        const attempts = Array.from({ length: 2 * STOCK }, (_, i) => `u${i % 400}`);
        let next = 0;
        const buy = async (userId: string, n: number) => {
          const store = stores[n % 2];
          while (Date.now() < deadline) {
            const holdId = `o${n}-${seq++}`;
            const hold = { sku: 0, qty: 1, userId, limit: LIMIT, key: null, holdId };
            let r;
            try {
              r = await store.take({ ...hold, fingerprint: 0 });
            } catch (e) {
              if (!(e instanceof StoreUnavailableError)) throw e;
              unavailable++;
              await sleep(20);
              continue;
            }
            if (r.kind === 'sold_out' || r.kind === 'limit') return;
            if (r.kind === 'missing') {
              rebuilding ??= rebuildStock(ledger, store, saleId, SALE)
                .then(() => rebuilds++)
                .catch(() => sleep(20)) // Redis still down: the next buyer to find it missing tries again
                .finally(() => (rebuilding = null));
              await rebuilding;
              continue;
            }
            if (r.kind !== 'taken') throw new Error(`unexpected ${r.kind}`);
            const failure = await committer.append({ orderId: holdId, sku: 'A', userId, qty: 1, createdAt: Date.now(), key: null, fingerprint: null, epoch: r.epoch });
            if (failure === null) {
              acked.push({ orderId: holdId, userId }); // the 201
              if (acked.length === 100 && !faulted) faulting = fail();
              await store.confirm([{ ...hold, answer: '' }]).catch(() => {});
              return;
            }
            expect(failure).toMatch(/stale stock epoch/);
            stale++;
            await store.release([hold]).catch(() => {});
          }
          throw new Error('buyer ran out of time');
        };
        await Promise.all(
          Array.from({ length: 24 }, async () => {
            while (next < attempts.length) {
              const n = next++;
              await buy(attempts[n], n);
            }
          }),
        );
        await faulting;
        await committer.drain();
        await Promise.all(stores.map((s) => s.close().catch(() => {})));
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        try {
          const rows = (await client.query(`SELECT order_id, user_id, qty FROM ${schema}.orders WHERE sale_id = $1`, [saleId])).rows as Array<{ order_id: string; user_id: string; qty: number }>;
          const ids = new Set(rows.map((r) => r.order_id));
          expect(acked.filter((o) => !ids.has(o.orderId))).toEqual([]); // nothing acknowledged is lost
          expect(rows.reduce((n, r) => n + r.qty, 0)).toBe(STOCK); // nothing sold twice, nothing stranded
          const perUser = new Map<string, number>();
          for (const r of rows) perUser.set(r.user_id, (perUser.get(r.user_id) ?? 0) + r.qty);
          expect(Math.max(...perUser.values())).toBeLessThanOrEqual(LIMIT);
        } finally {
          await client.end();
          await ledger.close();
        }
        expect(faulted).toBe(true);
        expect(rebuilds).toBeGreaterThanOrEqual(1);
        console.log(`${design}, ${fault}: ${acked.length} acknowledged, ${rebuilds} rebuild(s), ${stale} orders refused for a stale epoch, ${unavailable} takes found Redis down`);
      });
    }
  }
});
