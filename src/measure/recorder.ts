// Everything one load worker measures, in fixed-size structures: per step × outcome histograms of
// corrected and uncorrected latency (integer µs), the interval series, and the generator's own
// lateness. Nothing here grows with the number of requests.
import type { EncodedLatency, StepLatency } from '../contract/result.ts';
import { ERROR, OUTCOMES, REJECTED, SOLD_OUT, STEPS, SUCCESS, type Outcome, type Step } from '../contract/vocabulary.ts';
import { createLatencyHistogram, encodeHistogram, type Histogram } from '../common/histogram.ts';
import { IntervalRecorder } from './intervals.ts';
import { LiveBins } from './live.ts';
import { StagedHistogram } from './staged-histogram.ts';


interface Pair {
  corrected: Histogram;
  uncorrected: Histogram;
}

interface StagedPair {
  corrected: StagedHistogram;
  uncorrected: StagedHistogram;
}

function stagedPair(): StagedPair {
  return { corrected: new StagedHistogram(), uncorrected: new StagedHistogram() };
}

function encodePair(p: Pair): EncodedLatency {
  return { corrected: encodeHistogram(p.corrected), uncorrected: encodeHistogram(p.uncorrected) };
}

export class LoadRecorder {
  readonly intervals: IntervalRecorder;
  /** Cumulative live bins the engine copies to the main thread with its progress (live.ts). */
  readonly live = new LiveBins();
  // Staged: five values per request are recorded, so the hot path must be cheap (staged-histogram.ts).
  readonly #lateness = new StagedHistogram();
  readonly #connectionWait = new StagedHistogram();
  /** [step][outcome]; created on first use. "All outcomes" is their sum, added up at the end
   * rather than recorded twice per request. */
  readonly #byStep: Array<Array<StagedPair | null>> = STEPS.map(() => [null, null, null, null]);

  constructor(periodMs?: number) {
    this.intervals = new IntervalRecorder(periodMs);
  }

  /** Send lateness so far (µs). */
  get lateness(): Histogram {
    return this.#lateness.histogram;
  }

  /** Connection wait so far (µs). */
  get connectionWait(): Histogram {
    return this.#connectionWait.histogram;
  }

  /** How late a request left versus its intended time (µs, ≥ 0); with the send time (ms from t0),
   * the interval series keeps the worst lateness of each bucket too. */
  recordLateness(us: number, atMsFromT0?: number): void {
    const v = us > 0 ? us : 0;
    this.#lateness.record(v);
    this.live.lateness(v);
    if (atMsFromT0 !== undefined) this.intervals.lateness(atMsFromT0, v);
  }

  /** How long a request waited for a free connection before it went out (µs, ≥ 0). */
  recordConnectionWait(us: number): void {
    this.#connectionWait.record(us > 0 ? us : 0);
  }

  /** One finished request. step/outcome are indexes (STEPS, OUTCOMES); times are integer µs. With
   * the HTTP status (and the SKU of units taken, by name and by its index in the plan), the interval
   * series and the live feed count those too. */
  recordAnswer(step: number, outcome: number, correctedUs: number, uncorrectedUs: number, atMsFromT0: number, unitsTaken: number, statusCode?: number, sku?: string, skuIndex?: number): void {
    const row = this.#byStep[step];
    const one = (row[outcome] ??= stagedPair());
    const c = correctedUs > 0 ? correctedUs : 0;
    const u = uncorrectedUs > 0 ? uncorrectedUs : 0;
    one.corrected.record(c);
    one.uncorrected.record(u);
    this.intervals.completed(atMsFromT0, outcome === SUCCESS ? 0 : outcome === SOLD_OUT ? 1 : outcome === REJECTED ? 3 : 2, c, unitsTaken);
    this.live.answer(outcome, c, statusCode);
    if (statusCode !== undefined) this.intervals.status(atMsFromT0, statusCode);
    if (unitsTaken > 0 && sku !== undefined) this.intervals.sold(atMsFromT0, sku, unitsTaken);
    if (unitsTaken > 0 && skuIndex !== undefined) this.live.sold(skuIndex, unitsTaken);
  }

  /** A TCP connection opened (up) or closed at atMsFromT0: the interval series and the live feed. */
  recordConnection(up: boolean, atMsFromT0: number): void {
    this.intervals.connection(atMsFromT0, up);
    this.live.connection(up);
  }

  /** A request that failed without an HTTP answer: counted in the interval series, timed nowhere. */
  recordFailure(atMsFromT0: number): void {
    this.intervals.failed(atMsFromT0);
    this.live.failure(ERROR);
  }

  latency(): Partial<Record<Step, StepLatency>> {
    const out: Partial<Record<Step, StepLatency>> = {};
    STEPS.forEach((step, s) => {
      const row = this.#byStep[s];
      if (row.every((p) => p === null)) return;
      const byOutcome: Partial<Record<Outcome, EncodedLatency>> = {};
      const all: Pair = { corrected: createLatencyHistogram(), uncorrected: createLatencyHistogram() };
      OUTCOMES.forEach((o, k) => {
        const staged = row[k];
        if (!staged) return;
        const p: Pair = { corrected: staged.corrected.histogram, uncorrected: staged.uncorrected.histogram };
        byOutcome[o] = encodePair(p);
        all.corrected.add(p.corrected);
        all.uncorrected.add(p.uncorrected);
      });
      out[step] = { all: encodePair(all), byOutcome };
    });
    return out;
  }
}
