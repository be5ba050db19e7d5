// A crashed HTTP thread is recovered: what it held (stock taken by purchases it never finished, claimed
// reservations, idempotency keys in flight, the expiry of its reservations) goes back, it is restarted
// under the same index, and the service says so (log, /metrics, /healthz while it is down). Before, its
// reservations never expired, its keys answered 409 in_progress forever and /healthz stayed 200.
import { describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startService, type SaleDefinition } from '../src/service/index.ts';
import { crashThread } from './helpers/faults.ts';
import { call, eventually, inventory } from './helpers/http.ts';

const sale = (over: Partial<SaleDefinition> = {}): SaleDefinition => ({
  skus: [{ id: 'phone', stock: 10 }],
  perUserLimit: 1,
  reservationTtlMs: 60_000,
  opensAtEpochMs: null,
  payment: { declineRate: 0, latencyMs: 0 },
  ...over,
});

/** A request on its own connection that may be cut by the crash: its status, or 0 when it was. */
async function tryCall(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  const dispatcher = new Agent({ pipelining: 0 });
  try {
    const r = await request(url + path, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    await r.body.dump();
    return r.statusCode;
  } catch {
    return 0;
  } finally {
    await dispatcher.close().catch(() => {});
  }
}

describe('a crashed HTTP thread', () => {
  it('is restarted, and what it held goes back: taken units, claimed reservations, keys in flight, expiry', async () => {
    const lines: string[] = [];
    const svc = await startService({
      // The kept reservation must outlive the restart (slow on a busy machine), then expire.
      sale: sale({ reservationTtlMs: 5000, payment: { declineRate: 0, latencyMs: 800 } }),
      threads: 1,
      log: (level, m) => void lines.push(`${level}: ${m}`),
    });
    try {
      const kept = await call(svc.url, 'POST', '/api/v1/reservations', { sku: 'phone', userId: 'keeper', qty: 1 });
      const paying = await call(svc.url, 'POST', '/api/v1/reservations', { sku: 'phone', userId: 'payer', qty: 1 });
      expect([kept.status, paying.status]).toEqual([201, 201]);
      // In the payment's 800 ms when the thread dies: a one-step checkout under a key, and a payment.
      const cut = [
        tryCall(svc.url, '/api/v1/checkout', { sku: 'phone', userId: 'slow', qty: 1 }, { 'idempotency-key': 'slow-key' }),
        tryCall(svc.url, '/api/v1/orders', { reservationId: paying.json.reservationId }),
      ];
      await new Promise((r) => setTimeout(r, 200));
      expect(await inventory(svc.url, 'phone')).toEqual({ initial: 10, available: 7, reserved: 3, sold: 0 });
      await crashThread(svc, 'http', 0);
      expect(await Promise.all(cut)).toEqual([0, 0]); // cut with the thread: never acknowledged

      expect(await eventually(async () => (await call(svc.url, 'GET', '/healthz').catch(() => ({ status: 0 }))).status === 200, 10_000)).toBe(true);
      expect(lines).toContainEqual(expect.stringMatching(/^error: HTTP thread 0 died/));
      expect(lines).toContainEqual(
        expect.stringMatching(/^warn: HTTP thread 0 restarted: 2 unit\(s\) it held went back on sale, 0 unit\(s\) .* 1 reservation\(s\) it was paying freed, 1 idempotency key\(s\) .*1 released for retry/),
      );
      expect((await call(svc.url, 'GET', '/metrics')).text).toMatch(/^flashsale_http_thread_restarts_total 1$/m);
      // The checkout's units and the payer's hold came back; the other reservation is still held.
      expect(await inventory(svc.url, 'phone')).toEqual({ initial: 10, available: 9, reserved: 1, sold: 0 });
      // The key the dead thread had in flight runs again (it answered 409 in_progress forever), once.
      const retry = await call(svc.url, 'POST', '/api/v1/checkout', { sku: 'phone', userId: 'slow', qty: 1 }, { 'idempotency-key': 'slow-key' });
      expect(retry.status).toBe(201);
      // The payer's allowance came back with the freed hold.
      expect((await call(svc.url, 'POST', '/api/v1/checkout', { sku: 'phone', userId: 'payer', qty: 1 })).status).toBe(201);
      // The restarted thread expires the reservation its predecessor made.
      expect(await eventually(async () => (await inventory(svc.url, 'phone')).reserved === 0, 10_000)).toBe(true);
      expect(await inventory(svc.url, 'phone')).toEqual({ initial: 10, available: 8, reserved: 0, sold: 2 });
    } finally {
      await svc.close();
    }
  });

  it('fails /healthz while it is down, from the thread still serving', async () => {
    const svc = await startService({ sale: sale(), threads: 2 });
    try {
      await crashThread(svc, 'http', 1);
      let seen: { status: number; json: { problems?: string[] } } | null = null;
      // The other thread answers; a connection that was on the dead thread fails and is retried.
      expect(
        await eventually(async () => {
          const r = await call(svc.url, 'GET', '/healthz').catch(() => null);
          if (r?.status === 503) seen = r;
          return seen !== null;
        }, 5000),
      ).toBe(true);
      expect(seen!.json.problems).toEqual(['1 of 2 HTTP thread(s) down (crashed; restarting)']);
      expect(await eventually(async () => (await call(svc.url, 'GET', '/healthz').catch(() => null))?.status === 200, 10_000)).toBe(true);
      expect((await call(svc.url, 'GET', '/metrics')).text).toMatch(/^flashsale_http_threads_up 2$/m);
    } finally {
      await svc.close();
    }
  });

  it('lets retries waiting on its key (on the live thread) run once on the rebuilt sale: one unit, one order', async () => {
    const svc = await startService({ sale: sale({ payment: { declineRate: 0, latencyMs: 4000 } }), threads: 2 });
    const agents: Agent[] = [];
    try {
      const body = { sku: 'phone', userId: 'waiter', qty: 1 };
      const key = { 'idempotency-key': 'shared-key' };
      const first = tryCall(svc.url, '/api/v1/checkout', body, key);
      // Which thread holds it: the one showing 2 in flight when it also serves the /metrics request (a new
      // connection each time lands on either thread).
      let holder = -1;
      expect(
        await eventually(async () => {
          const dispatcher = new Agent();
          const text = await (await request(`${svc.url}/metrics`, { dispatcher })).body.text();
          await dispatcher.close();
          const m = /^flashsale_http_in_flight\{thread="(\d)"\} 2$/m.exec(text);
          holder = m ? Number(m[1]) : -1;
          return holder >= 0;
        }, 2000),
      ).toBe(true);
      // Retries on their own connections: those on the live thread wait for the first attempt's answer.
      const retries = Array.from({ length: 6 }, () =>
        request(`${svc.url}/api/v1/checkout`, { method: 'POST', dispatcher: agents[agents.push(new Agent()) - 1], headers: { 'content-type': 'application/json', ...key }, body: JSON.stringify(body) })
          .then(async (r) => [r.statusCode, ((await r.body.json()) as { orderId?: string }).orderId] as const)
          .catch(() => [0, undefined] as const),
      );
      await new Promise((r) => setTimeout(r, 200));
      await crashThread(svc, 'http', holder);
      expect(await first).toBe(0);
      const answers = await Promise.all(retries);
      expect(answers.every(([status]) => status === 0 || status === 201)).toBe(true);
      // Buying pauses (503 recovering, Retry-After 1) until the crashed thread's purchases are settled: if
      // every retry landed on the crashed thread, this one can come before that, and is retried as a client would.
      let last = await call(svc.url, 'POST', '/api/v1/checkout', body, key);
      for (const end = Date.now() + 10_000; last.status === 503 && last.json?.error === 'recovering' && Date.now() < end; ) {
        await new Promise((r) => setTimeout(r, 100));
        last = await call(svc.url, 'POST', '/api/v1/checkout', body, key);
      }
      expect([last.status, last.json?.error]).toEqual([201, undefined]);
      expect(new Set([...answers.filter(([s]) => s === 201).map(([, id]) => id), last.json.orderId])).toEqual(new Set([last.json.orderId]));
      expect(await inventory(svc.url, 'phone')).toEqual({ initial: 10, available: 9, reserved: 0, sold: 1 });
    } finally {
      await Promise.all(agents.map((a) => a.close().catch(() => {})));
      await svc.close();
    }
  });
});
