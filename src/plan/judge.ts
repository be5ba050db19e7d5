// One measured step → what the search needs (pass / fail / inconclusive) and what the table shows.
// The step is judged by flashsale's one judge (the same as `run`'s: the objectives, the default
// thresholds, the generator judged at the objectives' scale, thresholds it could have crossed by
// itself marked inconclusive). On top of that: a step a cap cut short is inconclusive, and a step
// that passed its thresholds must also keep up with the offered rate.
import {
  judge,
  decodeHistogram,
  describeThreshold,
  mergeEncoded,
  percentilesMs,
  type LoadResult,
  type Step,
  type StepLatency,
  type ThresholdResult,
  type ThresholdsSpec,
} from './adapter.ts';
import type { StepOutcome, StepVerdict } from './search.ts';

/** A step keeps up when it answers at least this share of the offered rate. */
export const KEEP_UP_SHARE = 0.95;

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  count: number;
}

export interface MeasuredStep extends StepOutcome {
  index: number;
  phase: string;
  retry: boolean;
  /** Concurrency level this step belongs to (service threads or instances), null for a plain plan. */
  level: number | null;
  offeredRate: number;
  /** Buyers that got an answer (a sale, sold out or a refusal) per second of the step; see docs/plan.md. */
  achievedRate: number;
  /** Requests answered per second (retries and both steps of reserve → pay count). */
  answeredPerSec: number;
  stepMs: number;
  /** Requests sent by the measured part (the warm-up's are in `requests`). */
  measuredRequests: number;
  errors: number;
  errorRate: number;
  /** All of the journey's steps together, ms. */
  latency: { corrected: Percentiles | null; uncorrected: Percentiles | null };
  generatorBound: boolean;
  generatorReason: string | null;
  thresholds: ThresholdResult[];
  reasons: string[];
  wallMs: number;
  startedAt: string;
  /** The step's histograms (µs, compressed base64), for `plan --what-if`. */
  histograms: Partial<Record<Step, StepLatency>>;
}

export interface JudgeInput {
  load: LoadResult;
  offeredRate: number;
  stepMs: number;
  /** Longest think time between the journey's steps (reserve → pay), ms. */
  thinkMaxMs: number;
  objectives: ThresholdsSpec;
}

function summary(encoded: string): Percentiles | null {
  if (encoded === '') return null;
  const p = percentilesMs(encoded);
  return p.count === 0 ? null : { p50: p.p50, p90: p.p90, p99: p.p99, p999: p.p999, max: p.max, mean: p.mean, count: p.count };
}

/**
 * Buyers answered per second. A target that keeps up answers each buyer one latency after it came, so
 * its answers span the schedule; one that falls behind answers at its own capacity for longer. So:
 * answered buyers / max(schedule length, time from the first to the last answer), the first answer
 * estimated as the first send plus the fastest journey (the fastest answer of each of its steps), the
 * last as the end of the run less the longest think time. See docs/plan.md.
 */
export function achievedRate(load: LoadResult, stepMs: number, thinkMaxMs: number, fastestJourneyMs: number): number {
  const b = load.counts.buyers;
  const answered = b.succeeded + b.soldOut + b.rejected;
  if (answered === 0 || load.firstSendMs === null) return 0;
  const answerSpan = load.durationMs - load.firstSendMs - fastestJourneyMs - thinkMaxMs;
  return (answered * 1000) / Math.max(stepMs, answerSpan);
}

export function judgeStep(input: JudgeInput): Omit<MeasuredStep, 'index' | 'phase' | 'retry' | 'level' | 'requests' | 'wallMs' | 'startedAt'> {
  const { load, offeredRate, stepMs } = input;
  const steps = Object.values(load.latency).filter((s): s is StepLatency => s !== undefined);
  const corrected = summary(mergeEncoded(steps.map((s) => s.all.corrected)));
  const uncorrectedAll = mergeEncoded(steps.map((s) => s.all.uncorrected));
  const uncorrected = summary(uncorrectedAll);
  const fastestJourneyMs = steps.reduce((sum, s) => (s.all.uncorrected === '' ? sum : sum + decodeHistogram(s.all.uncorrected).minNonZeroValue / 1000), 0);
  const achieved = achievedRate(load, stepMs, input.thinkMaxMs, fastestJourneyMs);
  const c = load.counts;
  const answers = c.byOutcome.success + c.byOutcome.sold_out + c.byOutcome.rejected + c.byOutcome.error;
  // No audit on a step (its stock cannot sell out and the target is not asked for its ledger).
  const judged = judge({ load, initialUnits: 0, audit: { merged: null, inventory: [], ledgerUnits: null }, thresholds: input.objectives });
  const { thresholds, generator } = judged;
  const reasons: string[] = [];
  let verdict: StepVerdict;
  let cutByRequestCap = false;
  const unsure = thresholds.filter((t) => t.status === 'inconclusive');
  if (generator.generatorBound || (judged.verdict.status === 'inconclusive' && unsure.length > 0)) {
    verdict = 'inconclusive';
    if (generator.generatorBound) reasons.push(`the generator could not keep the schedule: ${generator.reason ?? 'no reason given'}`);
    reasons.push(...unsure.map((t) => `${describeThreshold(t)}${t.note ? ` (${t.note})` : ''}`));
  } else if (load.stopReason === 'max_requests') {
    verdict = 'inconclusive';
    cutByRequestCap = true;
    reasons.push("the plan's request cap cut the step short");
  } else if (load.stopReason === 'interrupted') {
    verdict = 'inconclusive';
    reasons.push('interrupted');
  } else {
    reasons.push(...thresholds.filter((t) => t.status === 'crossed').map(describeThreshold));
    if (achieved < KEEP_UP_SHARE * offeredRate) {
      reasons.push(`did not keep up: answered ${achieved.toFixed(1)} buyers/s of ${offeredRate} offered (under ${KEEP_UP_SHARE * 100}%)`);
    }
    if (load.stopReason === 'max_duration') reasons.push("requests were still unanswered when the step's time ran out");
    verdict = reasons.length === 0 ? 'pass' : 'fail';
  }
  return {
    offeredRate,
    verdict,
    cutByRequestCap,
    achievedRate: achieved,
    answeredPerSec: load.durationMs > 0 ? (c.requestsAnswered * 1000) / Math.max(stepMs, load.durationMs - (load.firstSendMs ?? 0)) : 0,
    stepMs,
    measuredRequests: c.requestsSent,
    errors: c.byOutcome.error,
    errorRate: answers > 0 ? c.byOutcome.error / answers : 0,
    latency: { corrected, uncorrected },
    generatorBound: generator.generatorBound,
    generatorReason: generator.reason,
    thresholds,
    reasons,
    histograms: load.latency,
  };
}
