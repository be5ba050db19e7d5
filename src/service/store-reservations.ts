// Reservations on the shared stores: POST /api/v1/reservations, POST /api/v1/orders, DELETE
// /api/v1/reservations/:id, with the in-process service's answers (src/service/purchases.ts), across any
// number of processes.
//
//   reserve  one script call takes stock, allowance and key and holds them until expiresAt (Redis: the
//            hold + an entry in the SKU's expiry set); the reservation's row is committed in PostgreSQL
//            (fenced by the stock epoch) before the 201, so a rebuild counts it
//   pay      removing the expiry entry claims the hold (one winner among racing pays, releases and
//            sweepers); the order — whose id IS the reservation id, so a reservation can be sold once
//            even if a rebuild brought it back — commits in PostgreSQL before the 201; then the hold
//            becomes sold in Redis
//   release  claim, the row marked released in PostgreSQL, then units and allowance back in Redis
//   expiry   every process sweeps every 100 ms: one script per SKU expires what is due, atomically
//
// A hold claimed by a pay whose process then died stays held (neither paid nor expired) until the next
// rebuild, which counts it as open (no order) or sold (an order) — the checkout's rule for in-flight holds.
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { messageOf } from '../errors.ts';
import { fingerprint } from './idempotency.ts';
import { ROUTE } from './prometheus.ts';
import { PaymentSimulator, paymentDelay } from './payment.ts';
import type { SaleDefinition } from './sale.ts';
import type { StoreLinks } from './store-links.ts';
import type { ReservedHold } from '../stores/redis/reservations.ts';

const SWEEP_MS = 100;
const REPLAY_WAIT_MS = 5000;
const REPLAY_POLL_MS = 20;
const MAX_ID_LENGTH = 128;

/** How the app answers (counted as in flight, as a checkout is). */
export interface StoreReplies {
  error(res: ServerResponse, status: number, code: string, message: string, extra?: string[]): void;
  done(res: ServerResponse, status: number, body: string, extra?: string[]): void;
  unavailable(res: ServerResponse, e: unknown): void;
}

export interface Purchase { sku: number; skuId: string; userId: string; qty: number; key: string | null }

export class StoreReservations {
  readonly #sale: SaleDefinition;
  readonly #saleId: number;
  readonly #links: StoreLinks;
  readonly #reply: StoreReplies;
  readonly #payment: PaymentSimulator;
  readonly #prefix: string;
  #seq = 0;
  #timer: NodeJS.Timeout | null = null;
  #sweeping = false;
  /** Reservations this thread's sweeps expired (for tests and /metrics). */
  expired = 0;

  constructor(o: { sale: SaleDefinition; saleId: number; links: StoreLinks; reply: StoreReplies; threadIndex: number; payment: PaymentSimulator }) {
    this.#sale = o.sale;
    this.#saleId = o.saleId;
    this.#links = o.links;
    this.#reply = o.reply;
    this.#payment = o.payment;
    // Random per thread and process: ids never repeat across processes sharing the stores.
    this.#prefix = `r${randomBytes(6).toString('base64url')}${o.threadIndex.toString(36)}-`;
  }

  /** Starts this thread's share of the expiry sweep (every process sweeps; the script makes racing sweeps safe). */
  startSweeper(): void {
    this.#timer = setInterval(() => void this.sweepOnce(), SWEEP_MS);
    this.#timer.unref();
  }

  async sweepOnce(now = Date.now()): Promise<number> {
    if (this.#sweeping) return 0;
    this.#sweeping = true;
    let n = 0;
    try {
      for (let sku = 0; sku < this.#sale.skus.length; sku++) n += await this.#links.reservations.sweep(sku, now);
    } catch {
      // Redis away: the next tick tries again; a rebuild reloads only what has not expired.
    } finally {
      this.#sweeping = false;
    }
    this.expired += n;
    return n;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async reserve(res: ServerResponse, p: Purchase, text: string): Promise<void> {
    const links = this.#links;
    const reply = this.#reply;
    if (links.ledgerDown) return reply.error(res, 503, 'ledger_unavailable', 'the order ledger (PostgreSQL) is unavailable; retry shortly', ['retry-after', '1']);
    const print = p.key === null ? 0 : fingerprint(ROUTE.reserve, text);
    const holdId = `${this.#prefix}${(this.#seq++).toString(36)}.${p.sku.toString(36)}`;
    const limit = this.#sale.perUserLimit;
    let epoch: number;
    let expiresAt: number;
    for (const until = Date.now() + REPLAY_WAIT_MS; ; ) {
      expiresAt = Date.now() + this.#sale.reservationTtlMs;
      let r;
      try {
        r = await links.reservations.reserve({ sku: p.sku, qty: p.qty, userId: p.userId, limit, key: p.key, fingerprint: print, holdId }, expiresAt);
      } catch (e) {
        return reply.unavailable(res, e);
      }
      if (r.kind === 'taken') {
        epoch = r.epoch;
        break;
      }
      if (r.kind === 'sold_out') return reply.error(res, 409, 'sold_out', `SKU ${p.skuId} is sold out`);
      if (r.kind === 'limit') return reply.error(res, 429, 'limit_exceeded', `at most ${limit} units per user in this sale`);
      if (r.kind === 'mismatch') return reply.error(res, 422, 'idempotency_key_reused', 'this Idempotency-Key was first used with a different request');
      if (r.kind === 'missing') {
        links.stockMissing();
        return reply.error(res, 503, 'stock_rebuilding', 'the stock store lost the sale and is being rebuilt from the ledger; retry shortly', ['retry-after', '1']);
      }
      if (r.answer !== null) return reply.done(res, 201, r.answer, ['idempotent-replayed', 'true']);
      if (Date.now() >= until) return reply.error(res, 409, 'request_in_progress', 'a request with this Idempotency-Key is still being processed');
      await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
    }
    const answer = `{"reservationId":"${holdId}","expiresAt":"${new Date(expiresAt).toISOString()}"}`;
    // Not recorded: the units go back at once (a row that did commit unseen is open in the ledger but gone
    // from Redis: paying it answers 410; a rebuild before it expires holds its units until it does).
    const undo = async () => {
      await links.reservations.drop(p.sku, [holdId]).catch(() => {});
      if (p.key !== null) await links.reservations.keyEnd(p.sku, p.key, holdId, null).catch(() => {});
    };
    let refused: string | null;
    try {
      refused = await links.pgReservations.insert({
        reservationId: holdId, saleId: this.#saleId, sku: p.skuId, userId: p.userId, qty: p.qty, createdAt: Date.now(), expiresAt,
        key: p.key, fingerprint: p.key === null ? null : print, answer, epoch,
      });
    } catch (e) {
      await undo();
      return reply.error(res, 503, 'ledger_unavailable', `the reservation could not be made durable: ${messageOf(e)}; retry shortly`, ['retry-after', '1']);
    }
    if (refused !== null) {
      await undo();
      if (refused.startsWith('stale stock epoch')) return reply.error(res, 503, 'stock_rebuilt', `the stock was rebuilt from the ledger while this reservation was taken (${refused}); retry`, ['retry-after', '1']);
      return reply.error(res, 409, 'reservation_refused', `the ledger refused the reservation: ${refused}`);
    }
    if (p.key !== null) await links.reservations.keyEnd(p.sku, p.key, holdId, answer).catch(() => {});
    reply.done(res, 201, answer);
  }

  /** POST /api/v1/orders {reservationId} */
  async pay(res: ServerResponse, reservationId: string, key: string | null, text: string): Promise<void> {
    const links = this.#links;
    const reply = this.#reply;
    const sku = this.#skuOf(reservationId);
    if (sku === null) return reply.error(res, 404, 'reservation_not_found', 'no such reservation');
    if (links.ledgerDown) return reply.error(res, 503, 'ledger_unavailable', 'the order ledger (PostgreSQL) is unavailable; retry shortly', ['retry-after', '1']);
    if (key !== null) {
      const print = fingerprint(ROUTE.pay, text);
      for (const until = Date.now() + REPLAY_WAIT_MS; ; ) {
        let b;
        try {
          b = await links.reservations.keyBegin(sku, key, print, reservationId);
        } catch (e) {
          return reply.unavailable(res, e);
        }
        if (b.kind === 'run') break;
        if (b.kind === 'mismatch') return reply.error(res, 422, 'idempotency_key_reused', 'this Idempotency-Key was first used with a different request');
        if (b.answer !== null) return reply.done(res, 201, b.answer, ['idempotent-replayed', 'true']);
        if (Date.now() >= until) return reply.error(res, 409, 'request_in_progress', 'a request with this Idempotency-Key is still being processed');
        await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
      }
      // Only a 201 is kept for the key: any other ending forgets it, and a retry runs again.
      let answer: string | null = null;
      try {
        answer = await this.#pay(res, reservationId, sku, key, print);
      } finally {
        await links.reservations.keyEnd(sku, key, reservationId, answer).catch(() => {});
      }
      if (answer !== null) reply.done(res, 201, answer);
      return;
    }
    const answer = await this.#pay(res, reservationId, sku, null, null);
    if (answer !== null) reply.done(res, 201, answer);
  }

  /** Pays a reservation; returns the 201 body (not yet sent), or null when it answered otherwise. */
  async #pay(res: ServerResponse, id: string, sku: number, key: string | null, print: number | null): Promise<string | null> {
    const links = this.#links;
    const reply = this.#reply;
    let c;
    try {
      c = await links.reservations.claim(sku, id);
    } catch (e) {
      return reply.unavailable(res, e), null;
    }
    if (c.kind === 'missing') {
      links.stockMissing();
      return reply.error(res, 503, 'stock_rebuilding', 'the stock store lost the sale and is being rebuilt from the ledger; retry shortly', ['retry-after', '1']), null;
    }
    if (c.kind === 'busy') return reply.error(res, 409, 'reservation_busy', 'another request is paying or releasing this reservation'), null;
    if (c.kind === 'gone') return (await this.#gone(res, id, 410)), null;
    const hold = c.hold;
    if (hold.expiresAt <= Date.now()) {
      await links.reservations.drop(sku, [id]).catch(() => {}); // a lost drop: the sweeper cannot see it, a rebuild will (expired: not counted)
      return reply.error(res, 410, 'reservation_expired', 'the reservation expired; its units went back on sale'), null;
    }
    const latency = this.#sale.payment.latencyMs;
    if (latency > 0) await paymentDelay(latency);
    if (this.#payment.declines(this.#sale.payment.declineRate)) {
      await this.#end(hold);
      return reply.error(res, 402, 'payment_declined', 'the payment was declined; the units went back on sale'), null;
    }
    let refused: string | null;
    try {
      refused = await links.committer.append({ orderId: id, sku: this.#sale.skus[sku].id, userId: hold.userId, qty: hold.qty, createdAt: Date.now(), key, fingerprint: print, epoch: c.epoch });
    } catch (e) {
      // The order may have committed with its answer lost: the hold stays claimed; the rebuild decides (see store-links.ts).
      links.ledgerFailed(messageOf(e));
      return reply.error(res, 503, 'ledger_unavailable', `the order could not be made durable: ${messageOf(e)}; retry shortly`, ['retry-after', '1']), null;
    }
    if (refused !== null) {
      // Stale epoch: the rebuild brought this reservation back as open (no order yet): it stays payable.
      if (refused.startsWith('stale stock epoch')) return reply.error(res, 503, 'stock_rebuilt', `the stock was rebuilt from the ledger while this reservation was paid (${refused}); retry`, ['retry-after', '1']), null;
      if (refused.startsWith('duplicate order id')) return reply.error(res, 410, 'reservation_expired', 'the reservation was already paid'), null;
      await links.reservations.unclaim(hold).catch(() => {});
      return reply.error(res, 409, 'order_refused', `the ledger refused the order: ${refused}`), null;
    }
    const answer = `{"orderId":"${id}"}`;
    // A lost confirm leaves the units held in Redis; the next rebuild counts them sold (the order exists).
    await links.store.confirm([{ sku, qty: hold.qty, userId: hold.userId, limit: this.#sale.perUserLimit, key: null, holdId: id, answer }]).catch(() => {});
    return answer;
  }

  /** DELETE /api/v1/reservations/:id */
  async release(res: ServerResponse, id: string): Promise<void> {
    const links = this.#links;
    const reply = this.#reply;
    const sku = this.#skuOf(id);
    if (sku === null) return reply.error(res, 404, 'reservation_not_found', 'no such reservation (expired, paid or never made)');
    let c;
    try {
      c = await links.reservations.claim(sku, id);
    } catch (e) {
      return reply.unavailable(res, e);
    }
    if (c.kind === 'missing') {
      links.stockMissing();
      return reply.error(res, 503, 'stock_rebuilding', 'the stock store lost the sale and is being rebuilt from the ledger; retry shortly', ['retry-after', '1']);
    }
    if (c.kind === 'busy') return reply.error(res, 409, 'reservation_busy', 'another request is paying or releasing this reservation');
    if (c.kind === 'gone') return reply.error(res, 404, 'reservation_not_found', 'no such reservation (expired, paid or never made)');
    try {
      await links.pgReservations.release(id, this.#saleId);
    } catch (e) {
      await links.reservations.unclaim(c.hold).catch(() => {});
      return reply.error(res, 503, 'ledger_unavailable', `the release could not be recorded: ${messageOf(e)}; retry shortly`, ['retry-after', '1']);
    }
    await links.reservations.drop(sku, [id]).catch(() => {});
    reply.done(res, 204, '');
  }

  /** A claimed reservation ends without an order (declined): recorded, then its units go back. */
  async #end(hold: ReservedHold): Promise<void> {
    // A release the ledger did not record is still given back: a rebuild before expiry would hold it again until then.
    await this.#links.pgReservations.release(hold.holdId, this.#saleId).catch(() => {});
    await this.#links.reservations.drop(hold.sku, [hold.holdId]).catch(() => {});
  }

  /** An id Redis no longer holds: 404 if the ledger never saw it, else `status` (410). */
  async #gone(res: ServerResponse, id: string, status: number): Promise<void> {
    let fate;
    try {
      fate = await this.#links.pgReservations.fate(id, this.#saleId);
    } catch (e) {
      return this.#reply.unavailable(res, e);
    }
    if (fate === 'unknown') return this.#reply.error(res, 404, 'reservation_not_found', 'no such reservation');
    this.#reply.error(res, status, 'reservation_expired', 'the reservation expired or was already used');
  }

  /** The SKU index a reservation id names, or null when the id cannot be one of this sale's. */
  #skuOf(id: string): number | null {
    if (id.length === 0 || id.length > MAX_ID_LENGTH || id[0] !== 'r') return null;
    const dot = id.lastIndexOf('.');
    const tail = id.slice(dot + 1);
    if (dot < 0 || !/^[0-9a-z]{1,6}$/.test(tail)) return null;
    const sku = parseInt(tail, 36);
    return sku < this.#sale.skus.length ? sku : null;
  }
}

