// Failover on a real Redis Cluster with replicas: 3 masters + 3 replicas of the test's own
// (test/helpers/redis-cluster.ts, cluster-node-timeout 1 s), two `serve` processes selling one SKU, the
// replica of the SKU's master cut off its replication stream before the sale (it keeps the stock as
// loaded), and that master killed with SIGKILL once 25 of the 50 units are acknowledged: the cluster
// promotes the stale replica by itself. Without the node fence (src/stores/redis/node-lua.ts) the promoted
// replica sold the stock again under the same stock epoch (measured: 83 units of 50 on redis-lua, 90 on
// redis-leased). With it,
// the first script on the promoted node finds another node's id in the stock hash, drops it and answers
// 'missing'; a process rebuilds from the ledger and the sale ends exact: the ledger holds exactly the
// stock, every acknowledged order and nothing else, inventory agrees on both processes.
// Before that, script by script (TAKE, RESERVE, CLAIM, LEASE, HOLD): a stock hash naming another node is
// dropped and answered 'missing', and a new load makes it sellable again; on one server the field is ''.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropPgSchema, pgRows, postgresAvailable, POSTGRES_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';
import { RedisCluster, redisClusterTools, until } from './helpers/redis-cluster.ts';
import { killAll, serve } from './helpers/serve.ts';
import { acknowledged, checkout, runCrowd, type Receipt } from './helpers/store-crowd.ts';
import { connectRedis, dropKeysUnder, type RedisLink } from '../src/stores/redis/link.ts';
import { RedisLuaStock } from '../src/stores/redis/lua-store.ts';
import { RedisReservations } from '../src/stores/redis/reservations.ts';
import { RedisLeasedStock } from '../src/stores/redis/leased-store.ts';
import { skuKeys } from '../src/stores/redis/keys.ts';
import type { StockLoad } from '../src/stores/stock-store.ts';
import { dropRedisKeys, redisAvailable, REDIS_URL } from './helpers/servers.ts';

const tools = redisClusterTools();
const postgres = await postgresAvailable();
const redis = await redisAvailable();
requireOrSkip('redis-server and redis-cli (a Redis Cluster started by the test)', tools);
requireOrSkip('PostgreSQL', postgres);
requireOrSkip('Redis', redis);
const ready = tools.ok && postgres.ok;

const STOCK = 50;
const BUYERS = 90;
/** Acknowledged orders before the master is killed. */
const KILL_AT = 25;
const schemas: string[] = [];
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flashsale-failover-test-'));
});

afterAll(async () => {
  killAll();
  for (const s of schemas) await dropPgSchema(s).catch(() => {});
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** One node alone; READONLY so a replica answers reads of its master's slots. */
async function onNode(cluster: RedisCluster, i: number): Promise<RedisLink> {
  const link = await connectRedis(cluster.nodeUrl(i));
  await link.call(['READONLY']);
  return link;
}

async function inventory(url: string): Promise<unknown> {
  const res = await fetch(`${url}/api/v1/inventory/A`, { signal: AbortSignal.timeout(5000) });
  return res.json();
}

const load = (epoch: number, initial: number): StockLoad => ({ epoch, skus: [{ initial, sold: 0, held: 0 }], users: [], keys: [] });
const req = (holdId: string, userId = 'ann') => ({ sku: 0, qty: 1, userId, limit: 0, key: null, fingerprint: 0, holdId });
/** A node id that no node has: what a stock hash replicated from a dead master names on its promoted replica. */
const OTHER = 'f'.repeat(40);

describe.skipIf(!tools.ok)('the node fence, script by script, on a 3-master cluster', () => {
  let cluster: RedisCluster | undefined;
  const links: RedisLink[] = [];
  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
  }, 60_000);
  afterAll(async () => {
    for (const l of links) await l.close().catch(() => {});
    await cluster?.stop();
  }, 30_000);

  async function link(): Promise<RedisLink> {
    const l = await connectRedis(cluster!.url);
    links.push(l);
    return l;
  }

  /** The stock hash's `node` and the id of the node holding it (asked through a link to that node alone). */
  async function stockNode(prefix: string): Promise<{ node: unknown; myId: unknown }> {
    const stock = skuKeys(prefix, 1, 0, 'sku').stock;
    const at = (await cluster!.keysByNode(prefix)).findIndex((keys) => keys.includes(stock));
    const own = await connectRedis(cluster!.nodeUrl(at));
    try {
      return { node: await own.call(['HGET', stock, 'node']), myId: await own.call(['CLUSTER', 'MYID']) };
    } finally {
      await own.close();
    }
  }

  it('redis-lua: a read (PEEK), TAKE, RESERVE and CLAIM on a stock loaded elsewhere answer missing and drop it; a new load sells again', async () => {
    const prefix = uniqueName('fs-fence-lua');
    const l = await link();
    const store = new RedisLuaStock(l, { prefix, saleId: 1, skuCount: 1, layout: 'sku', perUserLimit: 0 });
    const resv = new RedisReservations(l, { prefix, saleId: 1, skuCount: 1, layout: 'sku' });
    const stock = skuKeys(prefix, 1, 0, 'sku').stock;
    expect(await store.load(load(1, 10))).toBe(true);
    const { node, myId } = await stockNode(prefix);
    expect(node, 'LOAD records the node it ran on').toBe(myId);
    expect(await store.take(req('h1'))).toEqual({ kind: 'taken', epoch: 1 });
    expect(await resv.reserve(req('r1'), Date.now() + 60_000)).toEqual({ kind: 'taken', epoch: 1 });

    const forged = async () => {
      await l.call(['HSET', stock, 'node', OTHER]);
      expect(await l.call(['EXISTS', stock])).toBe(1);
    };
    // A read meets the fence too: the inventory, the audit's stock view and the start-up check must not
    // show a stale replica's stock until some take happens to drop it.
    await forged();
    expect(await store.snapshot(0), 'a read of a stock loaded elsewhere answers missing').toBeNull();
    expect(await l.call(['EXISTS', stock]), 'the read dropped the stock hash').toBe(0);
    expect(await store.load(load(2, 10))).toBe(true);
    expect(await store.snapshot(0), 'a read on the node that loaded it sees the stock').toMatchObject({ available: 10, epoch: 2 });
    await forged();
    expect(await store.take(req('h2'))).toEqual({ kind: 'missing' });
    expect(await l.call(['EXISTS', stock]), 'TAKE dropped the stock hash').toBe(0);
    expect(await store.snapshot(0), 'so the service sees the SKU missing and rebuilds').toBeNull();
    expect(await store.load(load(2, 10))).toBe(true);
    await forged();
    expect(await resv.reserve(req('r2'), Date.now() + 60_000)).toEqual({ kind: 'missing' });
    expect(await l.call(['EXISTS', stock]), 'RESERVE dropped it').toBe(0);
    expect(await store.load({ ...load(3, 10), skus: [{ initial: 10, sold: 0, held: 1 }], holds: [{ sku: 0, holdId: 'r1', qty: 1, userId: 'ann', limited: false, expiresAt: Date.now() + 60_000 }] })).toBe(true);
    await forged();
    expect(await resv.claim(0, 'r1')).toEqual({ kind: 'missing' });
    expect(await l.call(['EXISTS', stock]), 'CLAIM dropped it').toBe(0);
    expect(await store.load(load(4, 10))).toBe(true);
    expect(await store.take(req('h3'))).toEqual({ kind: 'taken', epoch: 4 });
    expect(await store.snapshot(0)).toMatchObject({ available: 9, epoch: 4 });
    await dropKeysOf(prefix);
  });

  it('redis-leased: a read (PEEK), LEASE and HOLD on a stock loaded elsewhere answer missing and drop it; a new load sells again', async () => {
    const prefix = uniqueName('fs-fence-leased');
    const l = await link();
    // A heartbeat (a LEASE) slower than the test: each script below is the one that meets the fence.
    const store = new RedisLeasedStock(l, { prefix, saleId: 1, skuCount: 1, owner: 'o1', owners: 1, leaseSize: 4, ttlMs: 60_000, heartbeatMs: 15_000 });
    const stock = skuKeys(prefix, 1, 0, 'sku').stock;
    try {
      expect(await store.load(load(1, 10))).toBe(true);
      const { node, myId } = await stockNode(prefix);
      expect(node).toBe(myId);
      expect(await store.take(req('h1'))).toEqual({ kind: 'taken', epoch: 1 }); // leases 4, sells 1
      // A read meets the fence too (see the redis-lua case above).
      await l.call(['HSET', stock, 'node', OTHER]);
      expect(await store.snapshot(0), 'a read of a stock loaded elsewhere answers missing').toBeNull();
      expect(await l.call(['EXISTS', stock]), 'the read dropped the stock hash').toBe(0);
      expect(await store.load(load(1, 10))).toBe(true);
      expect(await store.take(req('h1b'))).toEqual({ kind: 'taken', epoch: 1 });
      // HOLD: the reservation's unit comes from the lease (no Redis), its move to held finds another node.
      await l.call(['HSET', stock, 'node', OTHER]);
      expect(await store.reservations.reserve(req('r1'), Date.now() + 60_000)).toEqual({ kind: 'missing' });
      expect(await l.call(['EXISTS', stock]), 'HOLD dropped the stock hash').toBe(0);
      expect(await store.load(load(2, 10))).toBe(true);
      await l.call(['HSET', stock, 'node', OTHER]);
      // LEASE: a new load dropped the lease, so the take leases again and finds another node.
      expect(await store.take(req('h2'))).toEqual({ kind: 'missing' });
      expect(await l.call(['EXISTS', stock]), 'LEASE dropped it').toBe(0);
      expect(await store.load(load(3, 10))).toBe(true);
      expect(await store.take(req('h3'))).toEqual({ kind: 'taken', epoch: 3 });
    } finally {
      await store.close();
    }
    await dropKeysOf(prefix);
  });

  const dropKeysOf = (prefix: string) => dropKeysUnder(cluster!.url, prefix);
});

describe.skipIf(!redis.ok)('the node fence on one server', () => {
  it('LOAD records no node (CLUSTER MYID fails off a cluster): the scripts do not check, takes and leases go on', async () => {
    const prefix = uniqueName('fs-fence-one');
    const l = await connectRedis(REDIS_URL);
    try {
      const store = new RedisLuaStock(l, { prefix, saleId: 1, skuCount: 1, layout: 'sku', perUserLimit: 0 });
      expect(await store.load(load(1, 3))).toBe(true);
      expect(await l.call(['HGET', skuKeys(prefix, 1, 0, 'sku').stock, 'node'])).toBe('');
      expect(await store.take(req('h1'))).toEqual({ kind: 'taken', epoch: 1 });
      expect(await new RedisReservations(l, { prefix, saleId: 1, skuCount: 1, layout: 'sku' }).reserve(req('r1'), Date.now() + 60_000)).toEqual({ kind: 'taken', epoch: 1 });
    } finally {
      await l.close();
      await dropRedisKeys(prefix);
    }
  });
});

/** A fresh schema and key prefix, the sale file of one SKU, and the `serve` flags of one process selling it on the cluster. */
function saleOn(cluster: RedisCluster, name: string, o: { stock: number; perUserLimit: number }, strategy: string): { schema: string; prefix: string; args: string[] } {
  const schema = uniqueName(name).toLowerCase();
  schemas.push(schema);
  const sale = join(dir, `${schema}.json`);
  writeFileSync(sale, JSON.stringify({ skus: [{ id: 'A', stock: o.stock }], perUserLimit: o.perUserLimit }));
  const args = ['--port', '0', '--sale', sale, '--stock-store', cluster.url, '--ledger', POSTGRES_URL, '--store-schema', schema, '--stock-strategy', strategy, '--threads', '1'];
  return { schema, prefix: `flashsale:${schema}`, args };
}

describe.skipIf(!ready)('failover on a Redis Cluster with replicas (3 masters, 3 replicas)', () => {
  it.each(['redis-lua', 'redis-leased'])('%s: the master of the stock killed -9 mid-sale, its lagging replica promoted with stale stock: fenced and rebuilt from the ledger, exactly the stock sold, no acknowledged order lost', { timeout: 90_000 }, async (strategy) => {
    const cluster = await RedisCluster.start(3, { replicas: 1, nodeTimeoutMs: 1000 });
    try {
      const { schema, prefix, args } = saleOn(cluster, 'cfail', { stock: STOCK, perUserLimit: 1 }, strategy);
      const a = await serve(args);
      const b = await serve(args);

      // The master holding the SKU's stock, and its replica once it has the stock as loaded.
      const roles = await cluster.roles();
      const byNode = await cluster.keysByNode(prefix);
      const victim = byNode.findIndex((keys, i) => roles[i] === 'master' && keys.some((k) => k.endsWith(':stock')));
      expect(victim, 'a master holds the stock').toBeGreaterThanOrEqual(0);
      const stockKey = byNode[victim].find((k) => k.endsWith(':stock'))!;
      const replicas = await cluster.replicasOf(victim);
      expect(replicas).toHaveLength(1);
      const replicaLink = await onNode(cluster, replicas[0]);
      const victimLink = await onNode(cluster, victim);
      try {
        await until('the replica has the stock', 10_000, async () => ((await replicaLink.call(['HGET', stockKey, 'avail'])) === String(STOCK) ? true : null));
        await cluster.lagReplicasOf(victim);

        // The crowd: 90 keyed buyers, one unit each, over both processes, 503s retried (bounded).
        let logFrom = [0, 0];
        let failover: Promise<{ killedAt: number; promotedAt: number; promoted: number; staleAvail: number; trueAvail: number }> | null = null;
        const receipts = await runCrowd({
          urls: () => [a.url, b.url],
          users: Array.from({ length: BUYERS }, (_, i) => `u${i}`),
          sku: 'A',
          concurrency: 8,
          deadlineMs: 40_000,
          retries: 1000,
          keyed: true,
          onReceipt: (_r, all) => {
            if (failover !== null || all.filter((x) => x.status === 201).length < KILL_AT) return;
            failover = (async () => {
              const [trueAvail, staleAvail] = await Promise.all([victimLink.call(['HGET', stockKey, 'avail']), replicaLink.call(['HGET', stockKey, 'avail'])]);
              const killedAt = Date.now();
              logFrom = [a.stderr().length, b.stderr().length];
              await cluster.kill(victim);
              await cluster.catchUp(replicas[0]); // too late: its master is gone
              const promoted = await cluster.promoted(replicas, 20_000);
              return { killedAt, promotedAt: Date.now(), promoted, staleAvail: Number(staleAvail), trueAvail: Number(trueAvail) };
            })();
            failover.catch(() => {}); // awaited (and thrown) after the crowd
          },
        });
        expect(failover, 'the kill happened mid-sale').not.toBeNull();
        const f = await failover!;
        expect(f.promoted).toBe(replicas[0]);
        // The scenario is real: the replica promoted had the stock of before the sale, the master far less.
        expect(f.staleAvail - f.trueAvail, `stale replica avail ${f.staleAvail}, master ${f.trueAvail}`).toBeGreaterThanOrEqual(20);

        const statuses: Record<string, number> = {};
        for (const r of receipts) {
          const answer = `${r.status} ${r.error ?? ''}`.trim();
          statuses[answer] = (statuses[answer] ?? 0) + 1;
        }
        const last = new Map<string, Receipt>();
        for (const r of receipts) last.set(r.userId, r);
        expect([...last.values()].filter((r) => r.status !== 201 && !(r.status === 409 && r.error === 'sold_out')), `every buyer answered 201 or 409 (${JSON.stringify(statuses)})`).toEqual([]);
        expect(last.size).toBe(BUYERS);

        const acked = new Set(acknowledged(receipts));
        const rows = await pgRows<{ order_id: string; user_id: string; qty: number }>(`SELECT order_id, user_id, qty FROM ${schema}.orders`);
        const sold = rows.reduce((n, r) => n + r.qty, 0);
        expect(sold, `sold in the ledger (${JSON.stringify(statuses)})`).toBeLessThanOrEqual(STOCK);
        expect(sold, 'the buyers outnumber the stock: all of it sold').toBe(STOCK);
        expect([...acked].filter((id) => !rows.some((r) => r.order_id === id)), 'acknowledged orders missing from the ledger').toEqual([]);
        expect(new Set(rows.map((r) => r.order_id)), 'the ledger holds exactly the acknowledged orders').toEqual(acked);
        expect(new Set(rows.map((r) => r.user_id)).size, 'one unit per user (limit 1)').toBe(rows.length);
        for (const s of [a, b]) {
          const want = { initial: STOCK, available: 0, reserved: 0, sold: STOCK };
          const inv = await until('inventory sold out', 10_000, async () => {
            const got = await inventory(s.url);
            return JSON.stringify(got) === JSON.stringify(want) ? got : null;
          }).catch(async () => inventory(s.url));
          expect(inv, `inventory through ${s.url}`).toMatchObject(want);
        }
        expect(a.stderr().slice(logFrom[0]) + b.stderr().slice(logFrom[1]), 'a process rebuilt the stock from the ledger after the kill').toMatch(/stock epoch \d+ rebuilt from the ledger/);
        // The rebuild ran on the promoted node and recorded it in the stock hash (the fence's reference now).
        const promotedLink = await onNode(cluster, f.promoted);
        try {
          expect(await promotedLink.call(['HGET', stockKey, 'node'])).toBe(await promotedLink.call(['CLUSTER', 'MYID']));
        } finally {
          await promotedLink.close();
        }
        // Times from the kill (requests' send times): the first 201 (redis-leased sells on from its leases at
        // once) and the last 503 (after it, every request was served).
        const after = (status: number) => receipts.filter((r) => r.status === status && r.sentAt !== undefined && r.sentAt >= f.killedAt).map((r) => (r.sentAt! - f.killedAt) / 1000);
        const [ok, down] = [after(201), after(503)];
        console.log(`${strategy}: stale replica promoted ${((f.promotedAt - f.killedAt) / 1000).toFixed(1)} s after the kill (its stock ${f.staleAvail}, the master's ${f.trueAvail}); first 201 sent ${ok.length > 0 ? Math.min(...ok).toFixed(1) : '–'} s after it, last 503 ${down.length > 0 ? Math.max(...down).toFixed(1) : '–'} s; answers ${JSON.stringify(statuses)}`);
      } finally {
        await Promise.all([replicaLink.close().catch(() => {}), victimLink.close().catch(() => {})]);
      }
      await Promise.all([a.stop(), b.stop()]);
    } finally {
      await cluster.stop();
    }
  });

  // redis-leased keeps users' counts and keys under their own tags, on other masters than the stock: a
  // master holding users but no stock, failed over to a replica that lagged, leaves the stock intact and
  // the users' data stale. The slot markers name the node that wrote them (lease-lua.ts MARK), so the
  // first claim on the promoted node answers 'missing' and a rebuild puts counts and keys back from the ledger.
  it('redis-leased: a master holding users but no stock killed -9, its lagging replica promoted: the limit holds and keyed retries replay (slot markers name their node)', { timeout: 90_000 }, async () => {
    const cluster = await RedisCluster.start(3, { replicas: 1, nodeTimeoutMs: 1000 });
    try {
      const { schema, prefix, args } = saleOn(cluster, 'cfailusers', { stock: 200, perUserLimit: 2 }, 'redis-leased');
      const a = await serve(args);
      const b = await serve(args);
      const urls = [a.url, b.url];
      const roles = await cluster.roles();
      const stockAt = (await cluster.keysByNode(prefix)).findIndex((keys, i) => roles[i] === 'master' && keys.some((k) => k.endsWith(':stock')));
      const others = roles.flatMap((r, i) => (r === 'master' && i !== stockAt ? [i] : []));
      expect(others).toHaveLength(2);
      // Both masters without the stock lag behind their replicas before anyone buys (a marker per slot is in).
      const lagging = new Map<number, number>();
      for (const m of others) {
        const [r] = await cluster.replicasOf(m);
        const replica = await onNode(cluster, r);
        try {
          await until('the replica has the slot markers', 10_000, async () => (Number(await replica.call(['DBSIZE'])) > 1000 ? true : null));
        } finally {
          await replica.close();
        }
        lagging.set(m, (await cluster.lagReplicasOf(m))[0]);
      }

      /** One keyed checkout, retried (same key) while 503 or cut off; bounded. */
      const buy = async (url: string, userId: string, key: string): Promise<Receipt> => {
        let r = await checkout(url, 'A', userId, key);
        for (const end = Date.now() + 20_000; (r.status === 503 || r.status === 0) && Date.now() < end; ) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          r = await checkout(url, 'A', userId, key);
        }
        return r;
      };
      const pool = async (n: number, job: (i: number) => Promise<void>) => {
        let next = 0;
        await Promise.all(Array.from({ length: 8 }, async () => {
          while (next < n) await job(next++);
        }));
      };
      // 40 users buy their 2 units, keyed, each retried through the other process (the same order).
      const USERS = 40;
      const orders = new Map<string, string>();
      await pool(USERS, async (i) => {
        for (let n = 0; n < 2; n++) {
          const key = `k-u${i}-${n}`;
          const got = await buy(urls[(i + n) % 2], `u${i}`, key);
          expect([got.status, got.error], key).toEqual([201, null]);
          orders.set(key, got.orderId!);
          const again = await buy(urls[(i + n + 1) % 2], `u${i}`, key);
          expect([again.status, again.orderId], `the retry of ${key}`).toEqual([201, got.orderId]);
        }
      });

      // The victim: the master without the stock holding the most users' keys; its replica lagged all along.
      const byNode = await cluster.keysByNode(prefix);
      const usersOn = (i: number) => new Set(byNode[i].flatMap((k) => /\{s\d+:u:(u\d+)\}/.exec(k)?.[1] ?? []));
      const victim = others.sort((x, y) => usersOn(y).size - usersOn(x).size)[0];
      const lost = usersOn(victim);
      expect(lost.size, 'users whose counts and keys the lagging replica does not have').toBeGreaterThan(0);
      const replica = lagging.get(victim)!;
      const stale = await onNode(cluster, replica);
      try {
        const [u] = [...lost];
        expect(await stale.call(['KEYS', `${prefix}:{s*:u:${u}}:*`]), `the replica has nothing of ${u}`).toEqual([]);
      } finally {
        await stale.close();
      }
      const logFrom = [a.stderr().length, b.stderr().length];
      await cluster.kill(victim);
      for (const r of lagging.values()) await cluster.catchUp(r);
      expect(await cluster.promoted([replica], 20_000)).toBe(replica);

      // Every user asks a third unit (429) and retries both keys (the same orders), half of them retrying first.
      await pool(USERS, async (j) => {
        const why = lost.has(`u${j}`) ? ' (its data stale on the promoted replica)' : '';
        const third = async () => {
          const got = await buy(urls[j % 2], `u${j}`, `k-u${j}-2`);
          expect([got.status, got.error], `u${j}'s third unit${why}`).toEqual([429, 'limit_exceeded']);
        };
        if (j % 2 === 0) await third();
        for (let n = 0; n < 2; n++) {
          const key = `k-u${j}-${n}`;
          const again = await buy(urls[(j + n + 1) % 2], `u${j}`, key);
          expect([again.status, again.orderId], `the retry of ${key} after the failover${why}`).toEqual([201, orders.get(key)]);
        }
        if (j % 2 === 1) await third();
      });
      expect(a.stderr().slice(logFrom[0]) + b.stderr().slice(logFrom[1]), 'a process rebuilt from the ledger after the kill').toMatch(/stock epoch \d+ rebuilt from the ledger/);
      const rows = await pgRows<{ order_id: string; user_id: string; qty: number }>(`SELECT order_id, user_id, qty FROM ${schema}.orders`);
      expect(new Set(rows.map((r) => r.order_id)), 'the ledger holds exactly the acknowledged orders').toEqual(new Set(orders.values()));
      const perUser = new Map<string, number>();
      for (const r of rows) perUser.set(r.user_id, (perUser.get(r.user_id) ?? 0) + r.qty);
      expect(Math.max(...perUser.values()), 'a user over the limit').toBe(2);
      await Promise.all([a.stop(), b.stop()]);
    } finally {
      await cluster.stop();
    }
  });
});
