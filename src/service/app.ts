// One HTTP thread's request handling: routing, load shedding, and the small read-only routes. The
// buying flows live in purchases.ts, admin routes in admin.ts, answering in exchange.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJson, type BodyResult } from './body.ts';
import { CANNED, sendCanned } from './reply.ts';
import { Health } from './health.ts';
import type { LogLevel } from './log.ts';
import { ROUTE, ThreadCounters, renderPrometheus } from './prometheus.ts';
import { Exchange, Responder } from './exchange.ts';
import { Purchases } from './purchases.ts';
import { AdminRoutes } from './admin.ts';
import type { SaleDefinition } from './sale.ts';
import type { SaleState } from './state.ts';
import type { LedgerClient } from './ledger-client.ts';

const SWEEP_EVERY_MS = 50;

export interface AppContext {
  threadIndex: number;
  threads: number;
  ledger: LedgerClient;
  metricsSab: SharedArrayBuffer;
  ledgerMetricsSab: SharedArrayBuffer;
  /** The service's health words (see health.ts), read by /healthz and /metrics. */
  health: SharedArrayBuffer;
  /** To the service's log, through the main thread. */
  log(level: LogLevel, message: string): void;
  adminToken: string | undefined;
  maxInFlight: number;
  seed: number;
  /** Asks the main thread to start a new sale; resolves with its ledger id, rejects with SaleRefused or why it failed. */
  defineSale(sale: SaleDefinition, force: boolean): Promise<number>;
}

export class App {
  private state: SaleState;
  private readonly ctx: AppContext;
  private readonly metrics: ThreadCounters;
  private readonly responder: Responder;
  private readonly purchases: Purchases;
  private readonly admin: AdminRoutes;
  private readonly health: Health;
  private closing = false;
  /** Buying is paused while a crashed thread's purchases are settled (see Supervisor.recover). */
  private paused = false;
  private resumed: Array<() => void> = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(state: SaleState, ctx: AppContext) {
    this.ctx = ctx;
    this.state = state;
    this.metrics = new ThreadCounters(ctx.metricsSab, ctx.threadIndex);
    this.health = new Health(ctx.health);
    this.responder = new Responder(this.metrics, ctx.log);
    this.purchases = new Purchases(this.responder, ctx.ledger, ctx.threadIndex, ctx.seed, this);
    this.admin = new AdminRoutes(this.responder, ctx.ledger, ctx.adminToken, ctx.defineSale);
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  /** A redefined sale: new requests use it; requests in flight finish in the sale they began in. */
  setSale(state: SaleState): void {
    this.state = state;
  }

  get saleState(): SaleState {
    return this.state;
  }

  get inFlight(): number {
    return this.responder.inFlight;
  }

  /**
   * Refuses buying requests (503 recovering) and resolves once no purchase of this thread holds stock or
   * a reservation and every order it handed to the ledger is acknowledged: the sale can then be rebuilt.
   */
  async pause(): Promise<void> {
    this.paused = true;
    await this.responder.whenSettled();
    await this.ctx.ledger.flush();
  }

  resume(): void {
    this.paused = false;
    for (const go of this.resumed.splice(0)) go();
  }

  /** For a request that waited (an idempotency key in flight): resolves once buying is not paused. */
  whenResumed(): Promise<void> {
    return this.paused ? new Promise((resolve) => this.resumed.push(resolve)) : Promise.resolve();
  }

  /** Returns expired holds' units: pops only the expired head of this thread's queue (see ReservationTable). */
  sweep(): void {
    if (this.paused) return; // the holds are being counted
    const state = this.state;
    state.reservations.sweep(Date.now(), (hold) => {
      state.giveBack(hold.sku, hold.qty, hold.userId);
      state.reservations.free(hold.slot);
    });
  }

  /**
   * Stops taking new work (requests on kept-alive connections get 503 + Connection: close), then
   * resolves when no request is in flight and every order handed to the ledger is acknowledged.
   */
  async drain(): Promise<void> {
    this.closing = true;
    await this.responder.whenIdle();
    await this.ctx.ledger.flush();
    this.stop();
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  /** node:http dropped a connection: maxConnectionsPerThread were open. */
  connectionDropped(): void {
    this.metrics.dropped();
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const route = routeOf(req);
    // A buying request counts as in flight only once its body has arrived (bounded by the server's
    // requestTimeout): slow uploads must not fill the slots honest buyers need.
    if (route === ROUTE.checkout || route === ROUTE.reserve || route === ROUTE.pay) return readJson(req, (body) => this.admit(req, res, route, body));
    this.admit(req, res, route, null);
  };

  /** Sheds or admits a request; `body` is the buying routes' parsed body (null: other routes). */
  private admit(req: IncomingMessage, res: ServerResponse, route: number, body: BodyResult | null): void {
    // Routes up to release change stock or holds: those wait while a recovery counts them.
    if (this.responder.inFlight >= this.ctx.maxInFlight || this.closing || (this.paused && route <= ROUTE.release)) {
      this.metrics.count(route, 503);
      if (body === null) req.resume();
      if (this.closing) return sendCanned(res, CANNED.shuttingDown);
      if (this.paused) return sendCanned(res, CANNED.recovering);
      this.metrics.shed();
      return sendCanned(res, CANNED.shed);
    }
    this.responder.admit();
    const exchange = new Exchange(res, route, this.state);
    try {
      if (body === null) this.dispatch(req, exchange);
      else if (!body.ok) this.responder.reply(exchange, body.reply);
      else this.purchases.handle(req, exchange, body.value, body.text);
    } catch (e) {
      this.responder.fail(exchange, e);
    }
  }

  private dispatch(req: IncomingMessage, exchange: Exchange): void {
    switch (exchange.route) {
      case ROUTE.release:
        return this.purchases.release(exchange, lastSegment(req.url!)); // node's http server always sets url on a request
      case ROUTE.inventory:
        return this.inventory(exchange, lastSegment(req.url!)); // node's http server always sets url on a request
      case ROUTE.healthz:
        return this.responder.reply(exchange, this.health.healthz(this.ctx.threads, CANNED.health));
      case ROUTE.metrics:
        return this.metricsPage(exchange);
      case ROUTE.admin_sale:
      case ROUTE.admin_orders:
        return this.admin.handle(req, exchange);
      default:
        req.resume();
        return this.responder.reply(exchange, CANNED.notFound);
    }
  }

  private inventory(exchange: Exchange, skuId: string): void {
    const state = exchange.state;
    const sku = state.skuIndex.get(skuId);
    if (sku === undefined) return this.responder.error(exchange, 404, 'unknown_sku', 'no such SKU in this sale');
    this.responder.send(exchange, 200, JSON.stringify(state.inventory(sku)));
  }

  private metricsPage(exchange: Exchange): void {
    const state = exchange.state;
    const stock = state.sale.skus.map((s, i) => ({ sku: s.id, ...state.inventory(i) }));
    const text = renderPrometheus(this.ctx.metricsSab, this.ctx.threads, stock, this.ctx.ledgerMetricsSab, state.saleId) + this.health.metrics(this.ctx.threads);
    exchange.res.writeHead(200, ['content-type', 'text/plain; version=0.0.4; charset=utf-8', 'content-length', String(Buffer.byteLength(text))]);
    exchange.res.end(text);
    this.responder.done(exchange, 200);
  }
}

function routeOf(req: IncomingMessage): number {
  let url = req.url ?? '/';
  const q = url.indexOf('?');
  if (q >= 0) url = url.slice(0, q);
  const m = req.method;
  if (m === 'POST') {
    if (url === '/api/v1/checkout') return ROUTE.checkout;
    if (url === '/api/v1/reservations') return ROUTE.reserve;
    if (url === '/api/v1/orders') return ROUTE.pay;
    if (url === '/admin/sale') return ROUTE.admin_sale;
  } else if (m === 'GET') {
    if (url.startsWith('/api/v1/inventory/')) return ROUTE.inventory;
    if (url === '/healthz') return ROUTE.healthz;
    if (url === '/metrics') return ROUTE.metrics;
    if (url === '/admin/orders') return ROUTE.admin_orders;
  } else if (m === 'DELETE' && url.startsWith('/api/v1/reservations/')) return ROUTE.release;
  return ROUTE.unmatched;
}

/** The URL's last path segment, percent-decoded; '' when it does not decode (answers 404). */
function lastSegment(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  try {
    return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
  } catch {
    return '';
  }
}
