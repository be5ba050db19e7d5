import { describe, expect, it } from 'vitest';
import { createLatencyHistogram, encodeHistogram } from '../src/common/histogram.ts';
import { StagedHistogram } from '../src/measure/staged-histogram.ts';

/** Deterministic integers spanning every bucket from 0 to beyond the staged range (2^31). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const magnitude = s % 36; // 2^0 .. 2^35
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.floor((s / 2 ** 32) * 2 ** magnitude));
  }
  return out;
}

function sameAsDirect(vals: number[]): void {
  const direct = createLatencyHistogram();
  const staged = new StagedHistogram();
  for (const v of vals) {
    direct.recordValue(v);
    staged.record(v);
  }
  const h = staged.histogram;
  expect(encodeHistogram(h)).toBe(encodeHistogram(direct));
  expect(h.totalCount).toBe(direct.totalCount);
  expect(h.minNonZeroValue).toBe(direct.minNonZeroValue);
  expect(h.maxValue).toBe(direct.maxValue);
  expect(h.mean).toBe(direct.mean);
  expect(h.getValueAtPercentile(99)).toBe(direct.getValueAtPercentile(99));
}

describe('StagedHistogram', () => {
  it('gives exactly what recording into the HdrHistogram directly gives, across all magnitudes', () => {
    sameAsDirect(values(20_000, 1));
    sameAsDirect(values(3, 7));
    sameAsDirect([0, 0, 5]);
    sameAsDirect([2047, 2048, 2049, 4095, 4096, 2 ** 31 - 1, 2 ** 31, 2 ** 40]);
    sameAsDirect([1500, 1501, 1502]); // min and max in one bucket
    sameAsDirect([3_000_017, 3_000_017, 3_000_999]); // several values in the min's (= max's) bucket
  });

  it('keeps recording after being read, and reset empties it', () => {
    const direct = createLatencyHistogram();
    const staged = new StagedHistogram();
    for (const [i, v] of values(2_000, 3).entries()) {
      direct.recordValue(v);
      staged.record(v);
      if (i % 500 === 0) expect(staged.histogram.totalCount).toBe(direct.totalCount);
    }
    expect(encodeHistogram(staged.histogram)).toBe(encodeHistogram(direct));
    staged.record(12);
    staged.reset();
    expect(staged.histogram.totalCount).toBe(0);
    expect(encodeHistogram(staged.histogram)).toBe('');
    staged.record(12);
    expect(staged.histogram.maxValue).toBe(12);
  });
});

describe('StagedHistogram, bad values', () => {
  it('refuses a negative value as the HdrHistogram does', () => {
    expect(() => new StagedHistogram().record(-1)).toThrow(/negative/);
  });
});
