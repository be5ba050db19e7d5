// The buying flows: reserve, pay, one-step checkout, release. Stock first (sold-out is the common
// answer in a flash sale and the cheapest), then the user's allowance, then the simulated payment,
// then the ledger: a 201 with an order id goes out only once the ledger committed the order.
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { CapacityError } from '../errors.ts';
import { canned, errorBody, type Canned } from './reply.ts';
import { ROUTE } from './prometheus.ts';
import { MAX_USER_ID_BYTES, type Hold } from './reservations.ts';
import { MAX_KEY_LENGTH, fingerprint } from './idempotency.ts';
import { PaymentSimulator, paymentDelay } from './payment.ts';
import type { SaleState } from './state.ts';
import type { LedgerClient } from './ledger-client.ts';
import type { Exchange, Responder } from './exchange.ts';

const MAX_QTY = 2 ** 31 - 1;
const IDEMPOTENT_WAIT_MS = 30_000;

interface Purchase { sku: number; skuId: string; userId: string; qty: number }

/** The thread's current sale and whether buying is paused (a recovery after a crashed thread). */
export interface SaleGate {
  readonly saleState: SaleState;
  whenResumed(): Promise<void>;
}

export class Purchases {
  private readonly responder: Responder;
  private readonly ledger: LedgerClient;
  private readonly payment: PaymentSimulator;
  private readonly orderPrefix: string;
  private orderSeq = 0;
  // Prebuilt 409 answers per SKU, per sale (a request started before a redefinition keeps its sale).
  private readonly soldOut = new WeakMap<SaleState, Canned[]>();
  private readonly gate: SaleGate;

  constructor(responder: Responder, ledger: LedgerClient, threadIndex: number, seed: number, gate: SaleGate) {
    this.responder = responder;
    this.ledger = ledger;
    this.gate = gate;
    this.payment = new PaymentSimulator((seed ^ Math.imul(threadIndex + 1, 0x9e3779b1)) >>> 0);
    // Random per thread and process: order ids never repeat across threads or restarts.
    this.orderPrefix = `o${randomBytes(6).toString('base64url')}${threadIndex.toString(36)}-`;
  }

  /** POST reservations, orders, checkout, once the JSON body is parsed. */
  handle(req: IncomingMessage, exchange: Exchange, body: Record<string, unknown>, text: string): void {
    const state = exchange.state;
    let purchase: Purchase | null = null;
    let reservationId = '';
    if (exchange.route === ROUTE.pay) {
      if (typeof body.reservationId !== 'string' || body.reservationId === '') {
        return this.responder.error(exchange, 400, 'bad_request', 'reservationId must be a non-empty string');
      }
      reservationId = body.reservationId;
    } else {
      const p = this.validatePurchase(exchange, body);
      if (p === null) return;
      purchase = p;
      const opens = state.sale.opensAtEpochMs;
      if (opens !== null && Date.now() < opens) {
        return this.responder.error(exchange, 403, 'sale_not_started', `the sale opens at ${new Date(opens).toISOString()}`);
      }
    }
    const key = req.headers['idempotency-key'];
    if (key !== undefined) {
      if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
        return this.responder.error(exchange, 400, 'bad_request', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`);
      }
      exchange.key = key;
      exchange.fingerprint = fingerprint(exchange.route, text);
      return void this.once(exchange, () => this.runPurchase(exchange, purchase, reservationId)).catch((e) => this.responder.fail(exchange, e));
    }
    this.runPurchase(exchange, purchase, reservationId);
  }

  private runPurchase(exchange: Exchange, purchase: Purchase | null, reservationId: string): void {
    if (exchange.route === ROUTE.pay) this.pay(exchange, reservationId);
    else if (exchange.route === ROUTE.checkout) this.checkout(exchange, purchase!); // parsed above for the buying routes
    else this.reserve(exchange, purchase!); // parsed above for the buying routes
  }

  /** Runs `run` once per key: later requests with the key get the first answer, even mid-flight. */
  private async once(exchange: Exchange, run: () => void): Promise<void> {
    const deadline = Date.now() + IDEMPOTENT_WAIT_MS;
    for (;;) {
      const b = exchange.state.idempotency.begin(exchange.key!, exchange.fingerprint); // this branch runs only with an Idempotency-Key
      if (b.kind === 'run') {
        exchange.slot = b.slot;
        return run();
      }
      if (b.kind === 'answered') return this.responder.send(exchange, b.status, b.body, ['idempotent-replayed', 'true']);
      if (b.kind === 'mismatch') return this.responder.error(exchange, 422, 'idempotency_key_reused', 'this Idempotency-Key was first used with a different request');
      if (b.kind === 'full') return this.responder.error(exchange, 503, 'idempotency_table_full', 'no room to remember this Idempotency-Key; retry later', ['retry-after', '1']);
      const left = deadline - Date.now();
      if (left <= 0) return this.responder.error(exchange, 409, 'request_in_progress', 'a request with this Idempotency-Key is still being processed');
      await exchange.state.idempotency.waitFor(b.slot, left);
      // The first attempt may have died with its thread: a recovery then releases the key while buying is
      // paused. Run only once it resumes, on the sale's rebuilt state (same sale, same tables, new stock).
      await this.gate.whenResumed();
      const now = this.gate.saleState;
      if (now !== exchange.state && now.saleId === exchange.state.saleId) exchange.state = now;
    }
  }

  private validatePurchase(exchange: Exchange, body: Record<string, unknown>): Purchase | null {
    const { sku: skuId, userId, qty } = body;
    if (typeof skuId !== 'string') return this.responder.error(exchange, 400, 'bad_request', 'sku must be a string'), null;
    if (typeof userId !== 'string' || userId === '' || Buffer.byteLength(userId) > MAX_USER_ID_BYTES) {
      return this.responder.error(exchange, 400, 'bad_request', `userId must be a non-empty string of at most ${MAX_USER_ID_BYTES} bytes`), null;
    }
    // A lone surrogate (JSON "\ud800") has no UTF-8 form: stored, it would become U+FFFD and merge ids.
    if (!userId.isWellFormed()) return this.responder.error(exchange, 400, 'bad_request', 'userId must be well-formed Unicode (no lone surrogates)'), null;
    if (typeof qty !== 'number' || !Number.isInteger(qty) || qty <= 0 || qty > MAX_QTY) {
      return this.responder.error(exchange, 400, 'bad_request', 'qty must be a whole number ≥ 1'), null;
    }
    const sku = exchange.state.skuIndex.get(skuId);
    if (sku === undefined) return this.responder.error(exchange, 404, 'unknown_sku', `no SKU ${JSON.stringify(skuId).slice(0, 80)} in this sale`), null;
    return { sku, skuId, userId, qty };
  }

  /** Takes stock, then the user's allowance; false (and answered) when either says no. */
  private take(exchange: Exchange, p: Purchase): boolean {
    const state = exchange.state;
    if (!state.stock.tryTake(p.sku, p.qty)) {
      this.responder.reply(exchange, this.soldOutReply(state, p.sku));
      return false;
    }
    this.responder.hold(exchange);
    const users = state.users;
    if (users === null) {
      state.hold(p.sku, p.qty);
      return true;
    }
    let ok: boolean;
    try {
      ok = users.tryAcquire(p.userId, p.qty, state.sale.perUserLimit);
    } catch (e) {
      state.stock.release(p.sku, p.qty);
      if (e instanceof CapacityError) {
        this.responder.error(exchange, 503, 'user_table_full', 'the per-user limit table is full', ['retry-after', '1']);
        return false;
      }
      throw e;
    }
    if (!ok) {
      state.stock.release(p.sku, p.qty);
      this.responder.error(exchange, 429, 'limit_exceeded', `at most ${state.sale.perUserLimit} units per user in this sale`);
      return false;
    }
    state.hold(p.sku, p.qty);
    return true;
  }

  private checkout(exchange: Exchange, p: Purchase): void {
    if (!this.take(exchange, p)) return;
    const latencyMs = exchange.state.sale.payment.latencyMs;
    if (latencyMs === 0) return this.settle(exchange, p, null);
    paymentDelay(latencyMs)
      .then(() => this.settle(exchange, p, null))
      .catch((e) => this.responder.fail(exchange, e));
  }

  private reserve(exchange: Exchange, p: Purchase): void {
    if (!this.take(exchange, p)) return;
    const state = exchange.state;
    const expiresAt = Date.now() + state.sale.reservationTtlMs;
    const hold = state.reservations.create(p.sku, p.qty, p.userId, expiresAt);
    if (hold === null) {
      state.giveBack(p.sku, p.qty, p.userId);
      return this.responder.error(exchange, 503, 'reservation_table_full', 'no room for another reservation; retry later', ['retry-after', '1']);
    }
    const reservationId = `${state.shared.nonce}-${hold.slot.toString(36)}-${hold.gen.toString(36)}`;
    this.responder.send(exchange, 201, `{"reservationId":"${reservationId}","expiresAt":"${new Date(expiresAt).toISOString()}"}`);
  }

  private pay(exchange: Exchange, reservationId: string): void {
    const state = exchange.state;
    const id = parseReservationId(reservationId, state.shared.nonce);
    if (id === null) return this.responder.error(exchange, 404, 'reservation_not_found', 'no such reservation');
    const c = state.reservations.claim(id.slot, id.gen, Date.now());
    if (c.kind === 'unknown') return this.responder.error(exchange, 404, 'reservation_not_found', 'no such reservation');
    if (c.kind === 'gone') return this.responder.error(exchange, 410, 'reservation_expired', 'the reservation expired or was already used');
    if (c.kind === 'busy') return this.responder.error(exchange, 409, 'reservation_busy', 'another request is paying or releasing this reservation');
    this.responder.hold(exchange);
    const hold = c.hold;
    if (c.expired) {
      this.endHold(exchange.state, hold);
      return this.responder.error(exchange, 410, 'reservation_expired', 'the reservation expired; its units went back on sale');
    }
    const p: Purchase = { sku: hold.sku, skuId: state.sale.skus[hold.sku].id, userId: hold.userId, qty: hold.qty };
    const latencyMs = state.sale.payment.latencyMs;
    if (latencyMs === 0) return this.settle(exchange, p, hold);
    paymentDelay(latencyMs)
      .then(() => this.settle(exchange, p, hold))
      .catch((e) => this.responder.fail(exchange, e));
  }

  private endHold(state: SaleState, hold: Hold): void {
    state.giveBack(hold.sku, hold.qty, hold.userId);
    state.reservations.free(hold.slot);
  }

  /**
   * The simulated payment's answer: approved, the order goes to the ledger; declined, the units
   * (and the hold, when paying one) go back and the answer is 402.
   */
  private settle(exchange: Exchange, p: Purchase, hold: Hold | null): void {
    if (!this.payment.declines(exchange.state.sale.payment.declineRate)) return this.order(exchange, p, hold);
    if (hold) this.endHold(exchange.state, hold);
    else exchange.state.giveBack(p.sku, p.qty, p.userId);
    this.responder.error(exchange, 402, 'payment_declined', 'the payment was declined; the units went back on sale');
  }

  /** Hands the order to the ledger; the 201 goes out only once its batch is committed. */
  private order(exchange: Exchange, p: Purchase, hold: Hold | null): void {
    const state = exchange.state;
    const orderId = this.orderPrefix + (this.orderSeq++).toString(36);
    this.ledger.append(state.saleId, orderId, p.skuId, p.userId, p.qty, Date.now(), exchange.key, exchange.fingerprint, (err) => {
      if (hold) state.reservations.free(hold.slot);
      if (err !== null) {
        state.giveBack(p.sku, p.qty, p.userId);
        return this.responder.error(exchange, 500, 'ledger_error', `the order could not be made durable: ${err}`);
      }
      state.confirm(p.sku, p.qty);
      this.responder.send(exchange, 201, `{"orderId":"${orderId}"}`);
    });
  }

  /** DELETE /api/v1/reservations/:id */
  release(exchange: Exchange, reservationId: string): void {
    const state = exchange.state;
    const id = parseReservationId(reservationId, state.shared.nonce);
    const c = id === null ? null : state.reservations.claim(id.slot, id.gen, Date.now());
    if (c === null || c.kind === 'unknown' || c.kind === 'gone') return this.responder.error(exchange, 404, 'reservation_not_found', 'no such reservation (expired, paid or never made)');
    if (c.kind === 'busy') return this.responder.error(exchange, 409, 'reservation_busy', 'another request is paying or releasing this reservation');
    this.endHold(state, c.hold);
    this.responder.send(exchange, 204, '');
  }

  private soldOutReply(state: SaleState, sku: number): Canned {
    let answers = this.soldOut.get(state);
    if (answers === undefined) {
      answers = state.sale.skus.map((s) => canned(409, errorBody('sold_out', `SKU ${s.id} is sold out`)));
      this.soldOut.set(state, answers);
    }
    return answers[sku];
  }
}

function parseReservationId(id: string, nonce: string): { slot: number; gen: number } | null {
  const parts = id.split('-');
  if (parts.length !== 3 || parts[0] !== nonce) return null;
  const slot = parseInt(parts[1], 36);
  const gen = parseInt(parts[2], 36);
  return Number.isFinite(slot) && Number.isFinite(gen) ? { slot, gen } : null;
}
