// Answering requests: every request ends in exactly one call here, which stores the answer for
// Idempotency-Key retries, counts it in /metrics and keeps this thread's in-flight count (load
// shedding and draining depend on it being exact).
import type { ServerResponse } from 'node:http';
import { errorBody, sendCanned, sendJson, type Canned } from './reply.ts';
import type { ThreadCounters } from './prometheus.ts';
import type { SaleState } from './state.ts';
import type { LogLevel } from './log.ts';

/** A request in progress: what its answer must update when it is sent. */
export class Exchange {
  readonly res: ServerResponse;
  readonly route: number;
  /**
   * The sale it started in: a sale redefined meanwhile does not change its answer. (A request that waited
   * through a recovery moves to the rebuilt state of the same sale: see Purchases.once.)
   */
  state: SaleState;
  /** It took stock or claimed a hold: until answered, it holds sale state a recovery must wait for. */
  holding = false;
  /** Idempotency slot this request owns (-1: none): the answer is stored there for retries. */
  slot = -1;
  /** Its Idempotency-Key (null: none) and the fingerprint of the request, both written with its order. */
  key: string | null = null;
  fingerprint = 0;
  constructor(res: ServerResponse, route: number, state: SaleState) {
    this.res = res;
    this.route = route;
    this.state = state;
  }
}

export class Responder {
  private readonly metrics: ThreadCounters;
  private readonly log: (level: LogLevel, message: string) => void;
  private count = 0;
  private idle: (() => void) | null = null;
  private holding = 0;
  private settled: (() => void) | null = null;

  constructor(metrics: ThreadCounters, log: (level: LogLevel, message: string) => void = () => {}) {
    this.metrics = metrics;
    this.log = log;
  }

  /** The request took stock or claimed a hold: it is settled (given back or durable) when answered. */
  hold(exchange: Exchange): void {
    if (exchange.holding) return;
    exchange.holding = true;
    this.holding++;
  }

  /** Resolves once no admitted request holds stock or a hold (a recovery waits for this). */
  whenSettled(): Promise<void> {
    if (this.holding === 0) return Promise.resolve();
    return new Promise((resolve) => (this.settled = resolve));
  }

  get inFlight(): number {
    return this.count;
  }

  /** A request was admitted; it must end in exactly one answer (send, error, reply, fail or done). */
  admit(): void {
    this.metrics.inFlight = ++this.count;
  }

  /** Resolves once no admitted request is left unanswered. */
  whenIdle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  send(exchange: Exchange, status: number, body: string | Buffer, extra?: string[]): void {
    if (exchange.slot >= 0) {
      exchange.state.idempotency.complete(exchange.slot, status, body);
      exchange.slot = -1;
    }
    if (status === 204) {
      exchange.res.writeHead(204);
      exchange.res.end();
    } else sendJson(exchange.res, status, body, extra);
    this.done(exchange, status);
  }

  reply(exchange: Exchange, c: Canned): void {
    if (exchange.slot >= 0) return this.send(exchange, c.status, c.body, c.headers.slice(4));
    sendCanned(exchange.res, c);
    this.done(exchange, c.status);
  }

  error(exchange: Exchange, status: number, error: string, message: string, extra?: string[]): void {
    this.send(exchange, status, errorBody(error, message), extra);
  }

  /** An error nobody meant: logged in full, answered without internals. */
  fail(exchange: Exchange, e: unknown): void {
    this.log('error', `internal error: ${(e as Error)?.stack ?? String(e)}`); // an Error or anything thrown: its stack if it has one
    if (exchange.res.headersSent) {
      exchange.res.destroy();
      return this.done(exchange, 500);
    }
    this.error(exchange, 500, 'internal_error', 'the server failed to answer this request (the service log says why)');
  }

  /** For answers written directly to the response (metrics page, NDJSON stream). */
  done(exchange: Exchange, status: number): void {
    this.metrics.count(exchange.route, status);
    this.metrics.inFlight = --this.count;
    if (exchange.holding && --this.holding === 0 && this.settled) {
      this.settled();
      this.settled = null;
    }
    if (this.count === 0 && this.idle) {
      this.idle();
      this.idle = null;
    }
  }
}
