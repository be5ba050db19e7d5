// Latency figures the outputs show, computed once from the encoded histograms (µs) with the metrics
// module's helpers; everything here is in milliseconds.
import { STEPS, type Step } from '../contract/vocabulary.ts';
import { decodeHistogram, percentilesMs, type LatencySummaryMs } from '../common/histogram.ts';
import type { LoadResult, RunResult } from '../contract/result.ts';

export type Percentiles = Pick<LatencySummaryMs, 'p50' | 'p90' | 'p99' | 'p999' | 'max' | 'count' | 'mean'>;

export function stepsOf(result: Pick<LoadResult, 'latency'>): Step[] {
  return STEPS.filter((s) => result.latency[s] !== undefined);
}

/** Null for an empty histogram ('' encoded or no samples): no data is not "0 ms". */
export function percentilesOf(encoded: string): Percentiles | null {
  if (encoded === '') return null;
  const p = percentilesMs(encoded);
  return p.count === 0 ? null : p;
}

export interface StepPercentiles {
  step: Step;
  corrected: Percentiles | null;
  uncorrected: Percentiles | null;
}

/**
 * Whether a result has corrected latency at all. A k6 result has not: k6 times each request from its
 * actual send, and its "corrected" histograms hold those uncorrected values (so thresholds on them are
 * judged as k6 judges them). Every output asks here instead of showing them as corrected.
 */
export function hasCorrectedLatency(result: Pick<RunResult, 'engine'>): boolean {
  return result.engine !== 'k6';
}

/** Each step's percentiles; `corrected` null where the result has none (hasCorrectedLatency). */
export function stepPercentiles(result: Pick<LoadResult, 'latency'> & Partial<Pick<RunResult, 'engine'>>): StepPercentiles[] {
  const corrected = hasCorrectedLatency(result);
  return stepsOf(result).map((step) => {
    const all = result.latency[step]!.all; // stepsOf lists only the steps with latency
    return { step, corrected: corrected ? percentilesOf(all.corrected) : null, uncorrected: percentilesOf(all.uncorrected) };
  });
}

/** Points per decade of the 1/(1-p) axis: enough for a smooth spectrum, few enough to embed. */
const POINTS_PER_DECADE = 20;

/**
 * The percentile spectrum as [1/(1-p), ms] pairs, the way HdrHistogram plots it: x = 1 is p0, 10 is p90,
 * 1000 is p99.9. Stops where the histogram runs out of samples (beyond 1/(1-p) = count every
 * percentile is the max), with a last point at the max.
 */
export function spectrum(encoded: string): Array<[number, number]> {
  if (encoded === '') return [];
  const h = decodeHistogram(encoded);
  if (h.totalCount === 0) return [];
  const points: Array<[number, number]> = [];
  const lastDecade = Math.log10(h.totalCount);
  for (let i = 0; i / POINTS_PER_DECADE < lastDecade; i++) {
    const x = 10 ** (i / POINTS_PER_DECADE);
    const percentile = 100 * (1 - 1 / x);
    points.push([x, h.getValueAtPercentile(percentile) / 1000]);
  }
  points.push([Math.max(h.totalCount, points.length ? points[points.length - 1][0] * 1.01 : 1), h.maxValue / 1000]);
  return points;
}

/** Bins per decade of the distribution chart's log axis. */
const BINS_PER_DECADE = 10;

/**
 * The response-time distribution as [ms, share of requests] points, one per log-spaced bin (10 per
 * decade), each at the bin's geometric middle. Shares add up to 1. Empty for an empty histogram.
 */
export function distribution(encoded: string): Array<[number, number]> {
  if (encoded === '') return [];
  // hdr-histogram-js's JS histogram walks its buckets by index; its typings leave these out.
  const h = decodeHistogram(encoded) as unknown as { totalCount: number; countsArrayLength: number; getCountAtIndex(i: number): number; valueFromIndex(i: number): number };
  const total = h.totalCount;
  if (total === 0) return [];
  const bins = new Map<number, number>();
  for (let i = 0; i < h.countsArrayLength; i++) {
    const n = h.getCountAtIndex(i);
    if (n === 0) continue;
    const ms = Math.max(h.valueFromIndex(i), 1) / 1000;
    const bin = Math.floor(Math.log10(ms) * BINS_PER_DECADE);
    bins.set(bin, (bins.get(bin) ?? 0) + n);
  }
  const lo = Math.min(...bins.keys());
  const hi = Math.max(...bins.keys());
  const points: Array<[number, number]> = [];
  for (let b = lo; b <= hi; b++) points.push([10 ** ((b + 0.5) / BINS_PER_DECADE), (bins.get(b) ?? 0) / total]);
  return points;
}
