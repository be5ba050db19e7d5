// One buyer's journey in progress, and — since a journey has at most one request in flight — also the
// undici dispatch handler for that request. Journey objects are pooled and reused, so sending a request
// allocates no handler, closure or promise. The legacy handler methods (onConnect/onHeaders/onData/
// onComplete/onError) are used on purpose: undici 7 wraps the newer controller API in an adapter
// object per request and parses every response header into an object, which the engine never needs.
import type { Dispatcher } from 'undici';
import { CHECKOUT, STEPS } from '../contract/vocabulary.ts';
import type { CompiledTemplate, Vars } from './template.ts';

const KEY_SUFFIX = STEPS.map((s) => `-${s}`);

export interface JourneyHost {
  /** ms from t0. */
  now(): number;
  answered(j: Journey): void;
  failed(j: Journey, err: Error): void;
}

export class Journey implements Vars, Dispatcher.DispatchHandler {
  readonly host: JourneyHost;
  // Who
  buyer = 0;
  /** Closed model: which virtual user runs this journey (and its iteration); -1 in the open model. */
  vu = -1;
  iteration = 0;
  bot = false;
  account = 0;
  userId = '';
  skuIndex = 0;
  sku = '';
  qty = 1;
  /** Stable per buyer and account; the per-step Idempotency-Key is derived from it. */
  journeyKey = '';
  idempotencyKey = '';
  reservationId = '';
  /** A reservation is held (reserved, not yet paid or lost): see sell-out.ts. */
  holding = false;
  /** Units-came-back count of the SKU when the current request went out (sell-out.ts). */
  returnsAtSend = 0;
  // Where
  step = CHECKOUT;
  /** Retries used on the current step. */
  attempt = 0;
  /** The next request repeats the last one (a retry, or a bot's other account). */
  retrying = false;
  /** Requests this journey has sent (0 = still waiting for its first). */
  requests = 0;
  /** Intended start of the next (or current) attempt, ms from t0: latency is measured from here. */
  dueMs = 0;
  /** When the engine got to the current request (before any wait for a connection), ms from t0. */
  queuedMs = 0;
  /** When the current request actually went out (onConnect), ms from t0. */
  sentMs = 0;
  conn = -1;
  /** undici's abort for the request in flight (the engine's own timeouts use it). */
  abort: ((err?: Error) => void) | null = null;
  statusCode = 0;
  keepBody = false;
  readonly chunks: Buffer[] = [];
  readonly headers: string[] = [];
  /** The template that last filled `headers` (then only its per-buyer values need writing again). */
  headersFor: CompiledTemplate | null = null;
  /** Reused dispatch options: one request at a time per journey. */
  readonly opts: Dispatcher.DispatchOptions = { path: '/', method: 'GET', headers: [], body: null };
  // Mulberry32 state: per-journey randomness without an object per draw.
  #rs = 0;

  constructor(host: JourneyHost) {
    this.host = host;
  }

  seed(seed: number): void {
    this.#rs = seed >>> 0;
  }

  /** Uniform in [0, 1) from this buyer's own stream. */
  random(): number {
    this.#rs = (this.#rs + 0x6d2b79f5) | 0;
    let t = Math.imul(this.#rs ^ (this.#rs >>> 15), 1 | this.#rs);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** The Idempotency-Key of the current step: the same on every retry of it, distinct per step. */
  refreshKey(): void {
    this.idempotencyKey = this.journeyKey + KEY_SUFFIX[this.step];
  }

  // undici handler ------------------------------------------------------------------------------

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    this.sentMs = this.host.now();
  }

  onHeaders(statusCode: number): boolean {
    // 1xx informational answers come first; only the final status counts.
    if (statusCode >= 200) this.statusCode = statusCode;
    return true;
  }

  onData(chunk: Buffer): boolean {
    // A copy: on the raw transport the chunk is a view on its read buffer (connections.ts: chunkViews).
    if (this.keepBody) this.chunks.push(Buffer.from(chunk));
    return true;
  }

  onComplete(): void {
    this.host.answered(this);
  }

  onError(err: Error): void {
    // Always finished on the next tick, never inside undici's call: failing inside dispatch() would
    // re-enter the engine mid-send, and a connect error fails every request queued on the client in
    // one loop that asserts nothing new was queued meanwhile (a retry or a waiting request sent on the
    // freed connection would be, and undici then throws an AssertionError that kills the worker).
    process.nextTick(() => this.host.failed(this, err));
  }

  body(): Buffer | null {
    const c = this.chunks;
    if (c.length === 0) return null;
    return c.length === 1 ? c[0] : Buffer.concat(c);
  }
}
