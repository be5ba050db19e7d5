// The load engine against the reference service: a small flash sale bought out with reserve → pay,
// two load workers, bots cycling accounts. What the generator saw acknowledged must match the stock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../src/load/index.ts';
import { builtInRequests } from '../src/scenario/builtin-target.ts';
import { startService, type RunningService } from '../src/service/index.ts';
import type { LoadResult } from '../src/contract/result.ts';
import type { LoadPlan } from '../src/contract/load-plan.ts';
import { testPlan } from './fixtures/load-plan.ts';

const STOCK = 150;

/** A one-SKU sale on the built-in service, bought with reserve → pay by two load workers that stop at sell-out. */
async function reservePaySale(
  units: number,
  payment: { declineRate: number; latencyMs: number },
  arrival: LoadPlan['arrival'],
  tune: (plan: LoadPlan) => void,
): Promise<{ service: RunningService; result: LoadResult }> {
  const service = await startService({
    sale: { skus: [{ id: 'phone', stock: units }], perUserLimit: 1, reservationTtlMs: 30_000, opensAtEpochMs: null, payment },
    threads: 1,
    expectedUsers: 10_000,
  });
  const plan = testPlan(service.url, { target: { url: service.url, requests: builtInRequests(1) }, arrival, workers: 2, stopOnSellOut: true });
  plan.journey.type = 'reserve-pay';
  tune(plan);
  return { service, result: await runLoad(plan) };
}

describe('against the reference service', () => {
  let service: RunningService;
  let result: LoadResult;

  beforeAll(async () => {
    ({ service, result } = await reservePaySale(
      STOCK,
      { declineRate: 0, latencyMs: 0 },
      { type: 'flash-crowd', registered: 300, reaction: { medianMs: 150, sigma: 0.5 }, latecomers: { count: 50, decayMs: 200 } },
      (plan) => {
        plan.journey.bots = { share: 0.2, retries: 3, accounts: 2 };
        plan.buyers.population = 1000;
      },
    ));
  });
  afterAll(() => service?.close());

  it('sells out exactly, with every acknowledged order unique and within the per-user limit', () => {
    expect(result.counts.unitsAcknowledged).toBe(STOCK);
    expect(result.orders).toHaveLength(STOCK);
    expect(new Set(result.orders.map((o) => o.orderId)).size).toBe(STOCK);
    expect(new Set(result.orders.map((o) => o.userId)).size).toBe(STOCK);
    expect(result.counts.buyers.soldOut).toBeGreaterThan(0);
    expect(result.latency.reserve?.byOutcome.success).toBeDefined();
    expect(result.latency.pay?.byOutcome.success).toBeDefined();
    expect(result.intervals.stockTaken.reduce((a, b) => a + b, 0)).toBe(STOCK);
  });
});

// A sold-out answer in reserve → pay is not the end while holds are out: a declined payment gives its
// units back, and a later buyer must still be able to buy them. stopOnSellOut has to wait for that.
describe('stopOnSellOut with declined payments', () => {
  let service: RunningService;
  let result: LoadResult;
  const UNITS = 40;

  beforeAll(async () => {
    ({ service, result } = await reservePaySale(
      UNITS,
      { declineRate: 0.5, latencyMs: 30 },
      // A crowd that takes every unit at once, then latecomers for a second while payments settle.
      { type: 'flash-crowd', registered: 200, reaction: { medianMs: 50, sigma: 0.3 }, latecomers: { count: 400, decayMs: 800 } },
      (plan) => {
        plan.journey.thinkTime = { minMs: 20, maxMs: 60 };
        plan.buyers.population = 2000;
      },
    ));
  });
  afterAll(() => service?.close());

  it('sells the returned units to later buyers before it stops', async () => {
    expect(result.counts.buyers.rejected).toBeGreaterThan(0); // payments were declined
    expect(result.stopReason).toBe('sold_out');
    expect(result.counts.unitsAcknowledged).toBe(UNITS);
    const inventory = (await (await fetch(`${service.url}/api/v1/inventory/phone`)).json()) as { available: number; sold: number };
    expect(inventory).toMatchObject({ available: 0, sold: UNITS });
  });
});
