// What the crowd saw of a fault, computed after the run from the 100 ms interval series and the fault's
// timings. Pure, so it is tested on hand-made series.
//
// The series today (result.json `intervals`, src/metrics/intervals.ts) has per bucket: sent, completed,
// successes, soldOuts, errors (refusals and errors together) and stockTaken. It has no kinds of error
// and no retries per bucket: `errorsByKind` and `retries` below are read when the series carries them
// (phase 2 adds them to IntervalRecorder) and are null, with a note, when it does not.
//
// Time resolution is the bucket: the first success after a fault is known to lie in a bucket, so the
// recovery time is given as a range [min, max], never as a made-up exact figure.
import type { IntervalSeries } from '../contract/result.ts';

/** The interval series as result.json holds it, plus what phase 2 adds for faults. */
export interface FaultSeries extends IntervalSeries {
  /** Per kind of error ('ECONNREFUSED', 'ECONNRESET', 'timeout', 'http_503', …), a count per bucket. */
  errorsByKind?: Record<string, number[]>;
  /** Retries sent per bucket. */
  retries?: number[];
}

export interface Range {
  min: number;
  max: number;
}

export interface FaultImpact {
  /** The buckets counted, ms from the sale's opening: from the one the fault hit in, through the one
   * holding the first success after the fault ended (or through the one it ended in, if none), and on
   * through the buckets right after it that still hold errors — the target settling (on N processes, the
   * others still rebuilding after the first answers again) — at most SETTLE_MAX_MS past the fault's end. */
  fromMs: number;
  toMs: number;
  sent: number;
  completed: number;
  successes: number;
  soldOuts: number;
  /** Refusals and errors (the series does not tell them apart). */
  errors: number;
  /** Errors by kind in those buckets; null when the series has none (see notes). */
  errorsByKind: Record<string, number> | null;
  /** Retries sent in those buckets; null when the series has none (see notes). */
  retries: number | null;
  /** From the fault's end (healed; or in effect, when nothing heals it) to the first success after it. null: none came. */
  recoveryMs: Range | null;
  /** From its hit to that first success: how long buyers could not buy. */
  outageMs: Range | null;
  notes: string[];
}

/** How long after a fault's end errors that continue without a break are still counted as its own. */
export const SETTLE_MAX_MS = 3000;

/** The timings of a fault record this needs (record.ts holds the whole record and its impact). */
export interface FaultImpactTimings {
  status: 'healed' | 'applied' | 'failed' | 'heal_failed' | 'not_reached';
  hitMs: number | null;
  inEffectMs: number | null;
  healedMs: number | null;
}

function sum(values: readonly number[] | undefined, from: number, to: number): number {
  let n = 0;
  for (let i = from; i <= to && values && i < values.length; i++) n += values[i] ?? 0;
  return n;
}

/** The crowd's view of one fault; null for a fault that never took effect (failed, not reached). */
export function faultImpact(series: FaultSeries, fault: FaultImpactTimings): FaultImpact | null {
  if (fault.hitMs === null || fault.status === 'failed' || fault.status === 'not_reached') return null;
  const p = series.periodMs;
  const buckets = series.successes.length;
  const notes: string[] = [];
  const end = fault.healedMs ?? fault.inEffectMs ?? fault.hitMs;
  if (fault.status === 'heal_failed') notes.push('its heal failed: the fault may have lasted past the end used here (when it was in effect)');
  const first = Math.floor(fault.hitMs / p);
  const endBucket = Math.floor(end / p);

  // The first success after `end`. Successes in the bucket the fault ended in may have come before the
  // end, so they only bound the recovery from below (0); a later bucket bounds it from above.
  let recoveryMs: Range | null = null;
  let last = Math.min(endBucket, buckets - 1);
  const later = series.successes.findIndex((n, i) => i > endBucket && n > 0);
  if ((series.successes[endBucket] ?? 0) > 0) {
    const upto = later >= 0 ? later : endBucket;
    recoveryMs = { min: 0, max: (upto + 1) * p - end };
    last = upto;
    if (later < 0) notes.push('successes came only in the bucket the fault ended in, perhaps before its end: the recovery time is at most the rest of that bucket, if there was one');
  } else if (later >= 0) {
    recoveryMs = { min: later * p - end, max: (later + 1) * p - end };
    last = later;
  } else {
    notes.push('no success after the fault: the run ended, the stock was gone, or the target never recovered');
  }
  if (recoveryMs !== null) {
    const settled = last;
    while (last + 1 < buckets && (series.errors[last + 1] ?? 0) > 0 && (last + 2) * p <= end + SETTLE_MAX_MS) last++;
    if (last > settled) notes.push(`errors went on for ${((last - settled) * p).toFixed(0)} ms after the first success (the target settling): counted in the fault's window`);
  }
  if (first >= buckets) notes.push('the interval series ends before the fault hit');

  let errorsByKind: Record<string, number> | null = null;
  if (series.errorsByKind) {
    errorsByKind = {};
    for (const [kind, counts] of Object.entries(series.errorsByKind)) {
      const n = sum(counts, first, last);
      if (n > 0) errorsByKind[kind] = n;
    }
  } else {
    notes.push("errors by kind: this result's interval series has no kinds per bucket (counts.errorsByKind has the run's totals)");
  }
  const retries = series.retries ? sum(series.retries, first, last) : null;
  if (retries === null) notes.push("retries: this result's interval series has no retries per bucket (counts.retries has the run's total)");

  return {
    fromMs: first * p,
    toMs: (Math.max(last, first) + 1) * p,
    sent: sum(series.sent, first, last),
    completed: sum(series.completed, first, last),
    successes: sum(series.successes, first, last),
    soldOuts: sum(series.soldOuts, first, last),
    errors: sum(series.errors, first, last),
    errorsByKind,
    retries,
    recoveryMs,
    outageMs: recoveryMs && { min: recoveryMs.min + (end - fault.hitMs), max: recoveryMs.max + (end - fault.hitMs) },
    notes,
  };
}

/** Each record with its impact added. */
export function withImpact<R extends FaultImpactTimings & { impact?: FaultImpact }>(records: readonly R[], series: FaultSeries): R[] {
  return records.map((r) => {
    const impact = faultImpact(series, r);
    return impact ? { ...r, impact } : r;
  });
}
