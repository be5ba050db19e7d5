// Service times for the simulation, drawn from a measured HdrHistogram: the histogram is read once
// into a table of quantiles, and a draw is one uniform number and one table look-up. The table's last
// entry is the histogram's max, so the rare slow requests a real service has are drawn too.
import { decodeHistogram, type Histogram } from '../adapter.ts';

const TABLE_SIZE = 4096;

export interface ServiceTimeSampler {
  /** A service time in ms for a uniform u in [0, 1). */
  draw(u: number): number;
  /** Mean of the distribution, ms. */
  meanMs: number;
  /** Samples the distribution was built from. */
  count: number;
}

/** From a histogram of µs (HdrHistogram, or its compressed base64 as result.json holds them). */
export function samplerFromHistogram(source: Histogram | string): ServiceTimeSampler {
  const h = typeof source === 'string' ? decodeHistogram(source) : source;
  if (h.totalCount === 0) throw new RangeError('cannot draw service times from an empty histogram');
  const table = new Float64Array(TABLE_SIZE);
  for (let i = 0; i < TABLE_SIZE - 1; i++) table[i] = h.getValueAtPercentile((100 * (i + 0.5)) / TABLE_SIZE) / 1000;
  table[TABLE_SIZE - 1] = h.maxValue / 1000;
  return { draw: (u) => table[(u * TABLE_SIZE) | 0], meanMs: h.mean / 1000, count: h.totalCount };
}

/** Always the same time: for tests and for a fixed-cost model. */
export function constantSampler(ms: number): ServiceTimeSampler {
  return { draw: () => ms, meanMs: ms, count: 1 };
}

/** Exponential with the given mean: an M/M/c check against queueing theory. */
export function exponentialSampler(meanMs: number): ServiceTimeSampler {
  return { draw: (u) => -meanMs * Math.log(1 - u), meanMs, count: Infinity };
}
