// The knee: the highest offered rate before corrected p99 climbs above twice its low-load value, for good.
import { describe, expect, it } from 'vitest';
import { findKnee } from '../src/plan/knee.ts';

const pts = (pairs: Array<[number, number]>) => pairs.map(([offeredRate, p99Ms]) => ({ offeredRate, p99Ms }));

describe('knee', () => {
  it('is the last rate before latency climbs and stays up', () => {
    const k = findKnee(pts([[100, 4], [200, 4.2], [400, 5], [800, 7.9], [1600, 40], [1200, 12]]));
    expect(k).toEqual({ rate: 800, p99Ms: 7.9, climbedAt: 1200, climbedP99Ms: 12, baselineP99Ms: 4 });
  });

  it('ignores one noisy step that comes back down', () => {
    const k = findKnee(pts([[100, 4], [200, 30], [400, 5], [800, 6], [1600, 50]]));
    expect(k!.rate).toBe(800);
    expect(k!.climbedAt).toBe(1600);
  });

  it('takes the lowest p99 below a step as the baseline, floored at 1 ms', () => {
    const k = findKnee(pts([[100, 0.2], [200, 0.5], [400, 0.9], [800, 2.5]]));
    expect(k!.rate).toBe(400);
    expect(k!.baselineP99Ms).toBe(1);
  });

  it('is null when latency never doubled, or with fewer than two rates', () => {
    expect(findKnee(pts([[100, 4], [200, 5], [400, 7.5]]))).toBeNull();
    expect(findKnee(pts([[100, 4]]))).toBeNull();
  });

  it('keeps the last measurement of a rate measured twice', () => {
    const k = findKnee(pts([[100, 4], [200, 50], [200, 5], [400, 20]]));
    expect(k!.rate).toBe(200);
    expect(k!.p99Ms).toBe(5);
  });
});
