// k6 execution segments in the native engine: parsing k6's syntax, and the split itself — the union of
// N segments' buyers is the unsegmented schedule, buyer for buyer, whatever each machine's worker count.
import { describe, expect, it } from 'vitest';
import { ArrivalShare, inSegment, parseSegment, segmentShare, segmentsTile } from '../src/schedule/index.ts';
import type { ArrivalSpec } from '../src/contract/load-plan.ts';

/** Every (buyer number, due time) one machine starts: all its workers' shares. */
function buyers(spec: ArrivalSpec, seed: number, workers: number, segment?: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const seg = segment === undefined ? undefined : parseSegment(segment);
  for (let w = 0; w < workers; w++) {
    const share = new ArrivalShare(spec, seed, w, workers, seg);
    for (let n = 0; n < 100_000; n++) {
      const t = share.next();
      if (t === Infinity) break;
      out.push([share.index, t]);
    }
  }
  return out.sort((a, b) => a[0] - b[0]);
}

const POISSON: ArrivalSpec = { type: 'poisson', ratePerSec: 2000, durationMs: 3000 };
const RAMP: ArrivalSpec = { type: 'ramping-arrival-rate', startRate: 0, timeUnitMs: 1000, stages: [{ durationMs: 1000, target: 3000 }, { durationMs: 1000, target: 0 }] };

describe('parseSegment (k6 syntax)', () => {
  it('reads fractions, decimals, percentages and a lone end', () => {
    expect(parseSegment('0:1/4')).toEqual({ from: [0, 1], to: [1, 4], text: '0:1/4' });
    expect(parseSegment('1/4:2/4').text).toBe('1/4:1/2');
    expect(parseSegment('0.5:1').text).toBe('1/2:1');
    expect(parseSegment('25%:50%').text).toBe('1/4:1/2');
    expect(parseSegment('1/3').text).toBe('0:1/3');
    expect(segmentShare(parseSegment('1/3:1'))).toBeCloseTo(2 / 3, 12);
  });

  it('refuses what is not a segment, saying why', () => {
    expect(() => parseSegment('1/2:1/4')).toThrow(/start must be below its end/);
    expect(() => parseSegment('0:3/2')).toThrow(/at most 1/);
    expect(() => parseSegment('0:x')).toThrow(/"x" is not a fraction/);
    expect(() => parseSegment('0:1/0')).toThrow(/denominator/);
    expect(() => parseSegment('0:1:2')).toThrow(/from:to/);
  });

  it('knows whether segments tile 0:1', () => {
    expect(segmentsTile(['0:1/3', '2/3:1', '1/3:2/3'].map(parseSegment))).toBe(true);
    expect(segmentsTile(['0:1/3', '1/2:1'].map(parseSegment))).toBe(false);
    expect(segmentsTile(['0:1/2', '1/4:1'].map(parseSegment))).toBe(false);
  });
});

describe('a schedule split into segments', () => {
  for (const [name, spec] of [['poisson', POISSON], ['ramping-arrival-rate', RAMP]] as const) {
    for (const cut of [['0:1/2', '1/2:1'], ['0:1/4', '1/4:1/2', '1/2:3/4', '3/4:1'], ['0:1/3', '1/3:2/3', '2/3:1']]) {
      it(`${name}: ${cut.length} segments union to the unsegmented schedule, buyer for buyer`, () => {
        const whole = buyers(spec, 42, 1);
        expect(whole.length).toBeGreaterThan(1000);
        // Each machine with its own worker count: the buyers must not depend on it.
        const parts = cut.map((seg, k) => buyers(spec, 42, 1 + (k % 3), seg));
        const union = parts.flat().sort((a, b) => a[0] - b[0]);
        expect(union).toEqual(whole);
        // Each segment's share is close to its length (van der Corput spreads buyers evenly).
        cut.forEach((seg, k) => expect(Math.abs(parts[k].length / whole.length - segmentShare(parseSegment(seg)))).toBeLessThan(0.01));
      });
    }
  }

  it("spreads a segment's buyers through the schedule, not in one block", () => {
    const half = buyers(POISSON, 7, 2, '1/2:1');
    const firstSecond = half.filter(([, t]) => t < 1000).length;
    expect(firstSecond / half.length).toBeGreaterThan(0.28);
    expect(firstSecond / half.length).toBeLessThan(0.38);
  });

  it('membership is exact at the bounds', () => {
    const s = parseSegment('0:1/2');
    expect(inSegment(s, 0)).toBe(true); // point 0
    expect(inSegment(s, 1)).toBe(false); // point 1/2
    expect(inSegment(parseSegment('1/2:1'), 1)).toBe(true);
  });
});
