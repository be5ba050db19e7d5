// Failover on a real Redis Cluster with replicas: 3 masters + 3 replicas of the test's own
// (test/helpers/redis-cluster.ts, cluster-node-timeout 1 s), two `serve` processes selling one SKU, the
// replica of the SKU's master cut off its replication stream before the sale (it keeps the stock as
// loaded), and that master killed with SIGKILL once 40 of the 50 units are acknowledged: the cluster
// promotes the stale replica by itself. Without the node fence (src/stores/redis/node-lua.ts) the promoted
// replica sold the stock again under the same stock epoch (measured: 48 more units on redis-lua). With it,
// the first script on the promoted node finds another node's id in the stock hash, drops it and answers
// 'missing'; a process rebuilds from the ledger and the sale ends exact: the ledger holds exactly the
// stock, every acknowledged order and nothing else, inventory agrees on both processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropPgSchema, pgRows, postgresAvailable, POSTGRES_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';
import { RedisCluster, redisClusterTools } from './helpers/redis-cluster.ts';
import { killAll, serve } from './helpers/serve.ts';
import { acknowledged, runCrowd, type Receipt } from './helpers/store-crowd.ts';
import { connectRedis, type RedisLink } from '../src/stores/redis/link.ts';

const tools = redisClusterTools();
const postgres = await postgresAvailable();
requireOrSkip('redis-server and redis-cli (a Redis Cluster of the test\'s own)', tools);
requireOrSkip('PostgreSQL', postgres);
const ready = tools.ok && postgres.ok;

const STOCK = 50;
const BUYERS = 90;
/** Acknowledged orders before the master is killed. */
const KILL_AT = 40;
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

async function until<T>(what: string, ms: number, probe: () => Promise<T | null>): Promise<T> {
  for (const deadline = Date.now() + ms; ; ) {
    const got = await probe().catch(() => null);
    if (got !== null) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

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

describe.skipIf(!ready)('failover on a Redis Cluster with replicas (3 masters, 3 replicas)', () => {
  it.each(['redis-lua', 'redis-leased'])('%s: the master of the stock killed -9 mid-sale, its lagging replica promoted with stale stock: fenced and rebuilt from the ledger, exactly the stock sold, no acknowledged order lost', { timeout: 90_000 }, async (strategy) => {
    const cluster = await RedisCluster.start(3, { replicas: 1, nodeTimeoutMs: 1000 });
    try {
      const schema = uniqueName('cfail').toLowerCase();
      schemas.push(schema);
      const prefix = `flashsale:${schema}`;
      const sale = join(dir, `${schema}.json`);
      writeFileSync(sale, JSON.stringify({ skus: [{ id: 'A', stock: STOCK }], perUserLimit: 1 }));
      const args = ['--port', '0', '--sale', sale, '--stock-store', cluster.url, '--ledger', POSTGRES_URL, '--store-schema', schema, '--stock-strategy', strategy, '--threads', '1'];
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
        for (const r of receipts) statuses[`${r.status} ${r.error ?? ''}`.trim()] = (statuses[`${r.status} ${r.error ?? ''}`.trim()] ?? 0) + 1;
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
        expect(a.stderr() + b.stderr(), 'a process rebuilt the stock from the ledger').toMatch(/stock epoch \d+ rebuilt from the ledger/);
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
});
