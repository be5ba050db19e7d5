// One load worker's run: take this worker's share of the schedule, start each buyer at its intended
// time whatever happened to earlier ones (open model), walk each journey through its steps, retries
// and think times, and record everything into fixed-size histograms and interval series.
// Bounded three ways: the schedule ends, caps.maxRequests (a global ticket shared by all workers), and
// caps.maxDurationMs (a hard deadline); plus the shared stop flag (Ctrl-C, sell-out).
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { encodeHistogram } from '../shared/histogram.ts';
import { emptyCounts } from '../measure/merge.ts';
import { LoadRecorder } from '../measure/recorder.ts';
import { judgeGenerator } from '../measure/self-watch.ts';
import type { AckedOrder, Counts, LoadResult } from '../contract/result.ts';
import { CHECKOUT, ERROR, OUTCOMES, PAY, REJECTED, RESERVE, SOLD_OUT, STEPS, SUCCESS } from '../contract/vocabulary.ts';
import { ArrivalShare, arrivalShape } from '../schedule/index.ts';
import { Buyers } from './buyers.ts';
import { compileClassifier, errorKind, parseJson, readPath, RequestTimeoutError, type Classifier } from './classify.ts';
import { Connections } from './connections.ts';
import { DueHeap } from './due-heap.ts';
import { Journey, type JourneyHost } from './journey.ts';
import { afterAnswer, journeyKey, thinkMs } from './journey-policy.ts';
import type { LoadPlan } from '../contract/load-plan.ts';
import { deriveSeed } from '../shared/random.ts';
import {
  GO,
  P_COMPLETED,
  P_ERRORS,
  P_SENT,
  P_SOLD_OUTS,
  P_SUCCESSES,
  P_UNITS,
  PROGRESS_FIELDS,
  READY,
  requestStop,
  STOP,
  STOP_CODES,
  STOP_INTERRUPTED,
  STOP_MAX_DURATION,
  STOP_MAX_REQUESTS,
  STOP_NONE,
  STOP_SOLD_OUT,
  TICKETS,
  type SharedState,
} from './shared.ts';
import { SellOutWatch } from './sell-out.ts';
import { compileTemplate, isPlain, type CompiledTemplate, type Placeholder } from './template.ts';
import { StartTimeoutError } from '../errors.ts';

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

export class LoadEngine implements JourneyHost {
  readonly #plan: LoadPlan;
  readonly #control: Int32Array;
  /** Only with stopOnSellOut. */
  readonly #sellOut: SellOutWatch | null;
  readonly #t0Shared: Float64Array;
  readonly #progress: Float64Array;
  readonly #recorder = new LoadRecorder();
  readonly #counts: Counts = emptyCounts();
  readonly #orders: AckedOrder[] = [];
  /** [step × outcome] counts, kept flat on the hot path and named in the result. */
  readonly #stepOutcomes = new Array<number>(STEPS.length * OUTCOMES.length).fill(0);
  readonly #buyers: Buyers;
  readonly #templates: Array<CompiledTemplate | null> = [null, null, null];
  readonly #classifiers: Array<Classifier | null> = [null, null, null];
  readonly #firstStep: number;
  readonly #closed: boolean;
  readonly #scheduleEndMs: number;
  readonly #arrivals: ArrivalShare;
  readonly #heap = new DueHeap<Journey>();
  readonly #pool: Journey[] = [];
  readonly #conns: Connections<Journey>;
  readonly #loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  readonly #keyPrefix: string;

  #t0Local = 0;
  #nextArrivalMs = Infinity;
  /** Still starting new buyers (arrivals, or the next iteration of a closed-model user). */
  #accepting = true;
  #active = 0;
  #drainUntilMs = Infinity;
  #stopReason: LoadResult['stopReason'] = 'completed';
  /** The shared stop flag has been acted on. */
  #stopSeen = false;
  /** When the run stopped starting buyers early (a stop or a cap); buyers due later are not "dropped". */
  #stoppedAtMs = Infinity;
  #finished = false;
  #firstSendMs: number | null = null;
  #lastAckMs: number | null = null;
  #wakeAt = Infinity;
  #timer: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  #progressTimer: NodeJS.Timeout | null = null;
  #timeoutTimer: NodeJS.Timeout | null = null;
  readonly #timeoutError: RequestTimeoutError;
  #resolve: (r: LoadResult) => void = () => undefined;

  constructor(task: WorkerTask) {
    const { plan } = task;
    this.#plan = plan;
    this.#control = new Int32Array(task.shared.control);
    this.#sellOut = task.plan.stopOnSellOut ? new SellOutWatch(this.#control, task.plan.skus.ids.length) : null;
    this.#t0Shared = new Float64Array(task.shared.t0);
    this.#progress = new Float64Array(task.shared.progress, 8 * PROGRESS_FIELDS.length * task.worker, PROGRESS_FIELDS.length);
    this.#buyers = new Buyers(plan);
    const plain = plainPlaceholders(plan);
    for (const [i, step] of STEPS.entries()) {
      const t = plan.target.requests[step];
      if (!t) continue;
      this.#templates[i] = compileTemplate(t, `target.requests.${step}`, plain);
      this.#classifiers[i] = compileClassifier(t, `target.requests.${step}`);
    }
    this.#firstStep = plan.journey.type === 'reserve-pay' ? RESERVE : CHECKOUT;
    const shape = arrivalShape(plan.arrival);
    this.#closed = shape.model === 'closed';
    this.#scheduleEndMs = shape.scheduleEndMs(plan.arrival as never);
    this.#arrivals = new ArrivalShare(plan.arrival, plan.seed, task.worker, task.workers);
    this.#conns = new Connections<Journey>({ url: plan.target.url, connections: plan.connections, timeoutMs: plan.journey.timeoutMs });
    this.#keyPrefix = `fs-${(plan.seed >>> 0).toString(36)}-`;
    this.#timeoutError = new RequestTimeoutError(plan.journey.timeoutMs);
  }

  now(): number {
    return performance.now() - this.#t0Local;
  }

  /** Signals readiness, waits for the main thread's t0, runs to the end, returns what was measured. */
  async run(): Promise<LoadResult> {
    Atomics.add(this.#control, READY, 1);
    Atomics.notify(this.#control, READY);
    const deadline = Date.now() + 60_000;
    while (Atomics.load(this.#control, GO) === 0) {
      if (Date.now() > deadline) throw new StartTimeoutError('load worker waited 60 s for the start signal');
      await Atomics.waitAsync(this.#control, GO, 0, 100).value;
    }
    this.#t0Local = this.#t0Shared[0] - performance.timeOrigin;
    this.#nextArrivalMs = this.#arrivals.next();
    const done = new Promise<LoadResult>((resolve) => (this.#resolve = resolve));
    this.#progressTimer = setInterval(() => this.#flushProgress(), PROGRESS_EVERY_MS);
    // Sweep for overdue requests often enough to time out within ~10 % of timeoutMs.
    const sweepMs = Math.max(5, Math.min(100, this.#plan.journey.timeoutMs / 10));
    this.#timeoutTimer = setInterval(() => this.#sweepTimeouts(), sweepMs);
    this.#loop.enable();
    // A stop (Ctrl-C, another worker's cap or sell-out) must be seen at once, not at the next due time.
    this.#watchStop();
    this.#wake(this.#nextArrivalMs);
    return done;
  }

  /** Wakes the pump when a stop is requested. Another worker finishing also notifies STOP without
   * setting it, so the watch is re-armed until a stop is really there. */
  #watchStop(): void {
    const stop = Atomics.waitAsync(this.#control, STOP, STOP_NONE);
    if (!stop.async) return void this.#wake(this.now());
    void stop.value.then(() => {
      if (this.#finished) return;
      if (Atomics.load(this.#control, STOP) === STOP_NONE) this.#watchStop();
      else this.#wake(this.now());
    });
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
    let budget = BATCH;
    while (budget > 0) {
      const arrivalMs = this.#accepting ? this.#nextArrivalMs : Infinity;
      const heapMs = this.#heap.peekMs();
      if (arrivalMs <= heapMs) {
        if (arrivalMs > now) break;
        const index = this.#arrivals.index;
        this.#send(this.#startBuyer(index, this.#closed ? index : -1, 0, arrivalMs), now);
        this.#nextArrivalMs = this.#arrivals.next();
        if (this.#nextArrivalMs === Infinity && !this.#closed) this.#scheduleDone(now);
      } else {
        if (heapMs > now) break;
        this.#send(this.#heap.pop()!, now);
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
    const scheduleEnd = this.#closed && this.#accepting ? this.#scheduleEndMs : Infinity;
    const next = Math.min(this.#accepting ? this.#nextArrivalMs : Infinity, this.#heap.peekMs(), this.#drainUntilMs, scheduleEnd, this.#plan.caps.maxDurationMs);
    this.#wake(next);
  };

  #checkStops(now: number): void {
    if (now >= this.#plan.caps.maxDurationMs) {
      requestStop(this.#control, STOP_MAX_DURATION);
      this.#stopReason = 'max_duration';
      this.#close(now);
      return;
    }
    if (this.#closed && this.#accepting && now >= this.#scheduleEndMs) this.#scheduleDone(now);
    const code = Atomics.load(this.#control, STOP);
    if (code !== STOP_NONE && !this.#stopSeen) {
      this.#stopSeen = true;
      this.#stoppedAtMs = Math.min(this.#stoppedAtMs, now);
      this.#stopReason = STOP_CODES[code] as LoadResult['stopReason'];
      this.#accepting = false;
      this.#drainUntilMs = Math.min(this.#drainUntilMs, now + this.#plan.caps.gracefulStopMs);
      // Interrupted or out of requests: no new journey starts; in-flight requests finish.
      if (code === STOP_INTERRUPTED || code === STOP_MAX_REQUESTS) this.#abandonWaiting(code);
    }
    if (code === STOP_MAX_DURATION) {
      this.#stopReason = 'max_duration';
      this.#close(now);
      return;
    }
    if (now >= this.#drainUntilMs) this.#close(now);
  }

  #scheduleDone(now: number): void {
    if (!this.#accepting) return;
    this.#accepting = false;
    const end = Number.isFinite(this.#scheduleEndMs) ? Math.max(now, this.#scheduleEndMs) : now;
    this.#drainUntilMs = Math.min(this.#drainUntilMs, end + this.#plan.caps.gracefulStopMs);
  }

  #maybeFinish(now: number): void {
    if (!this.#accepting && this.#active === 0) this.#close(now);
  }

  // Journeys --------------------------------------------------------------------------------------

  /** Sets up buyer number `buyer`; the caller sends it or puts it on the heap. */
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
    // Lateness is the generator's own: how long after its due time the pump got to this request.
    // Waiting for a free connection afterwards is the target's doing and shows in corrected latency.
    this.#recorder.recordLateness(Math.round((now - j.dueMs) * 1000));
    if (j.retrying) this.#counts.retries++;
    j.requests++;
    const tpl = this.#templates[j.step]!;
    const opts = j.opts;
    opts.method = tpl.method;
    opts.path = tpl.path(j);
    if (j.headersFor === tpl) opts.headers = tpl.refreshHeaders(j, j.headers);
    else {
      opts.headers = tpl.headers(j, j.headers);
      j.headersFor = tpl;
    }
    opts.body = tpl.body(j);
    j.keepBody = this.#classifiers[j.step]!.needsBody;
    // Only a reservation's sold-out answer can be stale (checkout runs never return units; a pay step's
    // answer ends its own hold). A reservation counts as held from the moment it is asked for: its answer
    // may be a hold on a unit that came back, and the run must not stop before that hold is paid or lost.
    if (this.#sellOut && j.step === RESERVE) {
      j.returnsAtSend = this.#sellOut.returnsSoFar(j.skuIndex);
      if (!j.holding) {
        this.#sellOut.holdTaken(j.skuIndex);
        j.holding = true;
      }
    }
    j.queuedMs = now;
    const c = this.#conns.acquire();
    if (c < 0) this.#conns.wait(j);
    else this.#dispatch(j, c, now);
  }

  #takeTicket(): boolean {
    if (Atomics.add(this.#control, TICKETS, 1) < this.#plan.caps.maxRequests) return true;
    requestStop(this.#control, STOP_MAX_REQUESTS);
    // Said here, not only when the pump next looks at the flag: the last answers can end the run first.
    this.#stopReason = STOP_CODES[Atomics.load(this.#control, STOP)] as LoadResult['stopReason'];
    this.#accepting = false; // no new buyer could send either (and a closed-model user must not loop)
    const now = this.now();
    this.#stoppedAtMs = Math.min(this.#stoppedAtMs, now);
    this.#wake(now);
    return false;
  }

  #dispatch(j: Journey, c: number, now: number): void {
    j.conn = c;
    j.abort = null;
    this.#conns.inFlight[c] = j;
    j.sentMs = now;
    j.statusCode = 0;
    // Setting an array's length calls into C++ (~40 ns) even when it changes nothing: guard it.
    if (j.chunks.length !== 0) j.chunks.length = 0;
    this.#recorder.recordConnectionWait(Math.round((now - j.queuedMs) * 1000));
    this.#recorder.intervals.sent(now);
    this.#counts.requestsSent++;
    if (this.#firstSendMs === null) this.#firstSendMs = now;
    this.#conns.clients[c].dispatch(j.opts, j);
  }

  /** Aborts requests that have been out longer than journey.timeoutMs (counted as 'timeout', retried). */
  #sweepTimeouts(): void {
    const limit = this.now() - this.#plan.journey.timeoutMs;
    const inFlight = this.#conns.inFlight;
    for (let c = 0; c < inFlight.length; c++) {
      const j = inFlight[c];
      if (j && j.sentMs <= limit && j.abort) {
        const abort = j.abort;
        j.abort = null;
        abort(this.#timeoutError);
      }
    }
  }

  /** The connection is free again: give it to the longest-waiting request, if any. */
  #freeConnection(c: number, now: number): void {
    const next = this.#finished ? undefined : this.#conns.nextWaiting();
    if (next) this.#dispatch(next, c, now);
    else this.#conns.release(c);
  }

  answered(j: Journey): void {
    if (this.#finished) return;
    const now = this.now();
    this.#freeConnection(j.conn, now);
    this.#counts.requestsAnswered++;
    const classifier = this.#classifiers[j.step]!;
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
    if (outcome === REJECTED || outcome === ERROR) this.#countKind(`http_${j.statusCode}`);
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
    this.#record(j, outcome, now, units);
    if (units > 0) {
      this.#orders.push({ orderId, userId: j.userId, sku: j.sku, qty: j.qty });
      this.#counts.unitsAcknowledged += units;
      this.#lastAckMs = now;
    }
    this.#next(j, outcome, now);
    this.#maybeFinish(now);
  }

  /** No HTTP answer (refused, reset, not HTTP, timed out): counted as an error of its kind, but no
   * latency is recorded. There is no answer to time, and the time it took to fail (a refused connect
   * takes microseconds) must not pull latency percentiles, or thresholds on them, down or up. */
  failed(j: Journey, err: Error): void {
    if (this.#finished) return;
    const now = this.now();
    if (j.conn >= 0) this.#freeConnection(j.conn, now);
    this.#countKind(errorKind(err));
    this.#countOutcome(j.step, ERROR);
    this.#recorder.recordFailure(now);
    j.conn = -1;
    this.#next(j, ERROR, now);
    this.#maybeFinish(now);
  }

  #countKind(kind: string): void {
    const e = this.#counts.errorsByKind;
    e[kind] = (e[kind] ?? 0) + 1;
  }

  #countOutcome(step: number, outcome: number): void {
    const name = OUTCOMES[outcome];
    this.#counts.byOutcome[name]++;
    this.#stepOutcomes[step * OUTCOMES.length + outcome]++;
  }

  #record(j: Journey, outcome: number, now: number, units: number): void {
    this.#countOutcome(j.step, outcome);
    this.#recorder.recordAnswer(j.step, outcome, Math.round((now - j.dueMs) * 1000), Math.round((now - j.sentMs) * 1000), now, units);
    j.conn = -1;
  }

  /** What the buyer does after an answer: next step, retry, another account, or the end. */
  #next(j: Journey, outcome: number, now: number): void {
    const next = afterAnswer(j, outcome, now, this.#plan.journey, this.#buyers, this.#keyPrefix);
    if (next === 'later') return this.#later(j, j.dueMs, now);
    if (next === 'soldOut' && j.step !== PAY && this.#sellOut?.soldOutAnswer(j.skuIndex, j.returnsAtSend)) this.#stopSoldOut();
    this.#endJourney(j, next, now);
  }

  #later(j: Journey, dueMs: number, now: number): void {
    const interrupted = Atomics.load(this.#control, STOP);
    if (interrupted === STOP_INTERRUPTED || interrupted === STOP_MAX_REQUESTS || dueMs >= this.#drainUntilMs) {
      return this.#endJourney(j, 'gaveUp', now);
    }
    j.dueMs = dueMs;
    this.#heap.push(j);
    this.#wake(dueMs);
  }

  /** `now`: the caller's current time when it has one (saves a clock read per request). */
  #endJourney(j: Journey, how: keyof Counts['buyers'], now?: number): void {
    this.#counts.buyers[how]++;
    if (j.holding) {
      j.holding = false;
      // Refused at the reserve step: nothing was held. Paid: nothing comes back. Anything else may have
      // left a hold that is declined, expires or is abandoned: its units come back.
      const nothingReturns = how === 'succeeded' || (j.step === RESERVE && (how === 'soldOut' || how === 'rejected'));
      if (this.#sellOut!.holdEnded(j.skuIndex, !nothingReturns)) this.#stopSoldOut();
    }
    // Dropped means no request of it ever went out: it was never a started buyer either.
    if (how === 'dropped') this.#counts.buyers.started--;
    this.#active--;
    // Closed model: the same virtual user starts its next journey after a think time.
    if (j.vu >= 0 && this.#accepting) {
      now ??= this.now();
      const next = now + thinkMs(j, this.#plan.journey);
      if (next < this.#scheduleEndMs) {
        const vus = this.#plan.arrival.type === 'constant-vus' ? this.#plan.arrival.vus : 1;
        const iteration = j.iteration + 1;
        this.#pool.push(j);
        const started = this.#startBuyer(j.vu + iteration * vus, j.vu, iteration, next);
        // No think time: send now, from the answer's callback, as a closed-loop client does.
        if (next <= now && !this.#finished) this.#send(started, now);
        else {
          this.#heap.push(started);
          this.#wake(next);
        }
        return;
      }
    }
    this.#pool.push(j);
  }

  #stopSoldOut(): void {
    requestStop(this.#control, STOP_SOLD_OUT);
    this.#wake(this.now());
  }

  /** Journeys not yet due are dropped. Requests queued for a connection already hold a ticket: out of
   * requests, they still go (maxRequests is exact); interrupted, they do not. */
  #abandonWaiting(code: number): void {
    this.#heap.drain((j) => this.#endJourney(j, j.requests === 0 ? 'dropped' : 'gaveUp'));
    if (code === STOP_INTERRUPTED) this.#conns.drainWaiting((j) => this.#endJourney(j, j.requests <= 1 ? 'dropped' : 'gaveUp'));
  }

  // The end ---------------------------------------------------------------------------------------

  #close(now: number): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#cancelWake();
    if (this.#progressTimer) clearInterval(this.#progressTimer);
    if (this.#timeoutTimer) clearInterval(this.#timeoutTimer);
    this.#loop.disable();
    this.#accepting = false;
    // Whatever had not finished is counted, not measured: journeys waiting, queued or in flight.
    this.#heap.drain((j) => this.#endJourney(j, j.requests === 0 ? 'dropped' : 'gaveUp'));
    this.#conns.drainWaiting((j) => this.#endJourney(j, j.requests <= 1 ? 'dropped' : 'gaveUp'));
    // In flight when the run was cut: their answers will never be read. Counted apart (cutByStop), not
    // as errors and not in any latency: the stop, not the target, ended them.
    const inFlight = this.#conns.inFlight;
    for (let c = 0; c < inFlight.length; c++) {
      const j = inFlight[c];
      if (j === null || j.conn < 0) continue;
      this.#counts.cutByStop++;
    }
    this.#counts.buyers.gaveUp += this.#active; // in flight: cut by the stop
    this.#active = 0;
    // Buyers whose time had come but who were never started (a cap or a stop) are k6's dropped iterations.
    if (!this.#closed) {
      const until = Math.min(now, this.#stoppedAtMs);
      while (this.#nextArrivalMs <= until) {
        this.#counts.buyers.dropped++;
        this.#nextArrivalMs = this.#arrivals.next();
      }
    }
    this.#flushProgress();
    Atomics.notify(this.#control, STOP); // release our own stop watcher (and wake the others)
    void this.#conns.close().then(() => this.#resolve(this.#result(now)));
  }

  #byStep(): Counts['byStep'] {
    const out: Counts['byStep'] = {};
    STEPS.forEach((step, s) => {
      const row = this.#stepOutcomes.slice(s * OUTCOMES.length, (s + 1) * OUTCOMES.length);
      if (row.some((n) => n > 0)) out[step] = { success: row[SUCCESS], sold_out: row[SOLD_OUT], rejected: row[REJECTED], error: row[ERROR] };
    });
    return out;
  }

  #flushProgress(): void {
    const p = this.#progress;
    const c = this.#counts;
    p[P_SENT] = c.requestsSent;
    p[P_COMPLETED] = c.byOutcome.success + c.byOutcome.sold_out + c.byOutcome.rejected + c.byOutcome.error;
    p[P_SUCCESSES] = c.buyers.succeeded;
    p[P_UNITS] = c.unitsAcknowledged;
    p[P_ERRORS] = c.byOutcome.rejected + c.byOutcome.error;
    p[P_SOLD_OUTS] = c.byOutcome.sold_out;
  }

  #result(endMs: number): LoadResult {
    // The monitor measures the whole gap between its timer ticks; only what exceeds the tick is delay.
    const ns = (v: number) => (Number.isFinite(v) ? Math.max(0, v / 1e6 - LOOP_RESOLUTION_MS) : 0);
    const loop = { p50: ns(this.#loop.percentile(50)), p99: ns(this.#loop.percentile(99)), max: ns(this.#loop.max) };
    // Judged here at the default scale; the run's judge (src/judge/judge.ts) judges again at the
    // scenario's own scale, which the load engine does not know.
    const verdict = judgeGenerator({ lateness: this.#recorder.lateness, eventLoopDelayMs: loop });
    return {
      t0EpochMs: this.#t0Shared[0],
      durationMs: endMs,
      firstSendMs: this.#firstSendMs,
      lastAckMs: this.#lastAckMs,
      stopReason: this.#stopReason,
      counts: { ...this.#counts, byStep: this.#byStep() },
      latency: this.#recorder.latency(),
      intervals: this.#recorder.intervals.finish(endMs),
      generator: {
        lateness: encodeHistogram(this.#recorder.lateness),
        connectionWait: encodeHistogram(this.#recorder.connectionWait),
        eventLoopDelayMs: loop,
        ...verdict,
      },
      orders: this.#orders,
    };
  }
}

/** Placeholders whose values this plan can only make plain (see isPlain), so templates skip escaping
 * them: generated keys and numbers always, user ids and SKUs when the plan's prefix and ids are. */
function plainPlaceholders(plan: LoadPlan): ReadonlySet<Placeholder> {
  const plain = new Set<Placeholder>(['qty', 'idempotencyKey']);
  if (isPlain(plan.buyers.userPrefix)) plain.add('userId');
  if (plan.skus.ids.every(isPlain)) plain.add('sku');
  return plain;
}
