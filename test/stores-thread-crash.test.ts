// A crashed HTTP thread of the service on the stores is restarted (as the in-process service's are,
// test/service-thread-crash.test.ts), through the same test-only fault hook. What it held goes back by
// the stores' recovery rule: its replacement rebuilds the stock from the ledger, so checkouts it had in
// flight are sold (committed) or back on sale (not), and its keys in flight answer again. Sales go on
// through the crash; in the end every acknowledged order is in the ledger and exactly the stock is sold.
import { afterAll, describe, expect, it } from 'vitest';
import { dropPgSchema, dropRedisKeys, postgresAvailable, POSTGRES_URL, redisAvailable, REDIS_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';
import { acknowledged, runCrowd } from './helpers/store-crowd.ts';
import { ledgerRows } from './helpers/stores-run.ts';
import { startStoreService, type RunningStoreService } from '../src/service/on-stores.ts';
import { FAULTS } from '../src/service/index.ts';

const redis = await redisAvailable();
const postgres = await postgresAvailable();
requireOrSkip('Redis', redis);
requireOrSkip('PostgreSQL', postgres);
const ready = redis.ok && postgres.ok;

const schema = uniqueName('crash').toLowerCase();
let svc: RunningStoreService | null = null;

afterAll(async () => {
  await svc?.close().catch(() => {});
  await dropPgSchema(schema).catch(() => {});
  await dropRedisKeys(`flashsale:${schema}`).catch(() => {});
});

describe.skipIf(!ready)('a crashed HTTP thread on the stores', () => {
  it('is restarted; sales go on, nothing acknowledged is lost, exactly the stock is sold', { timeout: 240_000 }, async () => {
    const STOCK = 300;
    const lines: string[] = [];
    svc = await startStoreService({
      // The payment's 30 ms keeps checkouts in flight when the thread dies.
      sale: { skus: [{ id: 'A', stock: STOCK }], perUserLimit: 1, reservationTtlMs: 60_000, opensAtEpochMs: null, payment: { declineRate: 0, latencyMs: 30 } },
      redisUrl: REDIS_URL, ledgerUrl: POSTGRES_URL, schema, threads: 2, log: (level, m) => void lines.push(`${level}: ${m}`),
    });
    const url = svc.url;
    // A reservation the dead thread may have made: it stays open and payable.
    const kept = await fetch(`${url}/api/v1/reservations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'A', userId: 'keeper', qty: 1 }) });
    expect(kept.status).toBe(201);
    const keptId = ((await kept.json()) as { reservationId: string }).reservationId;
    let crashed: Promise<void> | null = null;
    const receipts = await runCrowd({
      urls: () => [url],
      users: Array.from({ length: 700 }, (_, i) => `c${i}`),
      sku: 'A',
      concurrency: 16,
      deadlineMs: 150_000,
      keyed: true,
      onReceipt: (_r, all) => {
        if (crashed === null && all.filter((x) => x.status === 201).length >= 60) crashed = svc![FAULTS].crash('http', 0);
      },
    });
    expect(crashed, 'the crowd reached the crash').not.toBeNull();
    await crashed;
    // The restart and its rebuild may still be under way on a busy machine: wait for them, bounded.
    for (const until = Date.now() + 30_000; Date.now() < until && !lines.some((l) => /^warn: thread 0: stock_rebuilt/.test(l)); ) await new Promise((r) => setTimeout(r, 100));
    expect(lines).toContainEqual(expect.stringMatching(/^error: HTTP thread 0 died/));
    expect(lines).toContainEqual('warn: HTTP thread 0 restarted');
    expect(lines).toContainEqual(expect.stringMatching(/^warn: thread 0: stock_rebuilt: stock epoch \d+ rebuilt from the ledger/));
    // The reservation survived (the rebuild counts open ones) and is paid through whichever thread answers.
    // A pay that races a rebuild (its claim read the old epoch) gets 503 stock_rebuilt + Retry-After and the
    // reservation stays open: a client retries, as the protocol says; bounded here.
    const refusals: string[] = [];
    let paid = 0;
    for (let attempt = 0; attempt < 20 && paid !== 201; attempt++) {
      const r = await fetch(`${url}/api/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reservationId: keptId }) });
      paid = r.status;
      if (paid === 503) {
        refusals.push(await r.text());
        await new Promise((resolve) => setTimeout(resolve, 250));
      } else if (paid !== 201) refusals.push(`${paid} ${await r.text()}`);
      else await r.text();
    }
    expect(paid, `the kept reservation was paid (refusals: ${refusals.join(' | ')})`).toBe(201);
    expect(refusals.every((b) => /stock_rebuil/.test(b)), `only rebuild 503s before the pay: ${refusals.join(' | ')}`).toBe(true);

    const rows = await ledgerRows(schema);
    const ids = new Set(rows.map((r) => r.order_id));
    expect(acknowledged(receipts).filter((id) => !ids.has(id)), 'acknowledged orders missing from the ledger').toEqual([]);
    expect(new Set(rows.map((r) => r.user_id)).size, 'a user holds two orders (limit 1)').toBe(rows.length);
    expect(rows.length, 'exactly the stock sold: the dead thread held nothing back for good').toBe(STOCK);
    const inv = (await (await fetch(`${url}/api/v1/inventory/A`)).json()) as Record<string, number>;
    expect(inv).toEqual({ initial: STOCK, available: 0, reserved: 0, sold: STOCK });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const served = [...metrics.matchAll(/^flashsale_http_requests_total\{route="checkout",status="201"\} (\d+)$/gm)].map((m) => Number(m[1]));
    expect(served[0], 'the restarted thread counts on in its block').toBeGreaterThan(0);
  });
});
