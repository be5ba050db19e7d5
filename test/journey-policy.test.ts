// Buyer decisions without a server: next step, retries with backoff, bots' accounts, the end.
import { describe, expect, it } from 'vitest';
import { Buyers } from '../src/load/buyers.ts';
import { Journey } from '../src/load/journey.ts';
import { afterAnswer, journeyKey } from '../src/load/journey-policy.ts';
import type { JourneySpec } from '../src/contract/load-plan.ts';
import { CHECKOUT, ERROR, PAY, REJECTED, RESERVE, SOLD_OUT, SUCCESS } from '../src/contract/vocabulary.ts';

const spec: JourneySpec = {
  type: 'reserve-pay',
  qty: 1,
  thinkTime: { minMs: 100, maxMs: 200 },
  retries: { max: 2, baseMs: 50, maxMs: 120 },
  timeoutMs: 1000,
  bots: { share: 0.5, retries: 4, accounts: 3 },
};
const buyers = new Buyers({ buyers: { population: 1000, userPrefix: 'u' }, skus: { ids: ['a'], weights: [1] }, seed: 1 });
const host = { now: () => 0, answered() {}, failed() {} };

function journey(step: number, bot = false): Journey {
  const j = new Journey(host);
  j.seed(7);
  j.buyer = 5;
  j.bot = bot;
  j.userId = buyers.userId(5, 0);
  j.journeyKey = journeyKey('k-', 5, 0);
  j.step = step;
  j.refreshKey();
  return j;
}

describe('after an answer', () => {
  it('a reservation leads to payment after a think time, with the pay step’s own key', () => {
    const j = journey(RESERVE);
    expect(j.idempotencyKey).toBe('k-5-reserve');
    expect(afterAnswer(j, SUCCESS, 1000, spec, buyers, 'k-')).toBe('later');
    expect(j.step).toBe(PAY);
    expect(j.idempotencyKey).toBe('k-5-pay');
    expect(j.dueMs).toBeGreaterThanOrEqual(1100);
    expect(j.dueMs).toBeLessThanOrEqual(1200);
    expect(afterAnswer(j, SUCCESS, 1300, spec, buyers, 'k-')).toBe('succeeded');
  });

  it('errors are retried with bounded, jittered, growing backoff and the same key, then given up', () => {
    const j = journey(CHECKOUT);
    const delays: number[] = [];
    for (let i = 0; i < 2; i++) {
      expect(afterAnswer(j, ERROR, 0, spec, buyers, 'k-')).toBe('later');
      delays.push(j.dueMs);
      expect(j.idempotencyKey).toBe('k-5-checkout');
    }
    expect(delays[0]).toBeLessThanOrEqual(50); // random(0, 50)
    expect(delays[1]).toBeLessThanOrEqual(100); // random(0, min(120, 100))
    expect(afterAnswer(j, ERROR, 0, spec, buyers, 'k-')).toBe('gaveUp');
  });

  it('bots retry more and come back as other accounts when refused; people do not', () => {
    const bot = journey(CHECKOUT, true);
    let retries = 0;
    while (afterAnswer(bot, ERROR, 0, spec, buyers, 'k-') === 'later') retries++;
    expect(retries).toBe(4);

    const refused = journey(RESERVE, true);
    const users = [refused.userId];
    const keys = [refused.idempotencyKey];
    while (afterAnswer(refused, REJECTED, 0, spec, buyers, 'k-') === 'later') {
      users.push(refused.userId);
      keys.push(refused.idempotencyKey);
    }
    expect(users).toHaveLength(3);
    expect(new Set(users).size).toBe(3);
    expect(keys).toEqual(['k-5-reserve', 'k-5a1-reserve', 'k-5a2-reserve']);
    expect(afterAnswer(journey(RESERVE), REJECTED, 0, spec, buyers, 'k-')).toBe('rejected');
  });

  it('sold out ends the journey', () => {
    expect(afterAnswer(journey(RESERVE, true), SOLD_OUT, 0, spec, buyers, 'k-')).toBe('soldOut');
  });
});
