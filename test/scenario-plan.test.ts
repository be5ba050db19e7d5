// Scenario → LoadPlan and SaleDefinition.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.ts';
import { loadScenario, resolveOpensAt, stockOf, toLoadPlan, toSaleDefinition, validateScenario } from '../src/scenario/index.ts';

function scenario(over: Record<string, unknown> = {}, buyers: Record<string, unknown> = {}) {
  return validateScenario(
    {
      name: 'plan-test',
      description: 'x',
      sale: { skus: [{ id: 'a', stock: 30 }, { id: 'b', stock: 10 }], perUserLimit: 2, reservationTtl: '90s', payment: { declineRate: 0.1, latency: '250ms' } },
      buyers: { population: 1000, arrival: { executor: 'poisson', rate: 100, duration: '1.5s' }, ...buyers },
      ...over,
    },
    'plan-test',
  );
}

describe('toLoadPlan', () => {
  it('turns durations into ms, fills defaults, and targets the built-in API', () => {
    const plan = toLoadPlan(scenario({}, { journey: 'reserve-pay', qty: 2, thinkTime: { min: '1s', max: 2500 } }), { targetUrl: 'http://127.0.0.1:9' });
    expect(plan.arrival).toEqual({ type: 'poisson', ratePerSec: 100, durationMs: 1500 });
    expect(plan.journey).toEqual({
      type: 'reserve-pay',
      qty: 2,
      thinkTime: { minMs: 1000, maxMs: 2500 },
      retries: { max: 2, baseMs: 50, maxMs: 1000 },
      timeoutMs: 10_000,
      bots: { share: 0, retries: 10, accounts: 1 },
    });
    expect(plan.buyers).toEqual({ population: 1000, userPrefix: 'user-' });
    expect(plan.skus).toEqual({ ids: ['a', 'b'], weights: [30, 10] });
    expect(plan.caps).toEqual({ maxDurationMs: 60_000, maxRequests: 2_000_000, gracefulStopMs: 5000 });
    expect(plan.target.url).toBe('http://127.0.0.1:9');
    expect(Object.keys(plan.target.requests)).toEqual(['reserve', 'pay']);
    expect(plan.target.requests.reserve).toEqual({
      method: 'POST',
      path: '/api/v1/reservations',
      headers: { 'content-type': 'application/json', 'idempotency-key': '${idempotencyKey}' },
      body: { json: { sku: '${sku}', userId: '${userId}', qty: 2 } },
      success: { status: [201] },
      soldOut: { status: [409] },
      captureId: 'reservationId',
    });
    expect(plan.target.requests.pay).toMatchObject({ path: '/api/v1/orders', body: { json: { reservationId: '${reservationId}' } }, captureId: 'orderId' });
  });

  it('uses the checkout route for a one-step journey', () => {
    const plan = toLoadPlan(scenario(), { targetUrl: 'http://127.0.0.1:9' });
    expect(Object.keys(plan.target.requests)).toEqual(['checkout']);
    expect(plan.target.requests.checkout).toMatchObject({ path: '/api/v1/checkout', captureId: 'orderId', success: { status: [201] } });
  });

  it('applies command-line overrides', () => {
    const plan = toLoadPlan(scenario(), { targetUrl: 'http://127.0.0.1:9', workers: 3, seed: 42, maxDurationMs: 5000 });
    expect([plan.workers, plan.seed, plan.caps.maxDurationMs]).toEqual([3, 42, 5000]);
  });

  it('needs a URL for the built-in target', () => {
    expect(() => toLoadPlan(scenario())).toThrow(UsageError);
  });

  it('maps every executor', () => {
    const arrivals = {
      'constant-arrival-rate': [{ executor: 'constant-arrival-rate', rate: 5, timeUnit: '100ms', duration: '1m' }, { type: 'constant-arrival-rate', rate: 5, timeUnitMs: 100, durationMs: 60_000 }],
      'ramping-arrival-rate': [
        { executor: 'ramping-arrival-rate', stages: [{ duration: '2s', target: 10 }] },
        { type: 'ramping-arrival-rate', startRate: 0, timeUnitMs: 1000, stages: [{ durationMs: 2000, target: 10 }] },
      ],
      'flash-crowd': [
        { executor: 'flash-crowd', registered: 500, reaction: { median: '2s', sigma: 0.5 } },
        { type: 'flash-crowd', registered: 500, reaction: { medianMs: 2000, sigma: 0.5 }, latecomers: { count: 0, decayMs: 30_000 } },
      ],
      'constant-vus': [{ executor: 'constant-vus', vus: 4, duration: '3s' }, { type: 'constant-vus', vus: 4, durationMs: 3000 }],
    };
    for (const [input, expected] of Object.values(arrivals)) {
      expect(toLoadPlan(scenario({}, { arrival: input }), { targetUrl: 'http://x' }).arrival).toEqual(expected);
    }
  });

  it('bakes ${qty} into a foreign target and adds the content type', () => {
    const s = scenario(
      {
        target: {
          url: 'https://shop.example/',
          requests: {
            checkout: {
              path: '/buy/${sku}?n=${qty}',
              headers: { 'x-user': '${userId}' },
              json: { items: [{ sku: '${sku}', quantity: '${qty}' }], note: 'x${qty}' },
              success: { status: [200, 201] },
              soldOut: { jsonField: 'error.code', equals: 'SOLD_OUT' },
              captureId: 'order.id',
            },
          },
        },
      },
      { qty: 2 },
    );
    const plan = toLoadPlan(s);
    expect(plan.target.url).toBe('https://shop.example/');
    expect(plan.target.requests.checkout).toEqual({
      method: 'POST',
      path: '/buy/${sku}?n=2',
      headers: { 'x-user': '${userId}', 'content-type': 'application/json' },
      body: { json: { items: [{ sku: '${sku}', quantity: 2 }], note: 'x2' } },
      success: { status: [200, 201] },
      soldOut: { jsonField: 'error.code', equals: 'SOLD_OUT' },
      captureId: 'order.id',
    });
    expect(toLoadPlan(s, { targetUrl: 'http://127.0.0.1:8' }).target.url).toBe('http://127.0.0.1:8');
  });

  it('takes SKU weights as given', () => {
    expect(toLoadPlan(scenario({}, { skuWeights: [1, 3] }), { targetUrl: 'http://x' }).skus.weights).toEqual([1, 3]);
  });
});

describe('toSaleDefinition', () => {
  it('produces the service sale definition', () => {
    const s = scenario();
    expect(toSaleDefinition(s, 123)).toEqual({
      skus: [{ id: 'a', stock: 30 }, { id: 'b', stock: 10 }],
      perUserLimit: 2,
      reservationTtlMs: 90_000,
      opensAtEpochMs: 123,
      payment: { declineRate: 0.1, latencyMs: 250 },
    });
    expect(toSaleDefinition(s).opensAtEpochMs).toBeNull();
    expect(stockOf(s)).toEqual({ bySku: new Map([['a', 30], ['b', 10]]), total: 40 });
  });

  it('resolves opensAt: now, an offset, an ISO time (past = open)', () => {
    expect(resolveOpensAt('now', 1000)).toBeNull();
    expect(resolveOpensAt('+2s', 1000)).toBe(3000);
    expect(resolveOpensAt('2014-10-28T14:00:00+05:30', 0)).toBe(Date.UTC(2014, 9, 28, 8, 30));
    expect(resolveOpensAt('2014-10-28T14:00:00Z', Date.UTC(2020, 0, 1))).toBeNull();
  });
});

describe('the Redmi 1S preset', () => {
  it('replays 90,000 units, one per account, to a crowd larger than the stock', () => {
    const { scenario: s } = loadScenario('redmi-1s-india-2014');
    const plan = toLoadPlan(s, { targetUrl: 'http://127.0.0.1:1' });
    expect(stockOf(s).total).toBe(90_000);
    expect(s.sale.perUserLimit).toBe(1);
    expect(plan.arrival.type).toBe('flash-crowd');
    if (plan.arrival.type === 'flash-crowd') expect(plan.arrival.registered).toBeGreaterThan(3 * 90_000);
    expect(plan.buyers.population).toBeGreaterThanOrEqual(90_000);
    expect(s.thresholds.sellout_ms).toEqual(['value<=11900']);
    expect(plan.caps.maxRequests).toBeGreaterThan(90_000);
  });
});
