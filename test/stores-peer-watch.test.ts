// The peers' heartbeat (src/service/peer-watch.ts): serve processes on the shared stores watch each
// other, and when one is killed with holds in flight a survivor rebuilds the stock from the ledger by
// itself — no --rebuild-stock — so its uncommitted holds go back on sale, its in-flight keys answer
// again and a reservation whose pay it had claimed is payable again; a process stopped for a second (a GC pause) is not judged. The script first, on the real Redis:
// a lapsed peer is handed to exactly one survivor, a caller whose own entry lapsed judges nobody, a
// clean leave is never judged.
import { afterAll, describe, expect, it } from 'vitest';
import { dropPgSchema, dropRedisKeys, postgresAvailable, POSTGRES_URL, redisAvailable, REDIS_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';
import { killAll, serve, type Served } from './helpers/serve.ts';
import { acknowledged, checkout, runCrowd, type Receipt } from './helpers/store-crowd.ts';
import { ledgerRows } from './helpers/stores-run.ts';
import { connectRedis } from '../src/stores/redis/link.ts';
import { PeerWatch, reapLapsedPeers, type LapsedPeer } from '../src/service/peer-watch.ts';

const redis = await redisAvailable();
const postgres = await postgresAvailable();
requireOrSkip('Redis', redis);
requireOrSkip('PostgreSQL', postgres);

const schemas: string[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  killAll();
  for (const s of schemas) {
    await dropPgSchema(s).catch(() => {});
    await dropRedisKeys(`flashsale:${s}`).catch(() => {});
  }
  for (const p of prefixes) await dropRedisKeys(p).catch(() => {});
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!redis.ok)('the peers script on Redis', () => {
  const quiet = () => {};
  it('a peer that stops renewing is handed to exactly one survivor; a clean leave is never judged; a lapsed caller judges nobody', { timeout: 30_000 }, async () => {
    const prefix = uniqueName('peers');
    prefixes.push(prefix);
    const key = `${prefix}:s1:peers`;
    const link = await connectRedis(REDIS_URL);
    const judged: Array<{ by: string; peers: LapsedPeer[] }> = [];
    const watch = (me: string) => new PeerWatch({ link, key, me, ttlMs: 400, renewMs: 100, onLapsed: (peers) => judged.push({ by: me, peers }), log: quiet });
    try {
      const [a, b, dead, leaving] = ['a', 'b', 'dead', 'leaving'].map(watch);
      for (const w of [a, b, dead, leaving]) await w.start();
      await sleep(300);
      await dead.stop(false); // as a kill: the entry stays and lapses
      await leaving.stop(true); // a clean stop
      await sleep(1500);
      const all = judged.flatMap((j) => j.peers.map((p) => p.peer));
      expect(all, 'the dead peer judged once, by one survivor; the one that left never').toEqual(['dead']);
      expect(['a', 'b']).toContain(judged[0].by);
      expect(judged[0].peers[0].overdueMs).toBeGreaterThanOrEqual(0);
      // Every entry lapses at once (as when Redis was unreachable for everyone): the first caller back only re-registers.
      await a.stop(false);
      await b.stop(false);
      await sleep(600);
      judged.length = 0;
      const back = watch('a');
      await back.start();
      expect(judged, 'a caller whose own entry lapsed judges nobody').toEqual([]);
      await sleep(250); // its next beats judge b
      expect(judged.flatMap((j) => j.peers.map((p) => p.peer))).toEqual(['b']);
      await back.stop(true);
      // A rebuild reaps every lapsed entry: they are covered by its count.
      await link.call(['HSET', key, 'old', '1']);
      expect((await reapLapsedPeers(link, key)).map((p) => p.peer)).toEqual(['old']);
      expect(await link.call(['HLEN', key])).toBe(0);
    } finally {
      await link.close();
    }
  });

  it('renewal must leave room for late beats', () => {
    expect(() => new PeerWatch({ link: null as never, key: 'k', me: 'm', ttlMs: 1000, renewMs: 500, onLapsed: () => {}, log: () => {} })).toThrow(/at most a quarter/);
  });
});

const TOKEN = 'peer-watch-test';
const users = (n: number, stem: string) => Array.from({ length: n }, (_, i) => `${stem}${i}`);
const rebuiltLines = (s: Served) => s.stderr().match(/stock_rebuilt: stock epoch/g)?.length ?? 0;

function args(schema: string, stock: number, more: string[] = []): string[] {
  return ['--port', '0', '--sku', 'A', '--stock', String(stock), '--per-user-limit', '1', '--stock-store', REDIS_URL, '--ledger', POSTGRES_URL, '--store-schema', schema, '--admin-token', TOKEN, ...more];
}

async function inventory(url: string): Promise<{ initial: number; available: number; reserved: number; sold: number }> {
  const res = await fetch(`${url}/api/v1/inventory/A`);
  expect(res.status).toBe(200);
  return res.json() as Promise<{ initial: number; available: number; reserved: number; sold: number }>;
}

async function post(url: string, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  try {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(20_000) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> }; // the service answers JSON
  } catch {
    return { status: 0, json: {} };
  }
}

async function waitFor(what: string, ok: () => boolean, ms: number): Promise<void> {
  for (const until = Date.now() + ms; Date.now() < until; ) {
    if (ok()) return;
    await sleep(100);
  }
  throw new Error(`${what}: not within ${ms / 1000} s`);
}

describe.skipIf(!(redis.ok && postgres.ok))('serve processes watch each other', () => {
  it('kill -9 of one with holds in flight: a survivor rebuilds by itself, sells exactly the stock; the dead one\'s keys answer again and its claimed pay is payable again', { timeout: 240_000 }, async () => {
    const schema = uniqueName('peer').toLowerCase();
    schemas.push(schema);
    const STOCK = 50;
    // Payment takes 1.5 s: a checkout holds its unit that long before its order commits.
    const a = await serve(args(schema, STOCK, ['--payment-latency', '1500ms']));
    const b = await serve(args(schema, STOCK, ['--payment-latency', '1500ms']));
    const before = await runCrowd({ urls: () => [a.url, b.url], users: users(20, 'p'), sku: 'A', concurrency: 8, deadlineMs: 60_000, keyed: true });
    expect(acknowledged(before).length).toBe(20);
    expect(new Set(before.filter((r) => r.status === 201).map((r) => r.url)).size, 'both processes sold').toBe(2);
    // A reservation made on b, whose pay a will have claimed when it dies.
    const reserved = await post(b.url, '/api/v1/reservations', { sku: 'A', userId: 'r0', qty: 1 });
    expect(reserved.status).toBe(201);
    const reservationId = reserved.json.reservationId as string; // a 201 reservation carries its id
    // Mid-crowd: six keyed checkouts in flight on each process and the pay on a, then a is killed while they wait on payment.
    const paying = post(a.url, '/api/v1/orders', { reservationId });
    const onA = users(6, 'd').map((u) => checkout(a.url, 'A', u, `k-${u}`));
    const onB = users(6, 'e').map((u) => checkout(b.url, 'A', u, `k-${u}`));
    let held = 0;
    for (let i = 0; i < 100 && held < 13; i++) {
      await sleep(20);
      const inv = await inventory(b.url);
      held = inv.initial - inv.available - inv.sold;
    }
    expect(held, 'thirteen units held: twelve checkouts and a reservation, waiting on payment').toBe(13);
    await sleep(300); // the pay's claim taken on a (one script), well inside its 1.5 s payment
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    const dead = await Promise.all(onA);
    expect(dead.every((r) => r.status === 0), 'the killed process answered none of its six').toBe(true);
    expect((await paying).status, 'nor the pay').toBe(0);
    // The dead process holds the reservation's claim: nobody else may pay it.
    expect((await post(b.url, '/api/v1/orders', { reservationId })).json.error).toBe('reservation_busy');
    const alive = await Promise.all(onB);
    expect(alive.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
    // a's six units are held with nobody left to settle them (and the reservation's, claimed by a).
    expect((await inventory(b.url)).available).toBe(STOCK - 20 - 6 - 6 - 1);
    await waitFor('the survivor judges the dead peer and rebuilds', () => /peer .* lapsed: stock rebuilt from the ledger/.test(b.stderr()), 30_000);
    console.log(`peer judged and stock rebuilt ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
    expect(b.stderr()).toMatch(/peer [^ ]+:\d+\/pid \d+\/\w+ \(no heartbeat for \d+(\.\d)? s\) lapsed: stock rebuilt from the ledger, its uncommitted holds back on sale \(stock_rebuilt: stock epoch \d+/);
    expect((await inventory(b.url)).available, "the dead process's holds are back on sale; the reservation is open again").toBe(STOCK - 20 - 6 - 1);
    const paid = await post(b.url, '/api/v1/orders', { reservationId });
    expect(paid.status, 'the reservation whose pay died with a is payable again').toBe(201);
    // The keys that were in flight on the dead process answer again: a retry buys.
    const retried = await Promise.all(users(6, 'd').map((u) => checkout(b.url, 'A', u, `k-${u}`)));
    expect(retried.map((r) => `${r.status} ${r.error ?? ''}`.trim())).toEqual(Array(6).fill('201'));
    // The rest of the stock, to the last unit, through the survivor alone.
    const rest = await runCrowd({ urls: () => [b.url], users: users(40, 'late'), sku: 'A', concurrency: 8, deadlineMs: 120_000, keyed: true });
    const receipts: Receipt[] = [...before, ...dead, ...alive, ...retried, ...rest, { userId: 'r0', url: b.url, status: 201, orderId: reservationId, error: null }];
    const rows = await ledgerRows(schema);
    const ids = new Set(rows.map((r) => r.order_id));
    expect(acknowledged(receipts).filter((id) => !ids.has(id)), 'acknowledged orders missing from the ledger').toEqual([]);
    expect(rows.length, 'exactly the stock sold, none twice').toBe(STOCK);
    expect(paid.json.orderId).toBe(reservationId);
    expect(new Set(rows.map((r) => r.user_id)).size, 'one order per user').toBe(STOCK);
    expect(acknowledged(rest).length).toBe(STOCK - 20 - 6 - 6 - 1);
    expect(rows.filter((r) => r.order_id === reservationId), 'the reservation paid once').toHaveLength(1);
    expect(await inventory(b.url)).toEqual({ initial: STOCK, available: 0, reserved: 0, sold: STOCK });
    expect(rebuiltLines(b), 'one rebuild for one dead peer').toBe(1);
    expect(await b.stop()).toBe(0);
  });

  it('a process stopped for 1 s (SIGSTOP, as a GC pause) is not judged: no rebuild', { timeout: 120_000 }, async () => {
    const schema = uniqueName('pause').toLowerCase();
    schemas.push(schema);
    const a = await serve(args(schema, 10));
    const b = await serve(args(schema, 10));
    await sleep(1000); // both renewed
    a.child.kill('SIGSTOP');
    await sleep(1000);
    a.child.kill('SIGCONT');
    await sleep(4000); // past the TTL and a renewal: a lapse would have been judged by now
    expect(b.stderr()).not.toMatch(/lapsed/);
    expect(a.stderr()).not.toMatch(/lapsed/);
    expect(rebuiltLines(b)).toBe(0);
    expect((await checkout(a.url, 'A', 'after-pause')).status, 'the paused process sells on').toBe(201);
    await Promise.all([a.stop(), b.stop()]);
  });
});
