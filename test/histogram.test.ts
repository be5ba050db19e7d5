import { describe, expect, it } from 'vitest';
import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeEncoded,
  percentileKey,
  percentilesMs,
} from '../src/common/histogram.ts';

function histogramOf(values: number[]) {
  const h = createLatencyHistogram();
  for (const v of values) h.recordValue(v);
  return h;
}

describe('latency histogram settings and encoding', () => {
  it('encodes an empty histogram as "" and decodes "" as empty', () => {
    expect(encodeHistogram(createLatencyHistogram())).toBe('');
    const h = decodeHistogram('');
    expect(h.totalCount).toBe(0);
    expect(percentilesMs('')).toEqual({ p50: 0, p90: 0, p99: 0, p999: 0, max: 0, count: 0, mean: 0 });
  });

  it('grows to hold an hour-long value and round-trips it within 3 significant digits', () => {
    const h = histogramOf([1, 250, 3_600_000_000]);
    const back = decodeHistogram(encodeHistogram(h));
    expect(back.totalCount).toBe(3);
    expect(back.maxValue).toBeGreaterThanOrEqual(3_600_000_000 * 0.999);
    expect(back.maxValue).toBeLessThanOrEqual(3_600_000_000 * 1.001);
    // A decoded histogram keeps recording, even beyond its decoded range.
    back.recordValue(7_200_000_000);
    expect(back.totalCount).toBe(4);
  });

  it('merging encoded parts gives exactly the histogram of the whole', () => {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 1; i <= 5000; i++) (i % 3 === 0 ? a : b).push(i * 37);
    const merged = decodeHistogram(mergeEncoded([encodeHistogram(histogramOf(a)), '', encodeHistogram(histogramOf(b))]));
    const whole = histogramOf([...a, ...b]);
    expect(merged.totalCount).toBe(whole.totalCount);
    for (const p of [1, 10, 50, 90, 99, 99.9, 100]) expect(merged.getValueAtPercentile(p)).toBe(whole.getValueAtPercentile(p));
    expect(mergeEncoded(['', ''])).toBe('');
  });

  it('reports percentiles in milliseconds, with extra ones on request', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) * 1000); // 1..1000 ms
    const s = percentilesMs(encodeHistogram(histogramOf(values)), [95, 99.99]);
    expect(s.count).toBe(1000);
    expect(s.p50).toBeCloseTo(500, -0.5);
    expect(s.p99).toBeCloseTo(990, -0.5);
    expect(s.p95).toBeCloseTo(950, -0.5);
    expect(s.p9999).toBeCloseTo(1000, -0.5);
    expect(s.max).toBeCloseTo(1000, -0.5);
    expect(s.mean).toBeCloseTo(500.5, -0.5);
    expect(percentileKey(99.9)).toBe('p999');
  });

  it('names bad input', () => {
    expect(() => decodeHistogram('not-a-histogram')).toThrow(/HdrHistogram/);
    expect(() => percentilesMs('', [101])).toThrow(/101/);
  });
});
