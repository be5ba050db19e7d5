// Was the generator, not the target, setting the pace? Judged from how late requests left versus
// their schedule and how long the workers' event loops stalled, against the scenario's own scale:
// 10 ms late is nothing for a sale whose tightest latency threshold is 2 s, and a lot for one of 50 ms.
// Judged on the SHARE of requests that left late, not on a single high percentile, so a short stall
// (a GC, the JIT warming up, another process taking the core for a few ms) does not flip the flag,
// while a generator that cannot keep up (lateness that grows, or a stall every period) always does.
// Waiting for a free connection is not judged here: busy connections may as well be the target
// holding them (a stall) as the connection cap; it is reported as generator.connectionWait instead.
import { decodeHistogram, percentilesMs } from '../common/histogram.ts';
import type { Histogram } from '../common/histogram.ts';
import type { GeneratorLimits } from '../contract/result.ts';

export type { GeneratorLimits };


export interface GeneratorVerdict {
  generatorBound: boolean;
  reason: string | null;
  /** Share of requests that left later than limits.latenessMs (0 when none were sent). */
  lateShare: number;
  limits: GeneratorLimits;
}

/** Without a latency threshold, lateness is judged against this scale. */
export const DEFAULT_SCALE_MS = 1000;
/** Lateness that counts: this share of the scale, and never less than the floor (timer jitter). */
export const LATENESS_SHARE_OF_SCALE = 0.1;
export const LATENESS_FLOOR_MS = 10;
/** More than 5 % of requests late: the arrival schedule was not what the scenario asked for. */
export const LATE_SHARE_LIMIT = 0.05;
/** Event-loop p99 limit: the lateness limit, and never less than this. */
export const EVENT_LOOP_FLOOR_MS = 50;

/** The limits for a scenario whose tightest latency threshold is `scaleMs` (null: it has none). */
export function generatorLimits(scaleMs: number | null, scaleFrom?: string): GeneratorLimits {
  const scale = scaleMs !== null && Number.isFinite(scaleMs) && scaleMs > 0 ? scaleMs : DEFAULT_SCALE_MS;
  const latenessMs = Math.max(LATENESS_FLOOR_MS, LATENESS_SHARE_OF_SCALE * scale);
  return {
    scaleMs: scale,
    scaleFrom: scaleMs === scale ? (scaleFrom ?? 'the scenario') : `the default (no latency threshold)`,
    latenessMs,
    lateShare: LATE_SHARE_LIMIT,
    eventLoopMs: Math.max(EVENT_LOOP_FLOOR_MS, latenessMs),
  };
}

/** Share of the histogram's values above `limitUs` (0..1), by bisection on its percentiles. */
export function shareAbove(h: Histogram, limitUs: number): number {
  if (h.totalCount === 0 || h.maxValue <= limitUs) return 0;
  let lo = 0; // percentile known to be ≤ limit (or the start)
  let hi = 100; // percentile known to be > limit
  for (let i = 0; i < 30 && hi - lo > 1e-4; i++) {
    const mid = (lo + hi) / 2;
    if (h.getValueAtPercentile(mid) > limitUs) hi = mid;
    else lo = mid;
  }
  return (100 - hi) / 100;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}

export function judgeGenerator(input: {
  lateness: Histogram | string;
  eventLoopDelayMs: { p99: number; max: number };
  limits?: GeneratorLimits;
}): GeneratorVerdict {
  const limits = input.limits ?? generatorLimits(null);
  const h = typeof input.lateness === 'string' ? decodeHistogram(input.lateness) : input.lateness;
  const late = percentilesMs(h);
  const lateShare = shareAbove(h, limits.latenessMs * 1000);
  const reasons: string[] = [];
  if (late.count > 0 && lateShare > limits.lateShare) {
    reasons.push(
      `${pct(lateShare)} of requests left more than ${limits.latenessMs.toFixed(0)} ms behind schedule (limit ${pct(limits.lateShare)}; p99 ${late.p99.toFixed(1)} ms, max ${late.max.toFixed(0)} ms), so the generator could not keep the arrival rate`,
    );
  }
  if (input.eventLoopDelayMs.p99 > limits.eventLoopMs) {
    reasons.push(`load worker event loop stalled: p99 delay ${input.eventLoopDelayMs.p99.toFixed(1)} ms (limit ${limits.eventLoopMs.toFixed(0)} ms)`);
  }
  const tail = ` (judged against ${limits.scaleMs.toLocaleString('en-US')} ms, ${limits.scaleFrom})`;
  return reasons.length
    ? { generatorBound: true, reason: reasons.join('; ') + tail, lateShare, limits }
    : { generatorBound: false, reason: null, lateShare, limits };
}
