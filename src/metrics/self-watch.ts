// Was the generator, not the target, setting the pace? Judged from how late requests left versus
// their schedule and how long the workers' event loops stalled. Thresholds follow wrk2's spirit:
// a few ms of timer jitter is normal; lateness comparable to the gap between arrivals is not.
// Waiting for a free connection is not judged here: busy connections may as well be the target
// holding them (a stall) as the connection cap; it is reported as generator.connectionWait instead.
import { percentilesMs } from './histogram.ts';
import type { Histogram } from './histogram.ts';

export interface GeneratorVerdict {
  generatorBound: boolean;
  reason: string | null;
}

/** p99 lateness above max(this, 5 % of the mean gap between arrivals) means the schedule slipped. */
export const LATENESS_FLOOR_MS = 10;
export const LATENESS_SHARE_OF_GAP = 0.05;
/** An event loop whose p99 delay exceeds this could not send on time, whatever the lateness says. */
export const EVENT_LOOP_P99_LIMIT_MS = 50;

export function judgeGenerator(input: {
  lateness: Histogram | string;
  /** Mean time between this generator's arrivals, ms (Infinity if unknown). */
  meanGapMs: number;
  eventLoopDelayMs: { p99: number; max: number };
}): GeneratorVerdict {
  const late = percentilesMs(input.lateness);
  const limitMs = Math.max(LATENESS_FLOOR_MS, Number.isFinite(input.meanGapMs) ? LATENESS_SHARE_OF_GAP * input.meanGapMs : 0);
  const reasons: string[] = [];
  if (late.count > 0 && late.p99 > limitMs) {
    reasons.push(
      `requests left late: p99 ${late.p99.toFixed(1)} ms behind schedule (limit ${limitMs.toFixed(1)} ms), so the generator could not keep the arrival rate`,
    );
  }
  if (input.eventLoopDelayMs.p99 > EVENT_LOOP_P99_LIMIT_MS) {
    reasons.push(
      `load worker event loop stalled: p99 delay ${input.eventLoopDelayMs.p99.toFixed(1)} ms (limit ${EVENT_LOOP_P99_LIMIT_MS} ms)`,
    );
  }
  return reasons.length ? { generatorBound: true, reason: reasons.join('; ') } : { generatorBound: false, reason: null };
}
