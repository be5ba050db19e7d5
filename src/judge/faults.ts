// What the judge makes of a run's faults (docs/faults.md, docs/verdicts.md): a fault that could not be
// injected, whose heal failed, or that never hit means the run did not test what the scenario asked
// (inconclusive); errors during a fault are expected, so the default error-rate threshold counts only
// answers outside the faults' windows. Loss and oversell are the audit's, unchanged: they fail the run.
import type { Counts, FaultRecordResult, IntervalSeries } from '../contract/result.ts';

/** One line per fault that did not happen as asked; [] when every fault did. */
export function faultProblems(faults: readonly FaultRecordResult[]): string[] {
  const lines: string[] = [];
  for (const f of faults) {
    const which = `faults[${f.index}] (${f.description})`;
    if (f.status === 'failed') lines.push(`${which} could not be injected: ${f.problem ?? 'no reason given'}; the run did not test what was asked`);
    else if (f.status === 'heal_failed') lines.push(`${which} was injected but its heal failed: ${f.problem ?? 'no reason given'}; the target may still suffer it`);
    else if (f.status === 'not_reached') lines.push(`${which} never hit: the run ended before ${f.plannedMs.toLocaleString('en-US')} ms; the run did not test what was asked`);
  }
  return lines;
}

/** The buckets of the interval series a fault's window covers: its impact's (hit through the first
 * success after it), else hit through heal. */
function windowBuckets(f: FaultRecordResult, periodMs: number): [number, number] | null {
  const from = f.impact?.fromMs ?? f.hitMs;
  const to = f.impact?.toMs ?? f.healedMs ?? f.inEffectMs ?? f.hitMs;
  if (from === null || to === null) return null;
  return [Math.floor(from / periodMs), Math.max(Math.floor(from / periodMs), Math.ceil(to / periodMs) - 1)];
}

/**
 * The run's counts without the answers that ended in the faults' windows (by the 100 ms series:
 * successes, sold-outs and errors per bucket; the series counts refusals with errors, so those are taken
 * from errors first, then from refusals). null when no fault took effect.
 */
export function countsOutsideFaults(counts: Counts, series: IntervalSeries, faults: readonly FaultRecordResult[]): { counts: Counts; excluded: number } | null {
  const inside = new Set<number>();
  for (const f of faults) {
    const w = windowBuckets(f, series.periodMs);
    if (w) for (let b = w[0]; b <= w[1] && b < series.completed.length; b++) inside.add(b);
  }
  if (inside.size === 0) return null;
  let successes = 0;
  let soldOuts = 0;
  let errors = 0;
  for (const b of inside) {
    successes += series.successes[b] ?? 0;
    soldOuts += series.soldOuts[b] ?? 0;
    errors += series.errors[b] ?? 0;
  }
  const c = counts.byOutcome;
  const error = Math.max(0, c.error - errors);
  const rejected = Math.max(0, c.rejected - Math.max(0, errors - c.error));
  const byOutcome = { success: Math.max(0, c.success - successes), sold_out: Math.max(0, c.sold_out - soldOuts), rejected, error };
  return { counts: { ...counts, byOutcome }, excluded: successes + soldOuts + errors };
}
