// The observed value of a metric + aggregation in a run, or null when the run has no data for it.
import { decodeHistogram, mergeEncoded, percentileKey, percentilesMs } from '../common/histogram.ts';
import type { RunResult, Outcome, StepLatency } from '../contract/result.ts';
import { zeroPerOutcome, type Step } from '../contract/vocabulary.ts';
import type { Aggregation, MetricKey } from './parse.ts';
import { knownLostOrders } from '../audit/audit.ts';

/** The parts of a run a threshold can look at. */
export type ThresholdInputs = Pick<RunResult, 'latency' | 'counts' | 'durationMs' | 'stock' | 'audit'>;

function stepsOf(run: ThresholdInputs, step: string | undefined): Array<[Step, StepLatency]> {
  const all = Object.entries(run.latency) as Array<[Step, StepLatency | undefined]>; // Object.entries loses the key type; the keys are steps
  return all.filter((e): e is [Step, StepLatency] => e[1] !== undefined && (step === undefined || e[0] === step));
}

function trendValue(run: ThresholdInputs, key: MetricKey, agg: Aggregation): number | null {
  const variant = key.name === 'http_req_duration_uncorrected' ? 'uncorrected' : 'corrected';
  const outcome = key.tags.outcome as Outcome | undefined; // parseMetricKey checked the tag against OUTCOMES
  const encoded = stepsOf(run, key.tags.step).map(([, s]) => (outcome ? s.byOutcome[outcome]?.[variant] ?? '' : s.all[variant]));
  const h = decodeHistogram(mergeEncoded(encoded));
  if (h.totalCount === 0) return null;
  switch (agg.kind) {
    case 'avg':
      return h.mean / 1000;
    case 'min':
      return h.minNonZeroValue / 1000;
    case 'max':
      return h.maxValue / 1000;
    case 'med':
      return percentilesMs(h).p50;
    case 'percentile':
      return percentilesMs(h, [agg.p])[percentileKey(agg.p)];
    default:
      return null;
  }
}

/** Answers per outcome: from the run's counts, or for one step from that step's histograms. */
function outcomeCounts(run: ThresholdInputs, step: string | undefined): Record<Outcome, number> {
  if (step === undefined) return run.counts.byOutcome;
  const counted = run.counts.byStep?.[step as Step]; // parseMetricKey checked the tag against STEPS
  if (counted) return counted;
  const out: Record<Outcome, number> = zeroPerOutcome();
  if (run.counts.byStep) return out; // the step never ran
  // Results written before counts.byStep: count the step's histograms (answers only).
  for (const [, s] of stepsOf(run, step)) {
    for (const o of Object.keys(out) as Outcome[]) { // Object.keys loses the key type; the keys are outcomes
      const enc = s.byOutcome[o]?.corrected ?? '';
      out[o] += enc === '' ? 0 : decodeHistogram(enc).totalCount;
    }
  }
  return out;
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

export function observedValue(run: ThresholdInputs, key: MetricKey, agg: Aggregation): number | null {
  const seconds = run.durationMs / 1000;
  const perSecond = (n: number): number | null => (seconds > 0 ? n / seconds : null);
  const counter = (n: number | null): number | null => (n === null ? null : agg.kind === 'rate' ? perSecond(n) : n);
  switch (key.name) {
    case 'http_req_duration':
    case 'http_req_duration_uncorrected':
      return trendValue(run, key, agg);
    case 'http_req_failed': {
      const c = outcomeCounts(run, key.tags.step);
      return ratio(c.error, c.success + c.sold_out + c.rejected + c.error);
    }
    case 'http_req_rejected': {
      const c = outcomeCounts(run, key.tags.step);
      return ratio(c.rejected, c.success + c.sold_out + c.rejected + c.error);
    }
    case 'checks': {
      const c = outcomeCounts(run, key.tags.step);
      return ratio(c.success + c.sold_out, c.success + c.sold_out + c.rejected + c.error);
    }
    case 'http_reqs':
      return counter(run.counts.requestsSent);
    case 'orders':
      return counter(run.counts.buyers.succeeded);
    case 'dropped_iterations':
      return counter(run.counts.buyers.dropped);
    case 'oversold':
      return counter(run.audit ? Math.max(run.audit.oversold, run.stock.oversold) : run.stock.oversold);
    case 'lost_orders':
      // Unknown, not zero, when the ledger could not be read (unless the inventory alone shows some).
      return counter(knownLostOrders(run.audit));
    case 'sellout_ms':
      return run.stock.sellOutMs;
  }
}
