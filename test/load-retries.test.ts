// Retries, idempotency keys, bots and caps, against a test server that counts what it receives.
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../src/load/index.ts';
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

function perKey(received: Received[]): Map<string, Received[]> {
  const m = new Map<string, Received[]>();
  for (const r of received) m.set(r.key!, [...(m.get(r.key!) ?? []), r]);
  return m;
}

const fast = { max: 2, baseMs: 1, maxMs: 5 };

describe('retries and idempotency keys', () => {
  it('retries 503s with the same Idempotency-Key until the answer comes', async () => {
    const seen = new Map<string, number>();
    const s = await serve((r) => {
      const n = (seen.get(r.key!) ?? 0) + 1;
      seen.set(r.key!, n);
      return n <= 2 ? { status: 503, json: { error: 'overloaded' } } : { status: 201, json: { orderId: `o-${r.key}` } };
    });
    const plan = testPlan(s.url, { arrival: { type: 'constant-arrival-rate', rate: 100, timeUnitMs: 1000, durationMs: 200 } });
    plan.journey.retries = fast;
    const r = await runLoad(plan);
    const keys = perKey(s.received);
    expect(keys.size).toBe(20);
    for (const attempts of keys.values()) {
      expect(attempts).toHaveLength(3);
      expect(new Set(attempts.map((a) => a.body)).size).toBe(1); // same request, same key
    }
    expect(r.counts).toMatchObject({ requestsSent: 60, retries: 40, errorsByKind: { http_503: 40 }, byOutcome: { success: 20, error: 40 } });
    expect(r.counts.buyers).toMatchObject({ started: 20, succeeded: 20, gaveUp: 0 });
    expect(r.orders.map((o) => o.orderId).sort()).toEqual([...keys.keys()].map((k) => `o-${k}`).sort());
  });

  it('bounds retries, and bots retry more', async () => {
    const s = await serve(() => ({ status: 503 }));
    const plan = testPlan(s.url, { arrival: { type: 'constant-arrival-rate', rate: 200, timeUnitMs: 1000, durationMs: 200 } });
    plan.journey.retries = { max: 1, baseMs: 1, maxMs: 5 };
    plan.journey.bots = { share: 0.5, retries: 4, accounts: 3 };
    const r = await runLoad(plan);
    const lengths = [...perKey(s.received).values()].map((a) => a.length);
    expect(lengths).toHaveLength(40);
    const humans = lengths.filter((n) => n === 2).length;
    const bots = lengths.filter((n) => n === 5).length;
    expect(humans + bots).toBe(40);
    expect(humans).toBeGreaterThan(5);
    expect(bots).toBeGreaterThan(5);
    expect(r.counts.buyers.gaveUp).toBe(40);
    expect(r.counts.requestsSent).toBe(s.received.length);
  });

  it('bots answered with a limit come back as another of their accounts', async () => {
    const s = await serve(() => ({ status: 429, json: { error: 'limit_exceeded' } }));
    const plan = testPlan(s.url, { arrival: { type: 'constant-arrival-rate', rate: 100, timeUnitMs: 1000, durationMs: 100 } });
    plan.journey.bots = { share: 1, retries: 4, accounts: 3 };
    const r = await runLoad(plan);
    expect(s.received).toHaveLength(30);
    const users = s.received.map((x) => JSON.parse(x.body).userId as string);
    expect(new Set(users).size).toBe(30);
    expect(new Set(s.received.map((x) => x.key)).size).toBe(30);
    expect(r.counts.buyers).toMatchObject({ started: 10, rejected: 10 });
    expect(r.counts.errorsByKind).toEqual({ http_429: 30 });
  });
});

describe('caps', () => {
  it('honours maxRequests exactly across workers, and stops', async () => {
    const s = await serve(() => ({ status: 201, json: { orderId: 'o' } }));
    const plan = testPlan(s.url, { arrival: { type: 'constant-arrival-rate', rate: 2000, timeUnitMs: 1000, durationMs: 2000 }, workers: 2 });
    plan.caps.maxRequests = 57;
    const r = await runLoad(plan);
    expect(s.received).toHaveLength(57);
    expect(r.counts.requestsSent).toBe(57);
    expect(r.stopReason).toBe('max_requests');
    expect(r.counts.buyers.dropped).toBeGreaterThan(0);
    // Every started buyer ended one way; dropped ones never started.
    const b = r.counts.buyers;
    expect(b.succeeded + b.soldOut + b.rejected + b.gaveUp).toBe(b.started);
    expect(r.durationMs).toBeLessThan(2000);
  });

  it('reports max_requests from a single worker too', async () => {
    const s = await serve(() => ({ status: 201, json: { orderId: 'o' } }));
    const plan = testPlan(s.url, { arrival: { type: 'constant-vus', vus: 4, durationMs: 5000 } });
    plan.journey.thinkTime = { minMs: 0, maxMs: 0 };
    plan.caps.maxRequests = 100;
    const r = await runLoad(plan);
    expect(s.received).toHaveLength(100);
    expect(r.stopReason).toBe('max_requests');
  });

  it('stops by itself at maxDurationMs when the target never answers', async () => {
    const s = await serve(() => 'hang');
    const plan = testPlan(s.url, { arrival: { type: 'constant-arrival-rate', rate: 50, timeUnitMs: 1000, durationMs: 10_000 } });
    plan.journey.timeoutMs = 200;
    plan.journey.retries = { max: 0, baseMs: 1, maxMs: 1 };
    plan.caps.maxDurationMs = 700;
    const r = await runLoad(plan);
    expect(r.stopReason).toBe("max_duration");
    expect(r.durationMs).toBeGreaterThanOrEqual(700);
    expect(r.durationMs).toBeLessThan(2000);
    expect(r.counts.errorsByKind.timeout).toBeGreaterThan(0);
    // Requests still hanging at the cut are counted apart: not errors, not answers, not timed.
    expect(r.counts.cutByStop).toBeGreaterThan(0);
    expect(r.counts.errorsByKind.cut_by_stop).toBeUndefined();
    expect(r.counts.byOutcome.error).toBe(r.counts.errorsByKind.timeout);
    expect(r.counts.requestsSent).toBe(r.counts.requestsAnswered + r.counts.byOutcome.error + r.counts.cutByStop);
    // A timeout has no answer to time: no latency recorded for it.
    expect(r.latency.checkout?.byOutcome.error).toBeUndefined();
  });
});
