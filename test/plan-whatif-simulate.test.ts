// The what-if simulation against what queueing theory and arithmetic say it must give: M/M/c waiting
// times (Erlang C), a sell-out set by the service's capacity or by the crowd, timeouts and retries,
// holds that come back, stop-on-sell-out, determinism. Sizes are small: speed lives in bench/plan.ts.
import { describe, expect, it } from 'vitest';
import { simulateSale, type SaleSimulation, type SimJourney } from '../src/plan/whatif/simulate.ts';
import { constantSampler, exponentialSampler, samplerFromHistogram } from '../src/plan/whatif/service-time.ts';
import { createLatencyHistogram } from '../src/common/histogram.ts';

const checkoutJourney: SimJourney = {
  type: 'checkout',
  qty: 1,
  thinkTime: { minMs: 0, maxMs: 0 },
  retries: { max: 0, baseMs: 50, maxMs: 1000 },
  bots: { share: 0, retries: 0 },
  declineRate: 0,
  reservationTtlMs: 120_000,
};

function sale(over: Partial<SaleSimulation>): SaleSimulation {
  return {
    arrival: { type: 'constant-arrival-rate', rate: 1000, timeUnitMs: 1000, durationMs: 1000 },
    stock: [1_000_000],
    skuWeights: [1],
    journey: checkoutJourney,
    stopOnSellOut: false,
    servers: 1,
    queueTimeoutMs: 1e9,
    queueLimit: Infinity,
    serviceTimes: { checkout: { success: constantSampler(1), soldOut: constantSampler(0.2) } },
    seed: 1,
    ...over,
  };
}

/** Erlang C: probability that an arrival waits, for c servers at offered load a = λ/μ. */
function erlangC(c: number, a: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < c; k++) {
    term *= a / k;
    sum += term;
  }
  const last = (term * a) / c;
  const top = last / (1 - a / c);
  return top / (sum + top);
}

describe('what-if simulation', () => {
  it('matches M/M/c waiting times (Erlang C)', () => {
    for (const [c, rho] of [[1, 0.8], [4, 0.9], [16, 0.85]] as const) {
      const meanS = 2; // ms
      const lambdaPerMs = (rho * c) / meanS;
      const r = simulateSale(
        sale({
          arrival: { type: 'poisson', ratePerSec: lambdaPerMs * 1000, durationMs: 400_000 / (lambdaPerMs * 1000) * 1000 },
          servers: c,
          serviceTimes: { checkout: { success: exponentialSampler(meanS), soldOut: exponentialSampler(meanS) } },
          stock: [10_000_000],
          seed: 11,
        }),
      );
      const a = lambdaPerMs * meanS;
      const expectedMean = erlangC(c, a) / (c / meanS - lambdaPerMs) + meanS;
      expect(Math.abs(r.latency.mean - expectedMean) / expectedMean, `c=${c} ρ=${rho}: ${r.latency.mean} vs ${expectedMean}`).toBeLessThan(0.06);
      expect(r.buyers.arrived).toBeGreaterThan(350_000);
    }
  });

  it('sells out at the service capacity when the crowd is faster than the service', () => {
    // 2,000 buyers/s against one server of 1 ms (1,000/s): 1,000 units take about 1 s to sell.
    const r = simulateSale(sale({ arrival: { type: 'constant-arrival-rate', rate: 2000, timeUnitMs: 1000, durationMs: 3000 }, stock: [1000] }));
    expect(r.unitsSold).toBe(1000);
    expect(r.sellOutMs!).toBeGreaterThan(999);
    expect(r.sellOutMs!).toBeLessThan(1002);
    expect(r.latency.p99).toBeGreaterThan(400); // the queue grows by one request per ms of the sale
  });

  it('sells out at the crowd pace when the service keeps up', () => {
    const r = simulateSale(sale({ arrival: { type: 'constant-arrival-rate', rate: 500, timeUnitMs: 1000, durationMs: 4000 }, stock: [1000] }));
    // The 1,000th buyer arrives at 999 × 2 ms and is served in 1 ms.
    expect(r.sellOutMs).toBeCloseTo(999 * 2 + 1, 6);
    expect(r.latency.max).toBeCloseTo(1, 2);
    expect(r.buyers.soldOut).toBe(1000);
    expect(r.requests.sent).toBe(2000);
  });

  it('stops starting buyers once every SKU has answered sold out', () => {
    const r = simulateSale(sale({ arrival: { type: 'constant-arrival-rate', rate: 500, timeUnitMs: 1000, durationMs: 4000 }, stock: [1000], stopOnSellOut: true }));
    expect(r.unitsSold).toBe(1000);
    expect(r.buyers.soldOut).toBe(1);
    expect(r.buyers.arrived).toBe(1001);
  });

  it('times out requests that wait too long; buyers retry with backoff, then give up', () => {
    const journey = { ...checkoutJourney, retries: { max: 2, baseMs: 10, maxMs: 40 } };
    const r = simulateSale(
      sale({ arrival: { type: 'constant-arrival-rate', rate: 3000, timeUnitMs: 1000, durationMs: 1000 }, journey, queueTimeoutMs: 50 }),
    );
    expect(r.requests.timedOut).toBeGreaterThan(0);
    expect(r.requests.retries).toBeGreaterThan(0);
    expect(r.buyers.gaveUp).toBeGreaterThan(0);
    // Every buyer ends one way, and every request is answered, timed out or shed.
    expect(r.buyers.succeeded + r.buyers.soldOut + r.buyers.rejected + r.buyers.gaveUp).toBe(r.buyers.arrived);
    expect(r.requests.success + r.requests.soldOut + r.requests.rejected + r.requests.timedOut + r.requests.shed).toBe(r.requests.sent);
    expect(r.requests.sent).toBe(r.buyers.arrived + r.requests.retries);
    // Nobody waits in the queue past the timeout; what is served is served within timeout + service time.
    expect(r.latency.max).toBeLessThanOrEqual(50 + 1 + 1e-6);
    // A single 1 ms server serves about 1,000 a second: during the 1 s of arrivals, then while the last
    // buyer waits out three queue timeouts (50 ms) and two backoffs (≤ 10, ≤ 20 ms).
    const lastPossible = 1000 + 3 * 50 + 10 + 20 + 1;
    expect(r.requests.success).toBeGreaterThan(950);
    expect(r.requests.success).toBeLessThan(lastPossible);
    expect(r.endMs).toBeLessThanOrEqual(lastPossible);
    // Bots retry more: the same sale with every buyer a bot of 5 retries gives up less often.
    const bots = simulateSale(
      sale({ arrival: { type: 'constant-arrival-rate', rate: 3000, timeUnitMs: 1000, durationMs: 1000 }, journey: { ...journey, bots: { share: 1, retries: 5 } }, queueTimeoutMs: 50 }),
    );
    expect(bots.requests.retries).toBeGreaterThan(r.requests.retries);
  });

  it('sheds at the queue limit, at once', () => {
    const r = simulateSale(sale({ arrival: { type: 'constant-arrival-rate', rate: 3000, timeUnitMs: 1000, durationMs: 1000 }, queueLimit: 10 }));
    expect(r.requests.shed).toBeGreaterThan(1500);
    expect(r.maxQueue).toBe(10);
    expect(r.latency.max).toBeLessThan(13);
  });

  it('reserve → pay: holds are paid, declined units go back and sell again, nothing oversold', () => {
    const journey: SimJourney = { ...checkoutJourney, type: 'reserve-pay', thinkTime: { minMs: 100, maxMs: 300 }, declineRate: 0.3 };
    const r = simulateSale(
      sale({
        arrival: { type: 'constant-arrival-rate', rate: 2000, timeUnitMs: 1000, durationMs: 2000 },
        stock: [1000],
        journey,
        servers: 8,
        serviceTimes: { reserve: { success: constantSampler(1), soldOut: constantSampler(0.2) }, pay: { success: constantSampler(2), rejected: constantSampler(2) } },
      }),
    );
    expect(r.unitsSold).toBe(1000);
    expect(r.buyers.rejected).toBeGreaterThan(300); // declined payments
    expect(r.buyers.succeeded).toBe(1000);
    expect(r.sellOutMs!).toBeGreaterThan(500);
  });

  it('reserve → pay: a buyer who gives up leaves a hold that comes back at its expiry', () => {
    const journey: SimJourney = { ...checkoutJourney, type: 'reserve-pay', thinkTime: { minMs: 0, maxMs: 0 }, reservationTtlMs: 500 };
    // Pay takes 100 ms on one server; the queue times out at 20 ms: most payments time out, their holds expire after 500 ms.
    const r = simulateSale(
      sale({
        arrival: { type: 'constant-arrival-rate', rate: 200, timeUnitMs: 1000, durationMs: 3000 },
        stock: [50],
        journey,
        servers: 1,
        queueTimeoutMs: 20,
        serviceTimes: { reserve: { success: constantSampler(1), soldOut: constantSampler(0.2) }, pay: { success: constantSampler(100), rejected: constantSampler(100) } },
      }),
    );
    expect(r.buyers.gaveUp).toBeGreaterThan(0);
    expect(r.unitsSold).toBeLessThanOrEqual(50);
    expect(r.buyers.succeeded).toBe(r.unitsSold);
    // Returned holds were sold again: more buyers reserved than there were units.
    expect(r.requests.success - r.buyers.succeeded).toBeGreaterThan(50);
  });

  it('is the same sale for the same seed, and another for another seed', () => {
    const model = sale({
      arrival: { type: 'flash-crowd', registered: 20_000, reaction: { medianMs: 500, sigma: 0.8 }, latecomers: { count: 1000, decayMs: 2000 } },
      stock: [5000],
      servers: 3,
      serviceTimes: { checkout: { success: exponentialSampler(0.5), soldOut: exponentialSampler(0.1) } },
    });
    const a = simulateSale(model);
    const b = simulateSale(model);
    const c = simulateSale({ ...model, seed: 2 });
    expect(b.sellOutMs).toBe(a.sellOutMs);
    expect(b.latencyHistogram).toBe(a.latencyHistogram);
    expect(c.latencyHistogram).not.toBe(a.latencyHistogram);
  });

  it('stops by itself at its bounds', () => {
    const r = simulateSale(sale({ arrival: { type: 'constant-arrival-rate', rate: 1000, timeUnitMs: 1000, durationMs: 60_000 }, maxSimMs: 1500 }));
    expect(r.stoppedBy).toBe('max-sim-time');
    expect(r.endMs).toBeLessThanOrEqual(1500);
    const b = simulateSale(sale({ arrival: { type: 'constant-arrival-rate', rate: 1000, timeUnitMs: 1000, durationMs: 60_000 }, maxBuyers: 100 }));
    expect(b.stoppedBy).toBe('max-buyers');
    expect(b.buyers.arrived).toBe(100);
  });

  it('refuses a closed model and missing service times, naming them', () => {
    expect(() => simulateSale(sale({ arrival: { type: 'constant-vus', vus: 10, durationMs: 1000 } }))).toThrow(/closed model/);
    expect(() => simulateSale(sale({ serviceTimes: {} }))).toThrow(/checkout step/);
    expect(() => simulateSale(sale({ servers: 0 }))).toThrow(/servers/);
  });

  it('draws service times with the measured distribution, its max included', () => {
    const h = createLatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.recordValue(i * 10); // 0.01 … 10 ms, uniform
    h.recordValue(250_000); // one 250 ms outlier
    const s = samplerFromHistogram(h);
    expect(s.draw(0.5)).toBeCloseTo(5, 1);
    expect(s.draw(0.9)).toBeCloseTo(9, 1);
    expect(s.draw(0.99999)).toBeCloseTo(250, 0);
    expect(s.meanMs).toBeCloseTo((5.005 * 1000 + 250) / 1001, 1);
    expect(() => samplerFromHistogram(createLatencyHistogram())).toThrow(/empty/);
  });
});
