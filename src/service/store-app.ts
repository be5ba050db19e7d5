// The checkout service on the shared stores (serve --stock-store redis://… --ledger postgres://…): the
// same API as the in-process service — POST /api/v1/checkout, /api/v1/reservations, /api/v1/orders and
// DELETE /api/v1/reservations/:id (with Idempotency-Key), GET /api/v1/inventory/:sku, GET /healthz, GET /admin/orders — with the stock, the
// per-user limit and the keys in Redis (one script call per take, batched per SKU) and the orders in
// PostgreSQL (group commit; a 201 only after COMMIT). Any number of processes serve one sale together.
// Reservations (reserve, pay, release) with a TTL: store-reservations.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { StoreUnavailableError, messageOf } from '../errors.ts';
import { readJson } from './body.ts';
import { CANNED, errorBody, sendCanned, sendJson } from './reply.ts';
import { MAX_KEY_LENGTH, fingerprint } from './idempotency.ts';
import { MAX_USER_ID_BYTES } from './reservations.ts';
import { ROUTE, renderPrometheus, type StockLine, type ThreadCounters } from './prometheus.ts';
import { renderStoreStats, sumBuffers, type StoreThreadMetrics } from './store-metrics.ts';
import { PaymentSimulator, paymentDelay } from './payment.ts';
import type { SaleDefinition } from './sale.ts';
import type { StoreLinks } from './store-links.ts';
import type { HoldRef } from '../stores/stock-store.ts';
import { StoreReservations, type Purchase, type StoreReplies } from './store-reservations.ts';
import { keyAnswer, replayOf } from './store-key-answers.ts';

const MAX_QTY = 2 ** 31 - 1;
const ORDERS_PAGE = 5000;
/** A keyed retry whose first attempt is still in flight polls for its answer this long. */
const REPLAY_WAIT_MS = 5000;
const REPLAY_POLL_MS = 20;

export interface StoreAppOptions {
  sale: SaleDefinition;
  saleId: number;
  links: StoreLinks;
  threadIndex: number;
  adminToken: string | undefined;
  maxInFlight: number;
  seed: number;
  /** This thread's block of the process's request counters. */
  counters: ThreadCounters;
  /** Every thread's counters and stats, for GET /metrics. */
  metrics: StoreThreadMetrics;
}

/** Answer counts per status, for tests and the bench (the in-process service's Prometheus page is not ported). */
export type StatusCounts = Record<number, number>;

export class StoreApp {
  readonly #o: StoreAppOptions;
  readonly #skuIndex: Map<string, number>;
  readonly #payment: PaymentSimulator;
  readonly #orderPrefix: string;
  readonly #expected: Buffer | undefined;
  #seq = 0;
  #inFlight = 0;
  #closing = false;
  #idle: Array<() => void> = [];
  /** Confirms waiting for the next tick: one script call per SKU for all of them. */
  #confirms: Array<HoldRef & { answer: string }> = [];
  readonly #reservations: StoreReservations;
  /** The route each response answers (counted per route and status, as in-process). */
  readonly #routes = new WeakMap<ServerResponse, number>();
  readonly counts: StatusCounts = {};

  constructor(o: StoreAppOptions) {
    this.#o = o;
    this.#skuIndex = new Map(o.sale.skus.map((s, i) => [s.id, i]));
    this.#payment = new PaymentSimulator((o.seed ^ Math.imul(o.threadIndex + 1, 0x9e3779b1)) >>> 0);
    // Random per thread and process: order ids never repeat across processes sharing the ledger.
    this.#orderPrefix = `o${randomBytes(6).toString('base64url')}${o.threadIndex.toString(36)}-`;
    this.#expected = o.adminToken === undefined ? undefined : createHash('sha256').update(`Bearer ${o.adminToken}`).digest();
    const reply: StoreReplies = {
      error: (res, status, code, message, extra) => this.#error(res, status, code, message, extra),
      done: (res, status, body, extra) => this.#done(res, status, body, extra),
      unavailable: (res, e) => this.#unavailable(res, e),
    };
    this.#reservations = new StoreReservations({ sale: o.sale, saleId: o.saleId, links: o.links, reply, threadIndex: o.threadIndex, payment: this.#payment });
  }

  /** Reservations: the expiry sweep this thread runs (started by store-thread.ts). */
  get reservations(): StoreReservations {
    return this.#reservations;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.#closing) {
      req.resume();
      return this.#canned(res, CANNED.shuttingDown);
    }
    const url = (req.url ?? '/').split('?')[0];
    this.#routes.set(res, routeOf(req.method, url));
    const buying = req.method === 'POST' && (url === '/api/v1/checkout' || url === '/api/v1/reservations' || url === '/api/v1/orders');
    const releasing = req.method === 'DELETE' && url.startsWith('/api/v1/reservations/');
    if (buying || releasing) {
      if (this.#inFlight >= this.#o.maxInFlight) {
        req.resume();
        this.#o.counters.shed();
        return this.#canned(res, CANNED.shed);
      }
      this.#o.counters.inFlight = ++this.#inFlight;
      const failed = (e: unknown) => this.#error(res, 500, 'internal_error', messageOf(e));
      if (releasing) {
        req.resume();
        let id: string;
        try {
          id = decodeURIComponent(url.slice('/api/v1/reservations/'.length));
        } catch {
          id = '';
        }
        return void this.#reservations.release(res, id).catch(failed);
      }
      return readJson(req, (body) => {
        if (!body.ok) return this.#done(res, body.reply.status, body.reply.body, body.reply.headers.slice(4));
        const run = url === '/api/v1/checkout' ? this.#checkout(req, res, body.value, body.text) : url === '/api/v1/orders' ? this.#pay(req, res, body.value, body.text) : this.#reserve(req, res, body.value, body.text);
        run.catch(failed);
      });
    }
    if (req.method === 'GET' && url.startsWith('/api/v1/inventory/')) return void this.#inventory(res, url).catch((e: unknown) => this.#unavailable(res, e));
    if (req.method === 'GET' && url === '/healthz') return this.#healthz(res);
    if (req.method === 'GET' && url === '/metrics') return void this.#metrics(res).catch((e: unknown) => this.#unavailable(res, e));
    if (req.method === 'GET' && url === '/admin/orders') return void this.#orders(req, res).catch((e: unknown) => this.#unavailable(res, e));
    req.resume();
    this.#canned(res, CANNED.notFound);
  };

  /** The body and key of a reserve or checkout; null when it answered 4xx. */
  #purchase(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): Purchase | null {
    const o = this.#o;
    const { sku: skuId, userId, qty } = body;
    if (typeof skuId !== 'string') return this.#error(res, 400, 'bad_request', 'sku must be a string'), null;
    if (typeof userId !== 'string' || userId === '' || Buffer.byteLength(userId) > MAX_USER_ID_BYTES) {
      return this.#error(res, 400, 'bad_request', `userId must be a non-empty string of at most ${MAX_USER_ID_BYTES} bytes`), null;
    }
    if (!userId.isWellFormed()) return this.#error(res, 400, 'bad_request', 'userId must be well-formed Unicode (no lone surrogates)'), null;
    if (typeof qty !== 'number' || !Number.isInteger(qty) || qty <= 0 || qty > MAX_QTY) return this.#error(res, 400, 'bad_request', 'qty must be a whole number ≥ 1'), null;
    const sku = this.#skuIndex.get(skuId);
    if (sku === undefined) return this.#error(res, 404, 'unknown_sku', `no SKU ${JSON.stringify(skuId).slice(0, 80)} in this sale`), null;
    const opens = o.sale.opensAtEpochMs;
    if (opens !== null && Date.now() < opens) return this.#error(res, 403, 'sale_not_started', `the sale opens at ${new Date(opens).toISOString()}`), null;
    const key = this.#key(req, res);
    if (key === undefined) return null;
    return { sku, skuId, userId, qty, key };
  }

  /** The request's Idempotency-Key, null without one, undefined when it answered 400. */
  #key(req: IncomingMessage, res: ServerResponse): string | null | undefined {
    const rawKey = req.headers['idempotency-key'];
    if (rawKey !== undefined && (typeof rawKey !== 'string' || rawKey.length === 0 || rawKey.length > MAX_KEY_LENGTH)) {
      return this.#error(res, 400, 'bad_request', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`), undefined;
    }
    return rawKey ?? null;
  }

  async #reserve(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>, text: string): Promise<void> {
    const p = this.#purchase(req, res, body);
    if (p !== null) await this.#reservations.reserve(res, p, text);
  }

  async #pay(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>, text: string): Promise<void> {
    if (typeof body.reservationId !== 'string' || body.reservationId === '') return this.#error(res, 400, 'bad_request', 'reservationId must be a non-empty string');
    const key = this.#key(req, res);
    if (key !== undefined) await this.#reservations.pay(res, body.reservationId, key, text);
  }

  async #checkout(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>, text: string): Promise<void> {
    const o = this.#o;
    const p = this.#purchase(req, res, body);
    if (p === null) return;
    const { sku, skuId, userId, qty, key } = p;
    const links = o.links;
    // A failed commit leaves units held and the writer maybe dead: nothing more is taken until a rebuild
    // proved the ledger answers again (see store-links.ts).
    if (links.ledgerDown) return this.#error(res, 503, 'ledger_unavailable', 'the order ledger (PostgreSQL) is unavailable; retry shortly', ['retry-after', '1']);
    const print = key === null ? 0 : fingerprint(ROUTE.checkout, text);
    const holdId = this.#orderPrefix + (this.#seq++).toString(36);
    const hold: HoldRef = { sku, qty, userId, limit: o.sale.perUserLimit, key, holdId };
    let epoch: number;
    for (const until = Date.now() + REPLAY_WAIT_MS; ; ) {
      let r;
      try {
        r = await links.store.take({ ...hold, fingerprint: print });
      } catch (e) {
        return this.#unavailable(res, e);
      }
      if (r.kind === 'taken') {
        epoch = r.epoch;
        break;
      }
      if (r.kind === 'sold_out') return this.#refuse(res, hold, print, null, 409, 'sold_out', `SKU ${skuId} is sold out`);
      if (r.kind === 'limit') return this.#refuse(res, hold, print, null, 429, 'limit_exceeded', `at most ${o.sale.perUserLimit} units per user in this sale`);
      if (r.kind === 'mismatch') return this.#error(res, 422, 'idempotency_key_reused', 'this Idempotency-Key was first used with a different request');
      if (r.kind === 'missing') {
        links.stockMissing();
        return this.#error(res, 503, 'stock_rebuilding', 'the stock store lost the sale and is being rebuilt from the ledger; retry shortly', ['retry-after', '1']);
      }
      if (r.answer !== null) {
        const kept = replayOf(r.answer);
        return this.#done(res, kept.status, kept.body, ['idempotent-replayed', 'true']);
      }
      if (Date.now() >= until) return this.#error(res, 409, 'request_in_progress', 'a request with this Idempotency-Key is still being processed');
      await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
    }
    const latency = o.sale.payment.latencyMs;
    if (latency > 0) await paymentDelay(latency);
    if (this.#payment.declines(o.sale.payment.declineRate)) {
      // A lost release leaves the units held: never sold twice; a rebuild frees them.
      const back = await links.store.release([hold]).then(() => true, () => false);
      return this.#refuse(res, hold, print, epoch, 402, 'payment_declined', back ? 'the payment was declined; the units went back on sale'
        : 'the payment was declined; the units could not be given back yet (the stock store did not answer) and will be when the stock is next rebuilt');
    }
    let refused: string | null;
    try {
      refused = await links.committer.append({ orderId: holdId, sku: skuId, userId, qty, createdAt: Date.now(), key, fingerprint: key === null ? null : print, epoch });
    } catch (e) {
      // The batch did not commit — or did, and the answer was lost: the units stay held (see store-links.ts).
      links.ledgerFailed(messageOf(e));
      return this.#error(res, 503, 'ledger_unavailable', `the order could not be made durable: ${messageOf(e)}; retry shortly`, ['retry-after', '1']);
    }
    if (refused !== null) {
      await links.store.release([hold]).catch(() => {});
      if (refused.startsWith('stale stock epoch')) return this.#error(res, 503, 'stock_rebuilt', `the stock was rebuilt from the ledger while this order was taken (${refused}); retry`, ['retry-after', '1']);
      return this.#refuse(res, hold, print, epoch, 409, 'order_refused', `the ledger refused the order: ${refused}`);
    }
    const answer = `{"orderId":"${holdId}"}`;
    this.#confirm({ ...hold, answer });
    this.#done(res, 201, answer);
  }

  /**
   * A checkout refused for good (409 sold_out, 429, 402, 409 order_refused): a keyed one keeps its answer
   * for retries on any process, as in-process. `epoch`: the stock epoch its units were taken under, if any.
   */
  async #refuse(res: ServerResponse, hold: HoldRef, print: number, epoch: number | null, status: number, code: string, message: string): Promise<void> {
    const body = errorBody(code, message);
    const kept = keyAnswer(status, body);
    if (hold.key !== null && kept !== null) {
      await this.#o.links.reservations.keyRemember({ sku: hold.sku, userId: hold.userId, key: hold.key, fingerprint: print, holdId: hold.holdId }, kept, epoch).catch(() => {});
    }
    this.#done(res, status, body);
  }

  /** Holds of durable orders become sold in Redis, batched per tick. A lost confirm leaves them held (counted sold by the next rebuild). */
  #confirm(h: HoldRef & { answer: string }): void {
    if (this.#confirms.push(h) > 1) return;
    setImmediate(() => {
      const batch = this.#confirms;
      this.#confirms = [];
      this.#o.links.store.confirm(batch).catch(() => {});
    });
  }

  async #inventory(res: ServerResponse, url: string): Promise<void> {
    let id: string;
    try {
      id = decodeURIComponent(url.slice(url.lastIndexOf('/') + 1));
    } catch {
      id = '';
    }
    const sku = this.#skuIndex.get(id);
    if (sku === undefined) return this.#send(res, 404, errorBody('unknown_sku', 'no such SKU in this sale'));
    const snap = await this.#o.links.store.snapshot(sku);
    if (snap === null) {
      this.#o.links.stockMissing();
      return this.#send(res, 503, errorBody('stock_rebuilding', 'the stock store lost the sale and is being rebuilt from the ledger'), ['retry-after', '1']);
    }
    this.#send(res, 200, JSON.stringify({ initial: snap.initial, available: snap.available, reserved: snap.held, sold: snap.sold }));
  }

  /** The in-process service's Prometheus page (this process's threads; the sale's stock from Redis) and the stores' round trips and errors. */
  async #metrics(res: ServerResponse): Promise<void> {
    const o = this.#o;
    const m = o.metrics;
    const stock: StockLine[] = [];
    try {
      for (let sku = 0; sku < o.sale.skus.length; sku++) {
        const snap = await o.links.store.snapshot(sku);
        if (snap !== null) stock.push({ sku: o.sale.skus[sku].id, initial: snap.initial, available: snap.available, reserved: snap.held, sold: snap.sold });
      }
    } catch {
      // Redis away: the page still answers (its error counters say why), without stock lines.
    }
    const text = renderPrometheus(m.requests, m.threads, stock, sumBuffers(m.commits), o.saleId) + renderStoreStats(m.stores, m.threads);
    this.#count(res, 200);
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(200, ['content-type', 'text/plain; version=0.0.4; charset=utf-8', 'content-length', String(Buffer.byteLength(text))]);
      res.end(text);
    }
  }

  #healthz(res: ServerResponse): void {
    const links = this.#o.links;
    if (links.ledgerDown) return this.#send(res, 503, JSON.stringify({ status: 'unhealthy', problems: ['ledger_unavailable'] }));
    if (links.rebuilding) return this.#send(res, 503, JSON.stringify({ status: 'unhealthy', problems: ['stock_rebuilding'] }));
    this.#canned(res, CANNED.health);
  }

  async #orders(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    if (this.#expected === undefined) return this.#canned(res, CANNED.notFound);
    const got = createHash('sha256').update(String(req.headers.authorization ?? '')).digest();
    if (!timingSafeEqual(got, this.#expected)) return this.#canned(res, CANNED.unauthorized);
    // The first page before the head: a ledger that is down answers 503, not a cut 200.
    let page = await this.#o.links.ledger.pageNdjson(this.#o.saleId, 0, ORDERS_PAGE);
    res.writeHead(200, ['content-type', 'application/x-ndjson']);
    for (let pages = 0; pages < 1_000_000; pages++) {
      if (page.ndjson !== '' && !res.write(page.ndjson)) await new Promise((resolve) => res.once('drain', resolve));
      if (page.count < ORDERS_PAGE) break;
      page = await this.#o.links.ledger.pageNdjson(this.#o.saleId, page.lastSeq, ORDERS_PAGE);
    }
    res.end();
  }

  #unavailable(res: ServerResponse, e: unknown): void {
    if (res.headersSent) return void res.destroy();
    if (e instanceof StoreUnavailableError) {
      const what = /ledger/i.test(e.message) ? 'ledger_unavailable' : 'store_unavailable';
      return this.#error(res, 503, what, e.message, ['retry-after', '1']);
    }
    this.#error(res, 500, 'internal_error', messageOf(e));
  }

  #error(res: ServerResponse, status: number, code: string, message: string, extra: string[] = []): void {
    this.#done(res, status, errorBody(code, message), extra);
  }

  /** Answers a checkout (counted in flight) and counts it. */
  #done(res: ServerResponse, status: number, body: string | Buffer, extra: string[] = []): void {
    this.#send(res, status, body, extra);
    this.#o.counters.inFlight = --this.#inFlight;
    if (this.#inFlight === 0) for (const go of this.#idle.splice(0)) go();
  }

  #send(res: ServerResponse, status: number, body: string | Buffer, extra: string[] = []): void {
    this.#count(res, status);
    if (!res.headersSent && !res.destroyed) sendJson(res, status, body, extra);
  }

  #count(res: ServerResponse, status: number): void {
    this.counts[status] = (this.counts[status] ?? 0) + 1;
    this.#o.counters.count(this.#routes.get(res) ?? ROUTE.unmatched, status);
  }

  #canned(res: ServerResponse, c: (typeof CANNED)[keyof typeof CANNED]): void {
    this.#count(res, c.status);
    sendCanned(res, c);
  }

  /** Refuses new requests and resolves once every checkout in flight has its answer (its order committed or failed). */
  drain(): Promise<void> {
    this.#closing = true;
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}

function routeOf(method: string | undefined, url: string): number {
  if (method === 'POST') {
    if (url === '/api/v1/checkout') return ROUTE.checkout;
    if (url === '/api/v1/reservations') return ROUTE.reserve;
    if (url === '/api/v1/orders') return ROUTE.pay;
  } else if (method === 'GET') {
    if (url.startsWith('/api/v1/inventory/')) return ROUTE.inventory;
    if (url === '/healthz') return ROUTE.healthz;
    if (url === '/metrics') return ROUTE.metrics;
    if (url === '/admin/orders') return ROUTE.admin_orders;
  } else if (method === 'DELETE' && url.startsWith('/api/v1/reservations/')) return ROUTE.release;
  return ROUTE.unmatched;
}
