// What one load worker counts as it goes, and the LoadResult it hands back at the end: requests by
// step × outcome (kept flat on the hot path and named in the result), why requests failed, buyers by
// how their journey ended, the orders acknowledged, and the progress counters the main thread reads.
// Latency is not here: the recorder (src/measure/recorder.ts) times requests; this counts them.
import type { AckedOrder, Counts, LoadResult } from '../contract/result.ts';
import { ERROR, OUTCOMES, REJECTED, SOLD_OUT, STEPS, SUCCESS, type StopReason } from '../contract/vocabulary.ts';
import { emptyCounts } from '../measure/merge.ts';
import type { LoadRecorder } from '../measure/recorder.ts';
import { judgeGenerator } from '../measure/self-watch.ts';
import { encodeHistogram } from '../common/histogram.ts';
import { P_COMPLETED, P_ERRORS, P_SENT, P_SOLD_OUTS, P_SUCCESSES, P_UNITS } from './shared.ts';

/** How a journey ended, as counted in counts.buyers. */
export type JourneyEnd = keyof Counts['buyers'];

export class Tally {
  readonly counts: Counts = emptyCounts();
  readonly orders: AckedOrder[] = [];
  firstSendMs: number | null = null;
  lastAckMs: number | null = null;
  /** [step × outcome] counts, flat. */
  readonly #stepOutcomes = new Array<number>(STEPS.length * OUTCOMES.length).fill(0);
  /** This worker's slots of the shared progress array (null: nobody reads progress). */
  readonly #progress: Float64Array | null;

  constructor(progress: Float64Array | null = null) {
    this.#progress = progress;
  }

  /** A request went out at `now` (ms from t0). */
  sent(now: number): void {
    this.counts.requestsSent++;
    if (this.firstSendMs === null) this.firstSendMs = now;
  }

  /** One answer (or failure) of `step` with `outcome` (indexes in STEPS and OUTCOMES). */
  outcome(step: number, outcome: number): void {
    this.counts.byOutcome[OUTCOMES[outcome]]++;
    this.#stepOutcomes[step * OUTCOMES.length + outcome]++;
  }

  /** Why a request failed or was refused: 'http_503', 'timeout', 'ECONNRESET', ... */
  kind(kind: string): void {
    const e = this.counts.errorsByKind;
    e[kind] = (e[kind] ?? 0) + 1;
  }

  /** An order acknowledged at `now`: its units count as sold to the buyer. */
  acknowledged(order: AckedOrder, now: number): void {
    this.orders.push(order);
    this.counts.unitsAcknowledged += order.qty;
    this.lastAckMs = now;
  }

  /** Writes the counters the main thread's progress line reads. */
  flushProgress(): void {
    const p = this.#progress;
    if (p === null) return;
    const c = this.counts;
    p[P_SENT] = c.requestsSent;
    p[P_COMPLETED] = c.byOutcome.success + c.byOutcome.sold_out + c.byOutcome.rejected + c.byOutcome.error;
    p[P_SUCCESSES] = c.buyers.succeeded;
    p[P_UNITS] = c.unitsAcknowledged;
    p[P_ERRORS] = c.byOutcome.rejected + c.byOutcome.error;
    p[P_SOLD_OUTS] = c.byOutcome.sold_out;
  }

  /** counts.byStep, with only the steps that saw a request. */
  byStep(): Counts['byStep'] {
    const out: Counts['byStep'] = {};
    STEPS.forEach((step, s) => {
      const row = this.#stepOutcomes.slice(s * OUTCOMES.length, (s + 1) * OUTCOMES.length);
      if (row.some((n) => n > 0)) out[step] = { success: row[SUCCESS], sold_out: row[SOLD_OUT], rejected: row[REJECTED], error: row[ERROR] };
    });
    return out;
  }

  /** The worker's LoadResult: these counts, the recorder's histograms and series, the generator's
   * own health (judged at the default scale; the run's judge judges again at the scenario's scale,
   * which a worker does not know). */
  result(run: { t0EpochMs: number; endMs: number; stopReason: StopReason; recorder: LoadRecorder; eventLoopDelayMs: LoadResult['generator']['eventLoopDelayMs'] }): LoadResult {
    const { recorder, eventLoopDelayMs } = run;
    const verdict = judgeGenerator({ lateness: recorder.lateness, eventLoopDelayMs });
    return {
      t0EpochMs: run.t0EpochMs,
      durationMs: run.endMs,
      firstSendMs: this.firstSendMs,
      lastAckMs: this.lastAckMs,
      stopReason: run.stopReason,
      counts: { ...this.counts, byStep: this.byStep() },
      latency: recorder.latency(),
      intervals: recorder.intervals.finish(run.endMs),
      generator: {
        lateness: encodeHistogram(recorder.lateness),
        connectionWait: encodeHistogram(recorder.connectionWait),
        eventLoopDelayMs,
        ...verdict,
      },
      orders: this.orders,
    };
  }
}
