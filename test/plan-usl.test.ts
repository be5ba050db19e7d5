// The Universal Scalability Law fit: recovers σ, κ, λ from synthetic points, exact and noisy, and
// says when the points cannot support it.
import { describe, expect, it } from 'vitest';
import { fitUsl, uslPeakN, uslThroughput } from '../src/plan/usl.ts';
import { mulberry32 } from '../src/common/random.ts';

const TRUE = { sigma: 0.05, kappa: 0.002, lambda: 1200 };

function synthetic(levels: number[], noise: number, seed = 7) {
  const rng = mulberry32(seed);
  return levels.map((n) => ({ n, x: uslThroughput(n, TRUE) * (1 + noise * (2 * rng.next() - 1)) }));
}

describe('USL fit', () => {
  it('recovers σ, κ, λ exactly from exact points', () => {
    const fit = fitUsl(synthetic([1, 2, 4, 8, 16, 32], 0));
    expect(fit.sigma).toBeCloseTo(TRUE.sigma, 6);
    expect(fit.kappa).toBeCloseTo(TRUE.kappa, 7);
    expect(fit.lambda).toBeCloseTo(TRUE.lambda, 3);
    expect(fit.rmse).toBeLessThan(1e-6);
    expect(fit.warnings).toEqual([]);
    expect(fit.peak!.n).toBeCloseTo(Math.sqrt((1 - TRUE.sigma) / TRUE.kappa), 4);
    expect(fit.peak!.x).toBeCloseTo(uslThroughput(fit.peak!.n, TRUE), 3);
  });

  it('recovers them within tolerance from points with ±2 % noise', () => {
    for (const seed of [1, 2, 3]) {
      const fit = fitUsl(synthetic([1, 2, 3, 4, 6, 8, 12, 16, 24, 32], 0.02, seed));
      expect(Math.abs(fit.sigma - TRUE.sigma)).toBeLessThan(0.02);
      expect(Math.abs(fit.kappa - TRUE.kappa) / TRUE.kappa).toBeLessThan(0.25);
      expect(Math.abs(fit.lambda - TRUE.lambda) / TRUE.lambda).toBeLessThan(0.04);
      expect(fit.relativeError).toBeLessThan(0.03);
      expect(fit.r2!).toBeGreaterThan(0.95);
      expect(Math.abs(fit.peak!.n - 21.8) / 21.8).toBeLessThan(0.2);
    }
  });

  it('keeps σ and κ at or above zero for superlinear-looking data', () => {
    const fit = fitUsl([{ n: 1, x: 100 }, { n: 2, x: 205 }, { n: 3, x: 310 }, { n: 4, x: 420 }]);
    expect(fit.sigma).toBeGreaterThanOrEqual(0);
    expect(fit.kappa).toBeGreaterThanOrEqual(0);
    expect(fit.peak).toBeNull();
  });

  it('warns with fewer than 4 points, and pins κ with only two levels', () => {
    const three = fitUsl(synthetic([1, 2, 4], 0));
    expect(three.warnings.join(' ')).toMatch(/only 3 point/);
    expect(three.sigma).toBeCloseTo(TRUE.sigma, 5); // three levels, three parameters: exact, but no check left
    const two = fitUsl([{ n: 1, x: 1000 }, { n: 2, x: 1800 }]);
    expect(two.kappa).toBe(0);
    expect(two.sigma).toBeCloseTo(1 / 9, 6); // 1800 = 2000 / (1 + σ)
    expect(two.peak).toBeNull();
    expect(two.warnings.join(' ')).toMatch(/two concurrency levels/);
    const one = fitUsl([{ n: 2, x: 500 }, { n: 2, x: 520 }]);
    expect(one.warnings.join(' ')).toMatch(/only one concurrency level/);
    expect(one.lambda).toBeCloseTo(255, 0);
  });

  it('leaves out points without a rate and says so; refuses no points at all', () => {
    const fit = fitUsl([...synthetic([1, 2, 4, 8], 0), { n: 16, x: 0 }]);
    expect(fit.points).toHaveLength(4);
    expect(fit.warnings.join(' ')).toMatch(/1 point\(s\) without a positive rate/);
    expect(() => fitUsl([{ n: 1, x: 0 }])).toThrow(/at least one point/);
  });

  it('has no peak without coherency cost', () => {
    expect(uslPeakN(0.1, 0)).toBeNull();
    expect(uslPeakN(0, 0.01)).toBeCloseTo(10, 9);
  });
});
