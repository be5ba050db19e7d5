// The one place that decides how latency histograms are built, encoded and read back, so every
// histogram in a run (workers, merge, reports, `flashsale merge`) is compatible with every other.
// Values are integer MICROSECONDS; 3 significant digits (0.1 % error) as HdrHistogram's default.
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { messageOf } from '../errors.ts';

export type { Histogram };

export const SIGNIFICANT_DIGITS = 3;

/** A new empty latency histogram (µs). Starts small and grows (autoResize) with the largest value it
 * has seen, so a short interval's histogram stays small and an hour-long stall (3.6e9 µs) or worse is
 * still recorded rather than thrown away. */
export function createLatencyHistogram(): Histogram {
  return build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    // Start at 2 (the minimum) and let autoResize extend: a 10 ms-max histogram is ~40 KB smaller
    // than one sized for an hour up front.
    highestTrackableValue: 2,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    useWebAssembly: false,
  });
}

/** HdrHistogram's compressed base64 (the format HdrHistogram's log tools read); '' when empty. */
export function encodeHistogram(h: Histogram): string {
  if (h.totalCount === 0) return '';
  return encodeIntoCompressedBase64(h);
}

/** Reads what encodeHistogram wrote; '' gives an empty histogram. The result can keep recording. */
export function decodeHistogram(s: string): Histogram {
  const h = createLatencyHistogram();
  if (s === '') return h;
  let decoded: Histogram;
  try {
    decoded = decodeFromCompressedBase64(s, 32, false);
  } catch (e) {
    throw new TypeError(`not an HdrHistogram compressed-base64 string (${s.slice(0, 24)}…): ${messageOf(e)}`, {
      cause: e,
    });
  }
  // Copy into one of ours so the settings (autoResize) are always the same after a round trip.
  h.add(decoded);
  return h;
}

/** Adds encoded histograms exactly (count for count); '' entries are skipped; '' when all are empty. */
export function mergeEncoded(encoded: string[]): string {
  const total = createLatencyHistogram();
  for (const s of encoded) {
    if (s === '') continue;
    total.add(decodeFromCompressedBase64(s, 32, false));
  }
  return encodeHistogram(total);
}

export interface LatencySummaryMs {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
  mean: number;
  /** Extra percentiles asked for through `ps`, keyed `p` + the digits (95 → p95, 99.99 → p9999). */
  [extra: `p${string}`]: number;
}

/** Key for a percentile: 50 → 'p50', 99.9 → 'p999', 97.5 → 'p975'. */
export function percentileKey(p: number): `p${string}` {
  return `p${String(p).replace('.', '')}`;
}

const US_PER_MS = 1000;

/**
 * Percentiles in milliseconds of an encoded histogram or a live one. Always has p50, p90, p99,
 * p99.9 (as p999), max, count and mean; `ps` adds more (e.g. [95, 99.99] → p95, p9999).
 * An empty histogram gives zeros with count 0.
 */
export function percentilesMs(encodedOrHistogram: string | Histogram, ps: number[] = []): LatencySummaryMs {
  const h = typeof encodedOrHistogram === 'string' ? decodeHistogram(encodedOrHistogram) : encodedOrHistogram;
  const out: LatencySummaryMs = { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, count: h.totalCount, mean: 0 };
  const wanted = [50, 90, 99, 99.9, ...ps];
  for (const p of wanted) {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is not between 0 and 100`);
    out[percentileKey(p)] = h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / US_PER_MS;
  }
  if (h.totalCount > 0) {
    out.max = h.maxValue / US_PER_MS;
    out.mean = h.mean / US_PER_MS;
  }
  return out;
}
