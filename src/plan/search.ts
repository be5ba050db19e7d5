// The rate search: the highest arrival rate a target sustains, found the way Nighthawk's adaptive
// controller does it — grow geometrically until a step fails, then bisect between the last rate that
// passed and the first that failed until they are within the precision asked for.
//
// Pure: it only sees a probe (measure one step at a rate → its verdict) and a clock, so tests drive
// it with a simulated target on a virtual clock. A step the generator could not deliver is
// inconclusive, never held against the target: it is measured again once, and if it stays
// inconclusive the search looks below it (between the last rate that passed and it) and, when nothing
// is left to look at within the precision, stops and says the answer is a lower bound set by the
// generator.

export type StepVerdict = 'pass' | 'fail' | 'inconclusive';
export type Phase = 'grow' | 'shrink' | 'bisect';

/** What the search needs to know about a measured step. */
export interface StepOutcome {
  offeredRate: number;
  verdict: StepVerdict;
  /** Requests the step sent (warm-up included): counted against the request cap. */
  requests: number;
  /** The step was cut by the request budget it was given: its figures are partial. */
  cutByRequestCap?: boolean;
  /** The user stopped it (Ctrl-C): the search ends with what it has. */
  interrupted?: boolean;
}

export interface StepContext {
  /** 0-based, in the order steps are measured. */
  index: number;
  phase: Phase;
  /** Requests this step may send at most (what is left of the search's cap). */
  requestBudget: number;
  /** A measurement again at a rate whose first step was inconclusive. */
  retry: boolean;
}

export interface RateProbe<S extends StepOutcome> {
  measure(rate: number, context: StepContext): Promise<S>;
  /** What a step at `rate` is expected to cost, to decide before starting it whether it fits the caps. */
  estimate(rate: number): { ms: number; requests: number };
}

export interface SearchClock {
  /** Milliseconds, any origin. */
  now(): number;
}

export interface SearchOptions {
  /** First rate tried, arrivals/s. */
  startRate: number;
  /** Factor between rates while growing (and shrinking when the first step fails). */
  growth: number;
  /** Stop bisecting once high ≤ low × (1 + precision): the rate found is within +precision of the real limit. */
  precision: number;
  /** Never offer more than this; if it passes, the answer is "at least maxRate". */
  maxRate: number;
  /** Never go below this while shrinking after a failed first step. */
  minRate: number;
  /** Total time the search may take (clock ms). */
  maxTimeMs: number;
  /** Total requests the search may send. */
  maxRequests: number;
  /** Times an inconclusive step is measured again before the search stops on it. */
  inconclusiveRetries: number;
}

export const SEARCH_DEFAULTS: Omit<SearchOptions, 'maxTimeMs' | 'maxRequests'> = {
  startRate: 100,
  growth: 2,
  precision: 0.05,
  maxRate: 1_000_000,
  minRate: 1,
  inconclusiveRetries: 1,
};

export type StopReason =
  /** low and high are within the precision: the answer is low, the limit is in [low, high). */
  | 'precision'
  /** A step stayed inconclusive: the generator could not deliver the rate. */
  | 'generator'
  | 'max-time'
  | 'max-requests'
  /** Stopped by the user. */
  | 'interrupted'
  /** maxRate passed. */
  | 'max-rate'
  /** Nothing passed down to minRate. */
  | 'min-rate';

export interface SearchResult<S extends StepOutcome> {
  /** The highest rate that passed (arrivals/s), null if none did. */
  sustainableRate: number | null;
  /** The lowest rate that failed (the target's limit is below it), null if none did. */
  failedRate: number | null;
  /** True when sustainableRate is a lower bound only (the search did not bracket the limit to the precision). */
  atLeast: boolean;
  stoppedBy: StopReason;
  /** The lowest rate the generator could not deliver (a step inconclusive after its retries), if any. */
  generatorLimit: number | null;
  steps: S[];
}

export function checkSearchOptions(o: SearchOptions): string[] {
  const issues: string[] = [];
  const positive = (name: string, v: number) => {
    if (!(Number.isFinite(v) && v > 0)) issues.push(`${name} must be a number above 0 (got ${v})`);
  };
  positive('startRate', o.startRate);
  positive('maxRate', o.maxRate);
  positive('minRate', o.minRate);
  positive('maxTimeMs', o.maxTimeMs);
  positive('maxRequests', o.maxRequests);
  if (!(o.growth > 1 && Number.isFinite(o.growth))) issues.push(`growth must be above 1 (got ${o.growth})`);
  if (!(o.precision > 0 && o.precision < 1)) issues.push(`precision must be between 0 and 1, exclusive (got ${o.precision})`);
  if (o.startRate > o.maxRate) issues.push(`startRate ${o.startRate} is above maxRate ${o.maxRate}`);
  if (o.minRate > o.startRate) issues.push(`minRate ${o.minRate} is above startRate ${o.startRate}`);
  if (!(Number.isInteger(o.inconclusiveRetries) && o.inconclusiveRetries >= 0)) issues.push(`inconclusiveRetries must be a whole number ≥ 0 (got ${o.inconclusiveRetries})`);
  return issues;
}

/** A rate people can read (3 significant digits) unless rounding would leave the open interval (low, high). */
export function niceRate(rate: number, low: number, high: number): number {
  const digits = Math.max(0, 2 - Math.floor(Math.log10(rate)));
  const rounded = Number(rate.toFixed(Math.min(digits, 6)));
  const r3 = Number(rounded.toPrecision(3));
  if (r3 > low && r3 < high) return r3;
  return rounded > low && rounded < high ? rounded : rate;
}

export async function searchRate<S extends StepOutcome>(probe: RateProbe<S>, options: SearchOptions, clock: SearchClock): Promise<SearchResult<S>> {
  const issues = checkSearchOptions(options);
  if (issues.length) throw new RangeError(`invalid search options: ${issues.join('; ')}`);
  const started = clock.now();
  const steps: S[] = [];
  let requestsUsed = 0;
  let low: number | null = null; // highest rate that passed
  let high: number | null = null; // lowest rate that failed
  let ceiling: number | null = null; // lowest rate the generator could not deliver
  let phase: Phase = 'grow';
  let rate = options.startRate;

  const finish = (stoppedBy: StopReason): SearchResult<S> => ({
    sustainableRate: low,
    failedRate: high,
    atLeast: stoppedBy !== 'precision' && stoppedBy !== 'min-rate',
    stoppedBy,
    generatorLimit: ceiling,
    steps,
  });

  for (;;) {
    // One rate: measured, and measured again while inconclusive (the generator may have been starved
    // for a moment by something else on the machine).
    let outcome: S | null = null;
    for (let attempt = 0; attempt <= options.inconclusiveRetries; attempt++) {
      const cost = probe.estimate(rate);
      if (clock.now() - started + cost.ms > options.maxTimeMs) return finish('max-time');
      const budget = options.maxRequests - requestsUsed;
      if (cost.requests > budget) return finish('max-requests');
      outcome = await probe.measure(rate, { index: steps.length, phase, requestBudget: budget, retry: attempt > 0 });
      steps.push(outcome);
      requestsUsed += outcome.requests;
      if (outcome.interrupted) return finish('interrupted');
      if (outcome.cutByRequestCap) return finish('max-requests');
      if (outcome.verdict !== 'inconclusive') break;
    }
    if (outcome!.verdict === 'pass') low = rate; // the loop above measures at least once
    else if (outcome!.verdict === 'fail') high = rate; // the loop above measures at least once
    else ceiling = Math.min(ceiling ?? Infinity, rate); // says nothing about the target: only where to look

    if (low !== null && high !== null && high <= low * (1 + options.precision)) return finish('precision');
    // The next rate worth trying is below the lowest that failed and the lowest the generator could not deliver.
    const upper = Math.min(high ?? Infinity, ceiling ?? Infinity);
    if (low !== null && upper === Infinity) {
      // Still passing: grow, up to the ceiling.
      if (low >= options.maxRate) return finish('max-rate');
      phase = 'grow';
      rate = Math.min(options.maxRate, low * options.growth);
    } else if (low !== null) {
      // Only the generator's limit is left above low and it is within the precision: nothing more to learn.
      if (upper <= low * (1 + options.precision)) return finish('generator');
      phase = 'bisect';
      // Geometric midpoint: the precision is relative, so halve the ratio, not the difference.
      rate = niceRate(Math.sqrt(low * upper), low, upper);
    } else {
      // Nothing passed yet: come down until something does.
      const next = upper / options.growth;
      phase = 'shrink';
      if (next >= options.minRate) rate = next;
      else if (upper > options.minRate) rate = options.minRate;
      else return finish(high !== null && high <= (ceiling ?? Infinity) ? 'min-rate' : 'generator');
    }
  }
}
