// One load worker's run: take this worker's share of the schedule, start each buyer at its intended
// time whatever happened to earlier ones (open model), walk each journey through its steps, retries
// and think times, and hand back what was measured. The engine is the journeys' state machine and
// the pump that drives them; its parts each hold one concern:
//   timeline.ts  when each buyer is due (arrivals, and journeys waiting out a think time or backoff)
//   sender.ts    how a request goes out (templates, connections, timeouts)
//   control.ts   the words shared with the other workers (start, stop, request tickets)
//   tally.ts     what is counted, and the LoadResult at the end (latency: src/measure/recorder.ts)
//   journey.ts / journey-policy.ts  one buyer's journey, and what it does after each answer
// Bounded three ways: the schedule ends, caps.maxRequests (a global ticket shared by all workers), and
// caps.maxDurationMs (a hard deadline); plus the shared stop flag (Ctrl-C, sell-out).
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { LoadPlan } from '../contract/load-plan.ts';
import type { Counts, LoadResult } from '../contract/result.ts';
import { CHECKOUT, ERROR, PAY, REJECTED, RESERVE, STOP_REASONS, SUCCESS, type StopReason } from '../contract/vocabulary.ts';
import { LoadRecorder } from '../measure/recorder.ts';
import { deriveSeed } from '../common/random.ts';
import { Buyers } from './buyers.ts';
import { errorKind, parseJson } from './answers.ts';
import { readPath } from './classify.ts';
import { RunControl } from './control.ts';
import { Journey, type JourneyHost } from './journey.ts';
import { afterAnswer, journeyKey, thinkMs } from './journey-policy.ts';
import { SellOutWatch } from './sell-out.ts';
import { Sender } from './sender.ts';
import { PROGRESS_FIELDS, STOP_CODES, STOP_INTERRUPTED, STOP_MAX_DURATION, STOP_MAX_REQUESTS, STOP_NONE, STOP_SOLD_OUT, type SharedState } from './shared.ts';
import { Tally, type JourneyEnd } from './tally.ts';
import { LIVE_FIELDS } from '../measure/live.ts';
import { Timeline } from './timeline.ts';
import { warmUp } from './warmup.ts';

export interface WorkerTask {
  plan: LoadPlan;
  worker: number;
  workers: number;
  shared: SharedState;
}

/** Items handled per pump turn before yielding to I/O, so answers are read while a burst is sent. */
const BATCH = 256;
const PROGRESS_EVERY_MS = 100;
const LOOP_RESOLUTION_MS = 10;
/** The warm-up never holds the start longer than this (the main thread waits 30 s for every worker). */
const WARMUP_MAX_MS = 5_000;

/** The stop reason a STOP_* code stands for. */
function reasonOf(code: number): StopReason {
  const reason = STOP_CODES[code];
  // STOP_CODES names the STOP_* codes with words of STOP_REASONS, 'none' aside (never passed here).
  return STOP_REASONS.includes(reason as StopReason) ? (reason as StopReason) : 'completed';
}

export class LoadEngine implements JourneyHost {
  readonly #plan: LoadPlan;
  readonly #control: RunControl;
  /** Only with stopOnSellOut. */
  readonly #sellOut: SellOutWatch | null;
  readonly #recorder = new LoadRecorder();
  readonly #tally: Tally;
  /** The tally's counts, held here too: the hot path counts without a second hop. */
  readonly #counts: Counts;
  readonly #buyers: Buyers;
  readonly #firstStep: number;
  readonly #timeline: Timeline<Journey>;
  readonly #sender: Sender;
  readonly #pool: Journey[] = [];
  readonly #loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  readonly #keyPrefix: string;

  #t0EpochMs = 0;
  #t0Local = 0;
  #active = 0;
  #stopReason: StopReason = 'completed';
  /** The shared stop flag has been acted on. */
  #stopSeen = false;
  /** When the run stopped starting buyers early (a stop or a cap); buyers due later are not "dropped". */
  #stoppedAtMs = Infinity;
  #finished = false;
  #wakeAt = Infinity;
  #timer: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  #progressTimer: NodeJS.Timeout | null = null;
  readonly #liveView: Float64Array;
  #timeoutTimer: NodeJS.Timeout | null = null;
  #resolve: (r: LoadResult) => void = () => undefined;

  constructor(task: WorkerTask) {
    const { plan } = task;
    this.#plan = plan;
    this.#control = new RunControl(task.shared);
    this.#sellOut = plan.stopOnSellOut ? new SellOutWatch(this.#control.words, plan.skus.ids.length) : null;
    this.#tally = new Tally(new Float64Array(task.shared.progress, 8 * PROGRESS_FIELDS.length * task.worker, PROGRESS_FIELDS.length));
    this.#counts = this.#tally.counts;
    this.#liveView = new Float64Array(task.shared.live, 8 * LIVE_FIELDS * task.worker, LIVE_FIELDS);
    this.#buyers = new Buyers(plan);
    this.#firstStep = plan.journey.type === 'reserve-pay' ? RESERVE : CHECKOUT;
    this.#timeline = new Timeline<Journey>(plan.arrival, plan.seed, task.worker, task.workers, plan.segment);
    this.#sender = new Sender(plan, this.#recorder, this.#tally, this.#sellOut, () => (this.#t0EpochMs === 0 ? 0 : this.now()));
    this.#keyPrefix = `fs-${(plan.seed >>> 0).toString(36)}-`;
  }

  /** The counters and the live bins the main thread's progress line and dashboard read. */
  #flushProgress(): void {
    this.#tally.flushProgress();
    this.#recorder.live.flushTo(this.#liveView);
  }

  now(): number {
    return performance.now() - this.#t0Local;
  }

  /** Signals readiness, waits for the main thread's t0, runs to the end, returns what was measured. */
  async run(): Promise<LoadResult> {
    // Connections open and the hot path run before t0 (load.warmup), so connecting is not lateness.
    const warmup = this.#plan.warmup;
    if (warmup) await warmUp(this.#sender.conns.clients, warmup.path, Math.min(this.#plan.journey.timeoutMs, WARMUP_MAX_MS));
    this.#t0EpochMs = await this.#control.ready();
    this.#t0Local = this.#t0EpochMs - performance.timeOrigin;
    this.#timeline.start();
    const done = new Promise<LoadResult>((resolve) => (this.#resolve = resolve));
    this.#progressTimer = setInterval(() => this.#flushProgress(), PROGRESS_EVERY_MS);
    // Sweep for overdue requests often enough to time out within ~10 % of timeoutMs.
    const sweepMs = Math.max(5, Math.min(100, this.#plan.journey.timeoutMs / 10));
    this.#timeoutTimer = setInterval(() => this.#sender.sweepTimeouts(this.now()), sweepMs);
    this.#loop.enable();
    // A stop (Ctrl-C, another worker's cap or sell-out) must be seen at once, not at the next due time.
    this.#control.watchStop(
      () => this.#finished,
      () => this.#wake(this.now()),
    );
    this.#wake(this.#timeline.nextArrivalMs);
    return done;
  }

  // Scheduling -----------------------------------------------------------------------------------

  /** Makes sure the pump runs at (or just before) atMs. */
  #wake(atMs: number): void {
    if (this.#finished || atMs >= this.#wakeAt) return;
    this.#cancelWake();
    this.#wakeAt = atMs;
    const delay = atMs - this.now();
    // Timers fire late by up to ~1 ms; wake a little early and finish the wait with setImmediate.
    if (delay <= 1.5) this.#immediate = setImmediate(this.#pump);
    else this.#timer = setTimeout(this.#pump, Math.min(delay - 1, 2 ** 31 - 1));
  }

  #cancelWake(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = null;
    this.#immediate = null;
    this.#wakeAt = Infinity;
  }

  readonly #pump = (): void => {
    this.#timer = null;
    this.#immediate = null;
    this.#wakeAt = Infinity;
    if (this.#finished) return;
    let now = this.now();
    this.#checkStops(now);
    if (this.#finished) return;
    const timeline = this.#timeline;
    let budget = BATCH;
    while (budget > 0) {
      const arrivalMs = timeline.accepting ? timeline.nextArrivalMs : Infinity;
      const laterMs = timeline.laterMs();
      if (arrivalMs <= laterMs) {
        if (arrivalMs > now) break;
        const index = timeline.arrivalIndex();
        this.#send(this.#startBuyer(index, timeline.closed ? index : -1, 0, arrivalMs), now);
        timeline.advance();
        if (timeline.nextArrivalMs === Infinity && !timeline.closed) timeline.scheduleDone(now, this.#plan.caps.gracefulStopMs);
      } else {
        if (laterMs > now) break;
        this.#send(timeline.takeLater(), now);
      }
      budget--;
      if ((budget & 15) === 0) now = this.now();
      if (this.#finished) return;
    }
    this.#maybeFinish(now);
    if (this.#finished) return;
    if (budget === 0) {
      this.#immediate = setImmediate(this.#pump);
      this.#wakeAt = now;
      return;
    }
    const scheduleEnd = timeline.closed && timeline.accepting ? timeline.scheduleEndMs : Infinity;
    const next = Math.min(timeline.accepting ? timeline.nextArrivalMs : Infinity, timeline.laterMs(), timeline.drainUntilMs, scheduleEnd, this.#plan.caps.maxDurationMs);
    this.#wake(next);
  };

  #checkStops(now: number): void {
    const timeline = this.#timeline;
    if (now >= this.#plan.caps.maxDurationMs) {
      this.#control.stop(STOP_MAX_DURATION);
      this.#stopReason = 'max_duration';
      this.#close(now);
      return;
    }
    if (timeline.closed && timeline.accepting && now >= timeline.scheduleEndMs) timeline.scheduleDone(now, this.#plan.caps.gracefulStopMs);
    const code = this.#control.stopCode();
    if (code !== STOP_NONE && !this.#stopSeen) {
      this.#stopSeen = true;
      this.#stoppedAtMs = Math.min(this.#stoppedAtMs, now);
      this.#stopReason = reasonOf(code);
      timeline.stopAt(now, this.#plan.caps.gracefulStopMs);
      // Interrupted or out of requests: no new journey starts; in-flight requests finish.
      if (code === STOP_INTERRUPTED || code === STOP_MAX_REQUESTS) this.#abandonWaiting(code);
    }
    if (code === STOP_MAX_DURATION) {
      this.#stopReason = 'max_duration';
      this.#close(now);
      return;
    }
    if (now >= timeline.drainUntilMs) this.#close(now);
  }

  #maybeFinish(now: number): void {
    if (!this.#timeline.accepting && this.#active === 0) this.#close(now);
  }

  // Journeys --------------------------------------------------------------------------------------

  /** Sets up buyer number `buyer`; the caller sends it or puts it on the timeline. */
  #startBuyer(buyer: number, vu: number, iteration: number, dueMs: number): Journey {
    const j = this.#pool.pop() ?? new Journey(this);
    const { journey } = this.#plan;
    j.buyer = buyer;
    j.vu = vu;
    j.iteration = iteration;
    j.seed(deriveSeed(this.#plan.seed, buyer, 0xa11ce));
    j.bot = journey.bots.share > 0 && j.random() < journey.bots.share;
    j.account = 0;
    j.userId = this.#buyers.userId(buyer, 0);
    j.skuIndex = this.#buyers.skuIndex(j.random());
    j.sku = this.#buyers.sku(j.skuIndex);
    j.qty = journey.qty;
    j.journeyKey = journeyKey(this.#keyPrefix, buyer, 0);
    j.reservationId = '';
    j.step = this.#firstStep;
    j.refreshKey();
    j.attempt = 0;
    j.retrying = false;
    j.requests = 0;
    j.dueMs = dueMs;
    this.#counts.buyers.started++;
    this.#active++;
    return j;
  }

  #send(j: Journey, now: number): void {
    if (!this.#takeTicket()) {
      this.#endJourney(j, j.requests === 0 ? 'dropped' : 'gaveUp');
      return;
    }
    this.#sender.send(j, now);
  }

  #takeTicket(): boolean {
    if (this.#control.takeTicket(this.#plan.caps.maxRequests)) return true;
    this.#control.stop(STOP_MAX_REQUESTS);
    // Said here, not only when the pump next looks at the flag: the last answers can end the run first.
    this.#stopReason = reasonOf(this.#control.stopCode());
    this.#timeline.accepting = false; // no new buyer could send either (and a closed-model user must not loop)
    const now = this.now();
    this.#stoppedAtMs = Math.min(this.#stoppedAtMs, now);
    this.#wake(now);
    return false;
  }

  answered(j: Journey): void {
    if (this.#finished) return;
    const now = this.now();
    this.#sender.free(j.conn, now, this.#finished);
    this.#counts.requestsAnswered++;
    const classifier = this.#sender.classifier(j.step);
    // Parse only what is read: with status-only matchers, a sold-out or refused answer's body is never
    // looked at (late in a sale that is most answers); a success's is, for its id.
    let json: unknown;
    let outcome: number;
    if (classifier.matchersNeedBody) {
      json = parseJson(j.body());
      outcome = classifier.classify(j.statusCode, json);
    } else {
      outcome = classifier.classify(j.statusCode, undefined);
      if (outcome === SUCCESS && classifier.captureId) json = parseJson(j.body());
    }
    if (j.chunks.length !== 0) j.chunks.length = 0;
    if (outcome === REJECTED || outcome === ERROR) {
      this.#tally.kind(`http_${j.statusCode}`);
      this.#recorder.intervals.errorKind(now, `http_${j.statusCode}`);
    }
    let units = 0;
    let orderId = '';
    if (outcome === SUCCESS) {
      const captured = classifier.captureId ? readPath(json, classifier.captureId) : undefined;
      const id = captured === undefined || captured === null ? '' : String(captured);
      if (j.step === RESERVE) j.reservationId = id;
      else {
        units = j.qty;
        orderId = id;
      }
    }
    this.#tally.outcome(j.step, outcome);
    this.#recorder.recordAnswer(j.step, outcome, Math.round((now - j.dueMs) * 1000), Math.round((now - j.sentMs) * 1000), now, units, j.statusCode, j.sku, j.skuIndex);
    j.conn = -1;
    if (units > 0) this.#tally.acknowledged({ orderId, userId: j.userId, sku: j.sku, qty: j.qty, idempotencyKey: j.idempotencyKey }, now);
    this.#next(j, outcome, now);
    this.#maybeFinish(now);
  }

  /** No HTTP answer (refused, reset, not HTTP, timed out): counted as an error of its kind, but no
   * latency is recorded. There is no answer to time, and the time it took to fail (a refused connect
   * takes microseconds) must not pull latency percentiles, or thresholds on them, down or up. */
  failed(j: Journey, err: Error): void {
    if (this.#finished) return;
    const now = this.now();
    if (j.conn >= 0) this.#sender.free(j.conn, now, this.#finished);
    const kind = errorKind(err);
    this.#tally.kind(kind);
    this.#recorder.intervals.errorKind(now, kind);
    this.#tally.outcome(j.step, ERROR);
    this.#recorder.recordFailure(now);
    j.conn = -1;
    this.#next(j, ERROR, now);
    this.#maybeFinish(now);
  }

  /** What the buyer does after an answer: next step, retry, another account, or the end. */
  #next(j: Journey, outcome: number, now: number): void {
    const next = afterAnswer(j, outcome, now, this.#plan.journey, this.#buyers, this.#keyPrefix);
    if (next === 'later') return this.#later(j, j.dueMs, now);
    if (next === 'soldOut' && j.step !== PAY && this.#sellOut?.soldOutAnswer(j.skuIndex, j.returnsAtSend)) this.#stopSoldOut();
    this.#endJourney(j, next, now);
  }

  #later(j: Journey, dueMs: number, now: number): void {
    const code = this.#control.stopCode();
    if (code === STOP_INTERRUPTED || code === STOP_MAX_REQUESTS || dueMs >= this.#timeline.drainUntilMs) {
      return this.#endJourney(j, 'gaveUp', now);
    }
    j.dueMs = dueMs;
    this.#timeline.later(j);
    this.#wake(dueMs);
  }

  /** `now`: the caller's current time when it has one (saves a clock read per request). */
  #endJourney(j: Journey, how: JourneyEnd, now?: number): void {
    this.#counts.buyers[how]++;
    if (j.holding) {
      j.holding = false;
      // Refused at the reserve step: nothing was held. Paid: nothing comes back. Anything else may have
      // left a hold that is declined, expires or is abandoned: its units come back.
      const nothingReturns = how === 'succeeded' || (j.step === RESERVE && (how === 'soldOut' || how === 'rejected'));
      // Only a reservation with stopOnSellOut is ever holding, so the watch is there.
      if (this.#sellOut!.holdEnded(j.skuIndex, !nothingReturns)) this.#stopSoldOut();
    }
    // Dropped means no request of it ever went out: it was never a started buyer either.
    if (how === 'dropped') this.#counts.buyers.started--;
    this.#active--;
    // Closed model: the same virtual user starts its next journey after a think time.
    const timeline = this.#timeline;
    if (j.vu >= 0 && timeline.accepting) {
      now ??= this.now();
      const next = now + thinkMs(j, this.#plan.journey);
      if (next < timeline.scheduleEndMs) {
        const vus = timeline.users;
        const iteration = j.iteration + 1;
        this.#pool.push(j);
        const started = this.#startBuyer(j.vu + iteration * vus, j.vu, iteration, next);
        // No think time: send now, from the answer's callback, as a closed-loop client does.
        if (next <= now && !this.#finished) this.#send(started, now);
        else {
          timeline.later(started);
          this.#wake(next);
        }
        return;
      }
    }
    this.#pool.push(j);
  }

  #stopSoldOut(): void {
    this.#control.stop(STOP_SOLD_OUT);
    this.#wake(this.now());
  }

  /** Journeys not yet due are dropped. Requests queued for a connection already hold a ticket: out of
   * requests, they still go (maxRequests is exact); interrupted, they do not. */
  #abandonWaiting(code: number): void {
    this.#timeline.drainLater((j) => this.#endJourney(j, j.requests === 0 ? 'dropped' : 'gaveUp'));
    if (code === STOP_INTERRUPTED) this.#sender.conns.drainWaiting((j) => this.#endJourney(j, j.requests <= 1 ? 'dropped' : 'gaveUp'));
  }

  // The end ---------------------------------------------------------------------------------------

  #close(now: number): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#cancelWake();
    if (this.#progressTimer) clearInterval(this.#progressTimer);
    if (this.#timeoutTimer) clearInterval(this.#timeoutTimer);
    this.#loop.disable();
    const timeline = this.#timeline;
    timeline.accepting = false;
    // Whatever had not finished is counted, not measured: journeys waiting, queued or in flight.
    timeline.drainLater((j) => this.#endJourney(j, j.requests === 0 ? 'dropped' : 'gaveUp'));
    this.#sender.conns.drainWaiting((j) => this.#endJourney(j, j.requests <= 1 ? 'dropped' : 'gaveUp'));
    // In flight when the run was cut: their answers will never be read. Counted apart (cutByStop), not
    // as errors and not in any latency: the stop, not the target, ended them.
    this.#counts.cutByStop += this.#sender.inFlightCount();
    this.#counts.buyers.gaveUp += this.#active; // in flight: cut by the stop
    this.#active = 0;
    // Buyers whose time had come but who were never started (a cap or a stop) are k6's dropped iterations.
    if (!timeline.closed) this.#counts.buyers.dropped += timeline.skipDueBy(Math.min(now, this.#stoppedAtMs));
    this.#flushProgress();
    this.#control.wakeWatchers(); // release our own stop watcher (and wake the others)
    void this.#sender.conns.close().then(() => this.#resolve(this.#result(now)));
  }

  #result(endMs: number): LoadResult {
    // The monitor measures the whole gap between its timer ticks; only what exceeds the tick is delay.
    const ns = (v: number) => (Number.isFinite(v) ? Math.max(0, v / 1e6 - LOOP_RESOLUTION_MS) : 0);
    const eventLoopDelayMs = { p50: ns(this.#loop.percentile(50)), p99: ns(this.#loop.percentile(99)), max: ns(this.#loop.max) };
    return this.#tally.result({ t0EpochMs: this.#t0EpochMs, endMs, stopReason: this.#stopReason, recorder: this.#recorder, eventLoopDelayMs });
  }
}
