// How a load worker's requests go out: each step's compiled template fills in the request, which
// leaves on an idle connection or waits (FIFO) for the next one to free up; requests out longer than
// journey.timeoutMs are aborted by a sweep. The seam for another transport is connections.ts.
// Hot path: nothing here allocates per request (the journey carries its own dispatch options).
import type { Counts } from '../contract/result.ts';
import type { LoadPlan } from '../contract/load-plan.ts';
import { RESERVE, STEPS } from '../contract/vocabulary.ts';
import type { LoadRecorder } from '../measure/recorder.ts';
import { RequestTimeoutError } from './answers.ts';
import { compileClassifier, type Classifier } from './classify.ts';
import { Connections } from './connections.ts';
import type { Journey } from './journey.ts';
import type { SellOutWatch } from './sell-out.ts';
import type { Tally } from './tally.ts';
import { compileTemplate, isPlain, type CompiledTemplate, type Placeholder } from './template.ts';

export class Sender {
  readonly conns: Connections<Journey>;
  readonly #templates: Array<CompiledTemplate | null> = [null, null, null];
  readonly #classifiers: Array<Classifier | null> = [null, null, null];
  readonly #recorder: LoadRecorder;
  readonly #tally: Tally;
  readonly #counts: Counts;
  /** Only with stopOnSellOut. */
  readonly #sellOut: SellOutWatch | null;
  readonly #timeoutMs: number;
  readonly #timeoutError: RequestTimeoutError;

  /** clock: ms from t0 (0 before t0: connections the warm-up opens count in the first bucket). */
  constructor(plan: LoadPlan, recorder: LoadRecorder, tally: Tally, sellOut: SellOutWatch | null, clock: () => number) {
    const plain = plainPlaceholders(plan);
    for (const [i, step] of STEPS.entries()) {
      const t = plan.target.requests[step];
      if (!t) continue;
      this.#templates[i] = compileTemplate(t, `target.requests.${step}`, plain);
      this.#classifiers[i] = compileClassifier(t, `target.requests.${step}`);
    }
    this.conns = new Connections<Journey>({
      url: plan.target.url, connections: plan.connections, timeoutMs: plan.journey.timeoutMs, transport: plan.transport,
      onConnection: (up) => recorder.recordConnection(up, clock()),
    });
    this.#recorder = recorder;
    this.#tally = tally;
    this.#counts = tally.counts;
    this.#sellOut = sellOut;
    this.#timeoutMs = plan.journey.timeoutMs;
    this.#timeoutError = new RequestTimeoutError(plan.journey.timeoutMs);
  }

  /** How answers to `step` are read. */
  classifier(step: number): Classifier {
    // The journey only walks steps the plan has templates for (validatePlan checks it).
    return this.#classifiers[step]!;
  }

  /** Sends the journey's current step at `now` (its ticket taken): on an idle connection, or after
   * those waiting before it. */
  send(j: Journey, now: number): void {
    // Lateness is the generator's own: how long after its due time the pump got to this request.
    // Waiting for a free connection afterwards is the target's doing and shows in corrected latency.
    this.#recorder.recordLateness(Math.round((now - j.dueMs) * 1000), now);
    if (j.retrying) {
      this.#counts.retries++;
      this.#recorder.intervals.retry(now);
    }
    j.requests++;
    // As in classifier(): a step the journey walks has a template.
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
    j.keepBody = this.classifier(j.step).needsBody;
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
    const c = this.conns.acquire();
    if (c < 0) this.conns.wait(j);
    else this.#dispatch(j, c, now);
  }

  #dispatch(j: Journey, c: number, now: number): void {
    j.conn = c;
    j.abort = null;
    this.conns.inFlight[c] = j;
    j.sentMs = now;
    j.statusCode = 0;
    // Setting an array's length calls into C++ (~40 ns) even when it changes nothing: guard it.
    if (j.chunks.length !== 0) j.chunks.length = 0;
    this.#recorder.recordConnectionWait(Math.round((now - j.queuedMs) * 1000));
    this.#recorder.intervals.sent(now);
    this.#tally.sent(now);
    this.conns.clients[c].dispatch(j.opts, j);
  }

  /** Connection `c` is free again: it takes the longest-waiting request, unless `finished`. */
  free(c: number, now: number, finished: boolean): void {
    const next = finished ? undefined : this.conns.nextWaiting();
    if (next) this.#dispatch(next, c, now);
    else this.conns.release(c);
  }

  /** Aborts requests that have been out longer than journey.timeoutMs (counted as 'timeout', retried). */
  sweepTimeouts(now: number): void {
    const limit = now - this.#timeoutMs;
    const inFlight = this.conns.inFlight;
    for (let c = 0; c < inFlight.length; c++) {
      const j = inFlight[c];
      if (j && j.sentMs <= limit && j.abort) {
        const abort = j.abort;
        j.abort = null;
        abort(this.#timeoutError);
      }
    }
  }

  /** Requests on a connection now (their answers will never be read once the run is cut). */
  inFlightCount(): number {
    let n = 0;
    for (const j of this.conns.inFlight) if (j !== null && j.conn >= 0) n++;
    return n;
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
