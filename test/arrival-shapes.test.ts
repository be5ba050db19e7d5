// Schedules on a virtual clock: the streams are pure functions of (spec, seed), so counting their
// times per 100 ms bucket checks each shape without sleeping.
import { describe, expect, it } from 'vitest';
import { ArrivalShare, arrivalShape, createArrivals } from '../src/schedule/index.ts';
import type { ArrivalSpec } from '../src/contract/load-plan.ts';

function take(spec: ArrivalSpec, seed = 1, limit = 1_000_000): number[] {
  const s = createArrivals(spec, seed);
  const out: number[] = [];
  for (let t = s.next(); t !== Infinity && out.length < limit; t = s.next()) out.push(t);
  return out;
}

function perBucket(times: number[], bucketMs = 100): number[] {
  const counts: number[] = [];
  for (const t of times) {
    const b = Math.floor(t / bucketMs);
    while (counts.length <= b) counts.push(0);
    counts[b]++;
  }
  return counts;
}

function expectAscending(times: number[]) {
  for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]);
}

describe('constant-arrival-rate', () => {
  it('starts rate per timeUnit, evenly', () => {
    const times = take({ type: 'constant-arrival-rate', rate: 100, timeUnitMs: 1000, durationMs: 2000 });
    expect(times).toHaveLength(200);
    expect(perBucket(times)).toEqual(new Array(20).fill(10));
    expect(times[1] - times[0]).toBeCloseTo(10);
  });
});

describe('ramping-arrival-rate', () => {
  it('follows the stages: each bucket holds the integral of the linear rate over it, and the total is exact', () => {
    const spec: ArrivalSpec = {
      type: 'ramping-arrival-rate',
      startRate: 0,
      timeUnitMs: 1000,
      stages: [
        { durationMs: 1000, target: 400 },
        { durationMs: 1000, target: 400 },
        { durationMs: 500, target: 0 },
      ],
    };
    const times = take(spec);
    expectAscending(times);
    expect(times).toHaveLength(arrivalShape(spec).expectedArrivals(spec));
    expect(times.length).toBe(200 + 400 + 100);
    // Integral of the rate over [a, b) ms, per ms.
    const rateAt = (t: number) => (t < 1000 ? 0.4 * (t / 1000) : t < 2000 ? 0.4 : 0.4 * (1 - (t - 2000) / 500));
    const counts = perBucket(times);
    for (let b = 0; b < 25; b++) {
      const expected = ((rateAt(b * 100) + rateAt((b + 1) * 100)) / 2) * 100;
      expect(Math.abs((counts[b] ?? 0) - expected)).toBeLessThanOrEqual(1);
    }
  });
});

describe('poisson', () => {
  it('has the rate on average and Poisson dispersion per bucket, deterministically per seed', () => {
    const spec: ArrivalSpec = { type: 'poisson', ratePerSec: 1000, durationMs: 10_000 };
    const times = take(spec, 7);
    expectAscending(times);
    expect(Math.abs(times.length - 10_000)).toBeLessThan(500); // 5 sigma
    const counts = perBucket(times);
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    const variance = counts.reduce((a, c) => a + (c - mean) ** 2, 0) / counts.length;
    expect(variance / mean).toBeGreaterThan(0.7); // a Poisson process has variance = mean
    expect(variance / mean).toBeLessThan(1.3);
    expect(take(spec, 7, 100)).toEqual(times.slice(0, 100));
    expect(take(spec, 8, 100)).not.toEqual(times.slice(0, 100));
  });
});

describe('flash-crowd', () => {
  it('clicks with lognormal reaction times around the median, then latecomers decaying', () => {
    const crowd: ArrivalSpec = { type: 'flash-crowd', registered: 20_000, reaction: { medianMs: 500, sigma: 0.5 }, latecomers: { count: 0, decayMs: 1000 } };
    const times = take(crowd, 3);
    expect(times).toHaveLength(20_000);
    expectAscending(times);
    const before = (ms: number) => times.filter((t) => t < ms).length / times.length;
    expect(before(500)).toBeCloseTo(0.5, 1); // the median
    // lognormal CDF at the median · e^sigma is Φ(1) = 0.841
    expect(before(500 * Math.exp(0.5))).toBeCloseTo(0.841, 1);
    // Peak bucket sits before the median (the mode of a lognormal is median · e^-σ²).
    const counts = perBucket(times);
    const peak = counts.indexOf(Math.max(...counts));
    expect(peak * 100).toBeLessThan(500);

    const late: ArrivalSpec = { type: 'flash-crowd', registered: 0, reaction: { medianMs: 500, sigma: 0.5 }, latecomers: { count: 10_000, decayMs: 1000 } };
    const lt = take(late, 3);
    expect(lt).toHaveLength(10_000);
    expectAscending(lt);
    expect(lt.filter((t) => t < 1000).length / lt.length).toBeCloseTo(1 - Math.exp(-1), 1);
    const lc = perBucket(lt);
    expect(lc[0]).toBeGreaterThan(lc[10]); // decaying
    expect(lc[10]).toBeGreaterThan(lc[30]);
  });

  it('merges crowd and latecomers in time order', () => {
    const both: ArrivalSpec = { type: 'flash-crowd', registered: 1000, reaction: { medianMs: 300, sigma: 0.8 }, latecomers: { count: 1000, decayMs: 2000 } };
    const times = take(both, 5);
    expect(times).toHaveLength(2000);
    expectAscending(times);
  });
});

describe('constant-vus', () => {
  it('starts every virtual user at t0 (their next journeys follow their own ends)', () => {
    expect(take({ type: 'constant-vus', vus: 5, durationMs: 1000 })).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('worker shares', () => {
  it('split a schedule into disjoint shares that together are the whole, whatever the worker count', () => {
    const spec: ArrivalSpec = { type: 'poisson', ratePerSec: 500, durationMs: 2000 };
    const whole = take(spec, 11);
    const seen: Array<[number, number]> = [];
    for (let w = 0; w < 3; w++) {
      const share = new ArrivalShare(spec, 11, w, 3);
      for (let t = share.next(); t !== Infinity; t = share.next()) seen.push([share.index, t]);
    }
    seen.sort((a, b) => a[0] - b[0]);
    expect(seen.map((s) => s[0])).toEqual(whole.map((_, i) => i));
    expect(seen.map((s) => s[1])).toEqual(whole);
  });

  it('names a bad spec', () => {
    expect(() => arrivalShape({ type: 'sine' } as unknown as ArrivalSpec)).toThrow(/arrival.type "sine"/);
    expect(arrivalShape({ type: 'poisson', ratePerSec: -1, durationMs: 0 } as ArrivalSpec).validate({ type: 'poisson', ratePerSec: -1, durationMs: 0 } as never)).toEqual([
      expect.stringMatching(/arrival.ratePerSec/),
      expect.stringMatching(/arrival.durationMs/),
    ]);
  });
});
