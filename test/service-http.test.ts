import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'undici';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerStore } from '../src/ledger/store.ts';
import { startService, type RunningService, type SaleDefinition } from '../src/service/index.ts';
import { call, inventory } from './helpers/http.ts';

function sale(over: Partial<SaleDefinition> = {}): SaleDefinition {
  return {
    skus: [{ id: 'phone', stock: 10 }, { id: 'case', stock: 1000 }],
    perUserLimit: 2,
    reservationTtlMs: 60_000,
    opensAtEpochMs: null,
    payment: { declineRate: 0, latencyMs: 0 },
    ...over,
  };
}

describe('reference service: routes and status codes', () => {
  let svc: RunningService;
  let base: string;
  beforeAll(async () => {
    svc = await startService({ sale: sale(), threads: 2, adminToken: 'secret' });
    base = svc.url;
  });
  afterAll(() => svc.close());

  it('checkout answers 201 with an order id and counts it as sold', async () => {
    const r = await call(base, 'POST', '/api/v1/checkout', { sku: 'case', userId: 'alice', qty: 1 });
    expect(r.status).toBe(201);
    expect(r.json.orderId).toMatch(/^o/);
    expect(await inventory(base, 'case')).toEqual({ initial: 1000, available: 999, reserved: 0, sold: 1 });
  });

  it('rejects bad requests with JSON errors naming the problem', async () => {
    const malformed = await call(base, 'POST', '/api/v1/checkout', '{"sku":');
    expect([malformed.status, malformed.json.error]).toEqual([400, 'malformed_json']);
    const wrongType = await call(base, 'POST', '/api/v1/checkout', 'sku=case', { 'content-type': 'text/plain' });
    expect([wrongType.status, wrongType.json.error]).toEqual([415, 'unsupported_media_type']);
    const big = await call(base, 'POST', '/api/v1/checkout', { sku: 'case', userId: 'x'.repeat(17 * 1024), qty: 1 });
    expect([big.status, big.json.error]).toEqual([413, 'payload_too_large']);
    const unknown = await call(base, 'POST', '/api/v1/checkout', { sku: 'tablet', userId: 'bob', qty: 1 });
    expect([unknown.status, unknown.json.error]).toEqual([404, 'unknown_sku']);
    for (const qty of [0, -1, 1.5, '1']) {
      const r = await call(base, 'POST', '/api/v1/checkout', { sku: 'case', userId: 'bob', qty });
      expect([r.status, r.json.error, r.json.message]).toEqual([400, 'bad_request', expect.stringContaining('qty')]);
    }
    const noUser = await call(base, 'POST', '/api/v1/reservations', { sku: 'case', qty: 1 });
    expect([noUser.status, noUser.json.message]).toEqual([400, expect.stringContaining('userId')]);
    const route = await call(base, 'GET', '/api/v1/nope');
    expect([route.status, route.json.error]).toEqual([404, 'not_found']);
    expect((await call(base, 'GET', '/api/v1/inventory/tablet')).status).toBe(404);
  });

  it('refuses user ids that are not valid Unicode instead of merging them under U+FFFD (400)', async () => {
    // Two different invalid byte sequences would both decode to U+FFFD: one user id, one limit.
    for (const bad of [0xff, 0xfe]) {
      const body = Buffer.concat([Buffer.from('{"sku":"case","userId":"'), Buffer.from([bad]), Buffer.from('","qty":1}')]);
      const r = await call(base, 'POST', '/api/v1/checkout', body);
      expect([r.status, r.json.error]).toEqual([400, 'invalid_utf8']);
    }
    for (const lone of ['\\ud800', '\\udc00']) {
      const r = await call(base, 'POST', '/api/v1/reservations', `{"sku":"case","userId":"${lone}","qty":1}`);
      expect([r.status, r.json.message]).toEqual([400, expect.stringMatching(/userId must be well-formed/)]);
    }
    const fine = await call(base, 'POST', '/api/v1/reservations', { sku: 'case', userId: 'zoë \ufffd', qty: 1 });
    expect(fine.status).toBe(201);
    expect((await call(base, 'DELETE', `/api/v1/reservations/${fine.json.reservationId}`)).status).toBe(204);
  });

  it('enforces the per-user limit (429) and sells out (409) without overselling', async () => {
    expect((await call(base, 'POST', '/api/v1/checkout', { sku: 'phone', userId: 'carol', qty: 2 })).status).toBe(201);
    const limit = await call(base, 'POST', '/api/v1/checkout', { sku: 'phone', userId: 'carol', qty: 1 });
    expect([limit.status, limit.json.error]).toEqual([429, 'limit_exceeded']);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => call(base, 'POST', '/api/v1/checkout', { sku: 'phone', userId: `buyer-${i}`, qty: 1 })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(8);
    expect(statuses.filter((s) => s === 409)).toHaveLength(4);
    expect(results.find((r) => r.status === 409)!.json.error).toBe('sold_out');
    expect(await inventory(base, 'phone')).toEqual({ initial: 10, available: 0, reserved: 0, sold: 10 });
  });

  it('reserves, pays, releases, and reports reserved units apart from sold ones', async () => {
    const before = await inventory(base, 'case');
    const a = await call(base, 'POST', '/api/v1/reservations', { sku: 'case', userId: 'dave', qty: 2 });
    expect(a.status).toBe(201);
    expect(Date.parse(a.json.expiresAt)).toBeGreaterThan(Date.now());
    expect(await inventory(base, 'case')).toMatchObject({ available: before.available - 2, reserved: 2, sold: before.sold });
    const paid = await call(base, 'POST', '/api/v1/orders', { reservationId: a.json.reservationId });
    expect(paid.status).toBe(201);
    expect(await inventory(base, 'case')).toMatchObject({ reserved: 0, sold: before.sold + 2 });
    const again = await call(base, 'POST', '/api/v1/orders', { reservationId: a.json.reservationId });
    expect([again.status, again.json.error]).toEqual([410, 'reservation_expired']);

    const b = await call(base, 'POST', '/api/v1/reservations', { sku: 'case', userId: 'erin', qty: 1 });
    const del = await call(base, 'DELETE', `/api/v1/reservations/${b.json.reservationId}`);
    expect(del.status).toBe(204);
    expect((await call(base, 'DELETE', `/api/v1/reservations/${b.json.reservationId}`)).status).toBe(404);
    expect((await call(base, 'POST', '/api/v1/orders', { reservationId: 'nope-1-1' })).status).toBe(404);
    expect(await inventory(base, 'case')).toMatchObject({ available: before.available - 2, reserved: 0 });
  });

  it('answers /healthz and /metrics in Prometheus text', async () => {
    expect((await call(base, 'GET', '/healthz')).json).toEqual({ status: 'ok' });
    const m = await call(base, 'GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain/);
    expect(m.text).toMatch(/^flashsale_http_requests_total\{route="checkout",status="201"\} \d+$/m);
    expect(m.text).toMatch(/^flashsale_http_requests_total\{route="checkout",status="409"\} 4$/m);
    expect(m.text).toMatch(/^flashsale_http_in_flight\{thread="1"\} \d+$/m);
    expect(m.text).toMatch(/^flashsale_stock_available\{sku="phone"\} 0$/m);
    expect(m.text).toMatch(/^flashsale_stock_sold\{sku="phone"\} 10$/m);
    expect(m.text).toMatch(/^flashsale_ledger_batch_size_count [1-9]\d*$/m);
    expect(m.text).toMatch(/^flashsale_ledger_commit_seconds_bucket\{le="\+Inf"\} [1-9]\d*$/m);
  });

  it('guards admin routes with the bearer token and streams orders as NDJSON', async () => {
    const no = await call(base, 'GET', '/admin/orders');
    expect([no.status, no.json.error]).toEqual([401, 'unauthorized']);
    expect((await call(base, 'GET', '/admin/orders', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    const r = await call(base, 'GET', '/admin/orders', undefined, { authorization: 'Bearer secret' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-ndjson');
    const orders = r.text.trim().split('\n').map((l) => JSON.parse(l));
    const ids = new Set(orders.map((o) => o.orderId));
    expect(ids.size).toBe(orders.length);
    expect(orders.filter((o) => o.sku === 'phone').reduce((n, o) => n + o.qty, 0)).toBe(10);
    expect(Object.keys(orders[0]).sort()).toEqual(['createdAt', 'orderId', 'qty', 'sku', 'userId']);
  });

  it('redefines the sale with POST /admin/sale', async () => {
    const bad = await call(base, 'POST', '/admin/sale', { skus: [{ id: 'x', stock: -1 }] }, { authorization: 'Bearer secret' });
    expect([bad.status, bad.json.error]).toEqual([400, 'invalid_sale']);
    expect(bad.json.message).toMatch(/skus\.0\.stock/);
    // Orders exist: replacing the sale would put every unit back on sale, so it takes "force".
    const refused = await call(base, 'POST', '/admin/sale', sale({ skus: [{ id: 'tablet', stock: 3 }] }), { authorization: 'Bearer secret' });
    expect([refused.status, refused.json.error]).toEqual([409, 'sale_in_progress']);
    expect(refused.json.message).toMatch(/units sold.*"force": true/);
    expect((await inventory(base, 'phone')).sold).toBe(10);
    // "No limit" is written "none" here as everywhere; a written 0 would read as "nobody may buy".
    const zero = await call(base, 'POST', '/admin/sale', { ...sale(), perUserLimit: 0, force: true }, { authorization: 'Bearer secret' });
    expect([zero.status, zero.json.error]).toEqual([400, 'invalid_sale']);
    expect(zero.json.message).toMatch(/perUserLimit: 0 is not a limit; write "none"/);
    const badForce = await call(base, 'POST', '/admin/sale', { ...sale(), force: 'yes' }, { authorization: 'Bearer secret' });
    expect([badForce.status, badForce.json.message]).toEqual([400, 'force: must be true or false']);
    const ok = await call(base, 'POST', '/admin/sale', { ...sale({ skus: [{ id: 'tablet', stock: 3 }] }), perUserLimit: 'none', force: true }, { authorization: 'Bearer secret' });
    expect(ok.status).toBe(201);
    // No limit: one user buys all three.
    for (let i = 0; i < 3; i++) expect((await call(base, 'POST', '/api/v1/checkout', { sku: 'tablet', userId: 'one-user', qty: 1 })).status).toBe(201);
    await call(base, 'POST', '/admin/sale', { ...sale({ skus: [{ id: 'tablet', stock: 3 }] }), force: true }, { authorization: 'Bearer secret' });
    expect(await inventory(base, 'tablet')).toEqual({ initial: 3, available: 3, reserved: 0, sold: 0 });
    expect((await call(base, 'GET', '/api/v1/inventory/phone')).status).toBe(404);
    const orders = await call(base, 'GET', '/admin/orders', undefined, { authorization: 'Bearer secret' });
    expect(orders.text).toBe('');
  });
});

describe('reference service: stock strategies', () => {
  it.each(['atomic', 'mutex', 'leased'] as const)('%s: concurrent checkouts on 2 threads sell exactly the stock', async (strategy) => {
    const svc = await startService({ sale: sale({ skus: [{ id: 'hot', stock: 50 }], perUserLimit: 0 }), threads: 2, strategy });
    const clients = Array.from({ length: 8 }, () => new Client(svc.url));
    try {
      const statuses = await Promise.all(
        Array.from({ length: 80 }, (_, i) =>
          clients[i % clients.length]
            .request({ method: 'POST', path: '/api/v1/checkout', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'hot', userId: `u${i}`, qty: 1 }) })
            .then(async (r) => (await r.body.dump(), r.statusCode)),
        ),
      );
      expect(statuses.filter((s) => s === 201)).toHaveLength(50);
      expect(statuses.filter((s) => s === 409)).toHaveLength(30);
      expect(await inventory(svc.url, 'hot')).toEqual({ initial: 50, available: 0, reserved: 0, sold: 50 });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await svc.close();
    }
  });
});

describe('reference service: sale timing, payment, expiry, shedding, idempotency', () => {
  it('answers 403 before the sale opens and turns admin routes off without a token', async () => {
    const svc = await startService({ sale: sale({ opensAtEpochMs: Date.now() + 3_600_000 }), threads: 1 });
    try {
      const r = await call(svc.url, 'POST', '/api/v1/checkout', { sku: 'phone', userId: 'a', qty: 1 });
      expect([r.status, r.json.error]).toEqual([403, 'sale_not_started']);
      expect((await call(svc.url, 'GET', '/admin/orders', undefined, { authorization: 'Bearer x' })).status).toBe(404);
    } finally {
      await svc.close();
    }
  });

  it('counts a request whose client vanished mid-body as finished, so close() does not hang', async () => {
    const svc = await startService({ sale: sale(), threads: 1 });
    try {
      const { port } = svc;
      await new Promise<void>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write('POST /api/v1/checkout HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"sku":');
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 50);
        });
        socket.on('error', reject);
      });
      let metrics = '';
      for (let i = 0; i < 100; i++) {
        metrics = (await call(svc.url, 'GET', '/metrics')).text;
        if (/route="checkout",status="400"/.test(metrics)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(metrics).toMatch(/^flashsale_http_requests_total\{route="checkout",status="400"\} 1$/m);
      expect(metrics).toMatch(/^flashsale_http_in_flight\{thread="0"\} 1$/m); // only the /metrics request itself
    } finally {
      await svc.close();
    }
  });

  it('close() lets in-flight checkouts finish and commits them before it resolves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flashsale-drain-'));
    const ledgerPath = join(dir, 'ledger.sqlite');
    try {
      const svc = await startService({ sale: sale({ payment: { declineRate: 0, latencyMs: 1500 } }), threads: 2, ledgerPath });
      const pending = Array.from({ length: 4 }, (_, i) => call(svc.url, 'POST', '/api/v1/checkout', { sku: 'case', userId: `d${i}`, qty: 1 }));
      // Close only once all four are in the service, waiting on the payment (a fixed 50 ms was too short on a
      // busy machine: two had not arrived, and got 503 shutting_down as they should). /metrics counts itself.
      let inFlight = 0;
      for (let i = 0; i < 100 && inFlight < 4; i++) {
        const page = (await call(svc.url, 'GET', '/metrics')).text;
        inFlight = [...page.matchAll(/^flashsale_http_in_flight\{thread="\d+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0) - 1;
        if (inFlight < 4) await new Promise((r) => setTimeout(r, 10));
      }
      expect(inFlight, 'the four checkouts reached the service').toBe(4);
      await svc.close();
      const results = await Promise.all(pending);
      expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
      const store = new LedgerStore(ledgerPath);
      const orders = store.pageNdjson(store.latestSale()!.id, 0, 100);
      store.close();
      expect(orders.count).toBe(4);
      for (const r of results) expect(orders.ndjson).toContain(r.json.orderId);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('declines payments with 402 and gives the units and the allowance back', async () => {
    const svc = await startService({ sale: sale({ payment: { declineRate: 1, latencyMs: 0 }, perUserLimit: 1 }), threads: 1 });
    try {
      for (let i = 0; i < 2; i++) {
        const r = await call(svc.url, 'POST', '/api/v1/checkout', { sku: 'phone', userId: 'same-user', qty: 1 });
        expect([r.status, r.json.error]).toEqual([402, 'payment_declined']);
      }
      const res = await call(svc.url, 'POST', '/api/v1/reservations', { sku: 'phone', userId: 'same-user', qty: 1 });
      expect((await call(svc.url, 'POST', '/api/v1/orders', { reservationId: res.json.reservationId })).status).toBe(402);
      expect(await inventory(svc.url, 'phone')).toEqual({ initial: 10, available: 10, reserved: 0, sold: 0 });
    } finally {
      await svc.close();
    }
  });

  it('expires reservations after the TTL: units return and paying answers 410', async () => {
    const svc = await startService({ sale: sale({ reservationTtlMs: 50, perUserLimit: 1 }), threads: 2 });
    try {
      const res = await call(svc.url, 'POST', '/api/v1/reservations', { sku: 'phone', userId: 'slow', qty: 1 });
      expect(res.status).toBe(201);
      let inv = await inventory(svc.url, 'phone');
      for (let i = 0; i < 100 && inv.available < 10; i++) {
        await new Promise((r) => setTimeout(r, 20));
        inv = await inventory(svc.url, 'phone');
      }
      expect(inv).toEqual({ initial: 10, available: 10, reserved: 0, sold: 0 });
      const pay = await call(svc.url, 'POST', '/api/v1/orders', { reservationId: res.json.reservationId });
      expect([pay.status, pay.json.error]).toEqual([410, 'reservation_expired']);
      // The allowance came back too: the same user may buy again.
      expect((await call(svc.url, 'POST', '/api/v1/checkout', { sku: 'phone', userId: 'slow', qty: 1 })).status).toBe(201);
    } finally {
      await svc.close();
    }
  });

  it('sheds load past maxInFlightPerThread with 503 and Retry-After', async () => {
    const svc = await startService({ sale: sale({ payment: { declineRate: 0, latencyMs: 300 } }), threads: 1, maxInFlightPerThread: 2 });
    const clients = Array.from({ length: 6 }, () => new Client(svc.url));
    try {
      const results = await Promise.all(
        clients.map(async (c, i) => {
          const r = await c.request({ method: 'POST', path: '/api/v1/checkout', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'case', userId: `u${i}`, qty: 1 }) });
          return { status: r.statusCode, retryAfter: r.headers['retry-after'], body: await r.body.json() as any };
        }),
      );
      const shed = results.filter((r) => r.status === 503);
      expect(results.filter((r) => r.status === 201)).toHaveLength(2);
      expect(shed).toHaveLength(4);
      expect(shed[0].retryAfter).toBe('1');
      expect(shed[0].body.error).toBe('overloaded');
      expect((await inventory(svc.url, 'case')).sold).toBe(2);
      expect((await call(svc.url, 'GET', '/metrics')).text).toMatch(/^flashsale_http_shed_total 4$/m);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await svc.close();
    }
  });

  it('Idempotency-Key: concurrent retries on separate connections get the first answer and take one unit', async () => {
    const svc = await startService({ sale: sale({ payment: { declineRate: 0, latencyMs: 100 } }), threads: 2 });
    const clients = Array.from({ length: 8 }, () => new Client(svc.url));
    try {
      const send = (c: Client, path: string, body: unknown, key: string) =>
        c.request({ method: 'POST', path, headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body) })
          .then(async (r) => ({ status: r.statusCode, body: (await r.body.json()) as any }));
      const checkouts = await Promise.all(clients.map((c) => send(c, '/api/v1/checkout', { sku: 'case', userId: 'retrier', qty: 1 }, 'key-1')));
      expect(new Set(checkouts.map((r) => r.status))).toEqual(new Set([201]));
      expect(new Set(checkouts.map((r) => r.body.orderId)).size).toBe(1);
      expect(await inventory(svc.url, 'case')).toMatchObject({ sold: 1, available: 999 });
      const reused = await send(clients[0], '/api/v1/checkout', { sku: 'case', userId: 'someone-else', qty: 1 }, 'key-1');
      expect([reused.status, reused.body.error]).toEqual([422, 'idempotency_key_reused']);

      const reserved = await Promise.all(clients.map((c) => send(c, '/api/v1/reservations', { sku: 'case', userId: 'r', qty: 1 }, 'key-2')));
      expect(new Set(reserved.map((r) => r.body.reservationId)).size).toBe(1);
      const paid = await Promise.all(clients.map((c) => send(c, '/api/v1/orders', { reservationId: reserved[0].body.reservationId }, 'key-3')));
      expect(new Set(paid.map((r) => `${r.status} ${r.body.orderId}`)).size).toBe(1);
      expect(paid[0].status).toBe(201);
      expect(await inventory(svc.url, 'case')).toMatchObject({ sold: 2, available: 998, reserved: 0 });

      const orders = await call(svc.url, 'GET', '/metrics');
      expect(orders.text).toMatch(/^flashsale_ledger_batch_size_sum 2$/m);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await svc.close();
    }
  });
});
