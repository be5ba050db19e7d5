// Buyer journeys end to end against a test server: reserve → think → pay, sold out and sell-out stop,
// Ctrl-C (AbortSignal), and the closed model.
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad, type LoadProgress } from '../src/load/index.ts';
import { testPlan } from './fixtures/load-plan.ts';
import { startTestServer, type Answer, type Received, type TestServer } from './fixtures/load-server.ts';

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function serve(answer: (r: Received, n: number) => Answer) {
  server = await startTestServer(answer);
  return server;
}

describe('journeys', () => {
  it('reserve → think → pay carries the reservation id, with one Idempotency-Key per step', async () => {
    const s = await serve((r) => {
      if (r.path === '/api/v1/reservations') return { status: 201, json: { reservationId: `res-${JSON.parse(r.body).userId}` } };
      return { status: 201, json: { orderId: `ord-${JSON.parse(r.body).reservationId}` } };
    });
    const plan = testPlan(s.url, { arrival: { type: 'constant-arrival-rate', rate: 100, timeUnitMs: 1000, durationMs: 200 } });
    plan.journey.type = 'reserve-pay';
    const r = await runLoad(plan);
    const reserves = s.received.filter((x) => x.path === '/api/v1/reservations');
    const pays = s.received.filter((x) => x.path === '/api/v1/orders');
    expect(reserves).toHaveLength(20);
    expect(pays).toHaveLength(20);
    for (const p of pays) {
      const reserve = reserves.find((x) => x.key === p.key!.replace(/-pay$/, '-reserve'))!;
      expect(JSON.parse(p.body).reservationId).toBe(`res-${JSON.parse(reserve.body).userId}`);
      expect(p.atMs - reserve.atMs).toBeGreaterThanOrEqual(4); // think time 5..10 ms
    }
    expect(r.orders).toHaveLength(20);
    expect(r.orders.every((o) => o.orderId.startsWith('ord-res-u') && o.userId === o.orderId.slice(8))).toBe(true);
    expect(Object.keys(r.latency).sort()).toEqual(['pay', 'reserve']);
    expect(r.counts.buyers).toMatchObject({ started: 20, succeeded: 20 });
    expect(r.counts.unitsAcknowledged).toBe(20);
  });

  it('sold out ends journeys, and stopOnSellOut ends the run', async () => {
    let stock = 30;
    const s = await serve(() => (stock > 0 ? (stock--, { status: 201, json: { orderId: `o${stock}` } }) : { status: 409, json: { error: 'sold_out' } }));
    const plan = testPlan(s.url, { arrival: { type: 'constant-arrival-rate', rate: 200, timeUnitMs: 1000, durationMs: 3000 }, stopOnSellOut: true });
    const r = await runLoad(plan);
    expect(r.stopReason).toBe('sold_out');
    expect(r.counts.unitsAcknowledged).toBe(30);
    expect(r.orders).toHaveLength(30);
    expect(r.counts.buyers.soldOut).toBeGreaterThan(0);
    expect(s.received.length).toBeLessThan(600);
    expect(r.intervals.stockTaken.reduce((a, b) => a + b, 0)).toBe(30);
  });

  it('an AbortSignal stops the run gracefully and keeps what was measured', async () => {
    const s = await serve(() => ({ status: 201, json: { orderId: 'o' } }));
    const plan = testPlan(s.url, { arrival: { type: 'constant-arrival-rate', rate: 100, timeUnitMs: 1000, durationMs: 5000 } });
    const ac = new AbortController();
    const seen: LoadProgress[] = [];
    const r = await runLoad(plan, {
      signal: ac.signal,
      progressEveryMs: 50,
      onProgress: (p) => {
        seen.push(p);
        if (p.elapsedMs >= 300) ac.abort();
      },
    });
    expect(r.stopReason).toBe('interrupted');
    expect(r.counts.requestsSent).toBeGreaterThan(10);
    expect(r.counts.requestsSent).toBeLessThan(500);
    expect(r.counts.byOutcome.success).toBe(s.received.length);
    expect(r.durationMs).toBeLessThan(4000);
    expect(seen.at(-1)!.sent).toBe(r.counts.requestsSent);
    expect(seen.at(-1)!.successes).toBe(r.counts.buyers.succeeded);
  });

  it('constant-vus: each virtual user starts its next journey a think time after the last', async () => {
    const s = await serve(() => ({ status: 201, json: { orderId: 'o' }, delayMs: 5 }));
    const plan = testPlan(s.url, { arrival: { type: 'constant-vus', vus: 3, durationMs: 400 } });
    plan.journey.thinkTime = { minMs: 20, maxMs: 20 };
    const r = await runLoad(plan);
    expect(r.stopReason).toBe('completed');
    // Each user: ~5 ms answer + 20 ms think per journey over 400 ms, so well above one journey each
    // and never more than 400 / 20 each.
    expect(r.counts.buyers.started).toBeGreaterThan(6);
    expect(r.counts.buyers.started).toBeLessThanOrEqual(3 * 20 + 3);
    expect(r.counts.buyers.succeeded).toBe(r.counts.buyers.started);
    expect(new Set(s.received.map((x) => x.key)).size).toBe(s.received.length);
  });

  it('rejects a bad plan naming the fields', async () => {
    const plan = testPlan('ftp://x', { workers: 0 });
    plan.journey.type = 'reserve-pay';
    delete plan.target.requests.pay;
    await expect(runLoad(plan)).rejects.toThrow(/target.url must be http[\s\S]*target.requests.pay is missing[\s\S]*workers must be/);
    const bad = testPlan('http://127.0.0.1:9');
    bad.target.requests.checkout = { ...bad.target.requests.checkout!, path: '/buy/${item}' };
    await expect(runLoad(bad)).rejects.toThrow(/target.requests.checkout.path: unknown placeholder \$\{item\}/);
  });
});

describe('stopping', () => {
  it('sees Ctrl-C at once even when nothing is due for a long time', async () => {
    const s = await serve(() => ({ status: 201, json: { orderId: 'o' } }));
    const plan = testPlan(s.url, { arrival: { type: 'constant-vus', vus: 2, durationMs: 20_000 } });
    plan.journey.thinkTime = { minMs: 15_000, maxMs: 15_000 };
    plan.caps.gracefulStopMs = 100;
    plan.caps.maxDurationMs = 30_000;
    const ac = new AbortController();
    // Ctrl-C once both buyers have had their answer (a fixed delay raced the worker's start-up on a
    // busy machine), then nothing is due for 15 s.
    const poll = setInterval(() => {
      if (s.received.length < 2) return;
      clearInterval(poll);
      setTimeout(() => ac.abort(), 200);
    }, 20);
    const r = await runLoad(plan, { signal: ac.signal }).finally(() => clearInterval(poll));
    expect(r.stopReason).toBe('interrupted');
    expect(r.durationMs).toBeLessThan(5_000);
    expect(r.counts.buyers.succeeded).toBe(2);
  });
});
