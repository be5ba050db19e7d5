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
//   release  claim, the row marked released in PostgreSQL (fenced by the stock epoch of the claim: after a
//            rebuild 503 stock_rebuilt, the claim put back, retried), then units and allowance back in Redis
//   expiry   every process sweeps every 100 ms: one script per SKU expires what is due, atomically
//
// On redis-leased the reserve takes its units from the process's lease and moves them to a hold in Redis
// (src/stores/redis/leased-reservations.ts); from there pay, release and expiry are the same.
// Idempotency-Key: a keyed reserve or pay keeps its final answer — a 201 or a 4xx, as in-process — for
// retries on any process; a 5xx (and a 409 reservation_busy, which a dead process's claim can cause
// until the next rebuild) forgets the key, and a retry runs again.
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
import { errorBody } from './reply.ts';
import { keyAnswer, replayOf } from './store-key-answers.ts';
import type { ReservationHolds, ReservedHold } from '../stores/redis/reservations.ts';

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

/** How a reserve or pay ends: an answer (transient: not kept for its key), or a failure unavailable() answers. */
type Outcome = { status: number; body: string; extra?: string[]; transient?: boolean } | { failed: unknown };

function refusal(status: number, code: string, message: string, extra?: string[]): Outcome {
  return { status, body: errorBody(code, message), extra };
}

export class StoreReservations {
  readonly #sale: SaleDefinition;
  readonly #saleId: number;
  readonly #links: StoreLinks;
  readonly #reply: StoreReplies;
  readonly #payment: PaymentSimulator;
  readonly #prefix: string;
  /** The reservations' holds in Redis, the strategy's (store-links.ts chose them). */
  readonly #holds: ReservationHolds;
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
    this.#holds = o.links.reservations;
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
      for (let sku = 0; sku < this.#sale.skus.length; sku++) n += await this.#holds.sweep(sku, now);
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
    const holds = this.#holds;
    if (links.ledgerDown) return reply.error(res, 503, 'ledger_unavailable', 'the order ledger (PostgreSQL) is unavailable; retry shortly', ['retry-after', '1']);
    const print = p.key === null ? 0 : fingerprint(ROUTE.reserve, text);
    const holdId = `${this.#prefix}${(this.#seq++).toString(36)}.${p.sku.toString(36)}`;
    const limit = this.#sale.perUserLimit;
    // The key (in flight for holdId once the store took it) keeps the final answer; a 5xx forgets it.
    const end = (o: Outcome) => this.#end(res, p.sku, p.key, holdId, o);
    // Not recorded: the units go back at once (a row that did commit unseen is open in the ledger but gone
    // from Redis: paying it answers 410; a rebuild before it expires holds its units until it does).
    const undo = () => holds.drop(p.sku, [holdId]).catch(() => 0);
    let epoch: number;
    let expiresAt: number;
    for (const until = Date.now() + REPLAY_WAIT_MS; ; ) {
      expiresAt = Date.now() + this.#sale.reservationTtlMs;
      let r;
      try {
        r = await holds.reserve({ sku: p.sku, qty: p.qty, userId: p.userId, limit, key: p.key, fingerprint: print, holdId }, expiresAt);
      } catch (e) {
        await undo(); // whether the script ran is unknown
        return end({ failed: e });
      }
      if (r.kind === 'taken') {
        epoch = r.epoch;
        break;
      }
      if (r.kind === 'sold_out') return end(refusal(409, 'sold_out', `SKU ${p.skuId} is sold out`));
      if (r.kind === 'limit') return end(refusal(429, 'limit_exceeded', `at most ${limit} units per user in this sale`));
      if (r.kind === 'mismatch') return reply.error(res, 422, 'idempotency_key_reused', 'this Idempotency-Key was first used with a different request');
      if (r.kind === 'missing') {
        links.stockMissing();
        return end(refusal(503, 'stock_rebuilding', 'the stock store lost the sale and is being rebuilt from the ledger; retry shortly', ['retry-after', '1']));
      }
      if (r.answer !== null) return this.#replay(res, r.answer);
      if (Date.now() >= until) return reply.error(res, 409, 'request_in_progress', 'a request with this Idempotency-Key is still being processed');
      await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
    }
    const answer = `{"reservationId":"${holdId}","expiresAt":"${new Date(expiresAt).toISOString()}"}`;
    let refused: string | null;
    try {
      refused = await links.pgReservations.insert({
        reservationId: holdId, saleId: this.#saleId, sku: p.skuId, userId: p.userId, qty: p.qty, createdAt: Date.now(), expiresAt,
        key: p.key, fingerprint: p.key === null ? null : print, answer, epoch,
      });
    } catch (e) {
      await undo();
      return end(refusal(503, 'ledger_unavailable', `the reservation could not be made durable: ${messageOf(e)}; retry shortly`, ['retry-after', '1']));
    }
    if (refused !== null) {
      await undo();
      if (refused.startsWith('stale stock epoch')) return end(refusal(503, 'stock_rebuilt', `the stock was rebuilt from the ledger while this reservation was taken (${refused}); retry`, ['retry-after', '1']));
      return end(refusal(409, 'reservation_refused', `the ledger refused the reservation: ${refused}`));
    }
    return end({ status: 201, body: answer });
  }

  /** POST /api/v1/orders {reservationId} */
  async pay(res: ServerResponse, reservationId: string, key: string | null, text: string): Promise<void> {
    const links = this.#links;
    const reply = this.#reply;
    const sku = this.#skuOf(reservationId);
    if (sku === null) return reply.error(res, 404, 'reservation_not_found', 'no such reservation');
    if (links.ledgerDown) return reply.error(res, 503, 'ledger_unavailable', 'the order ledger (PostgreSQL) is unavailable; retry shortly', ['retry-after', '1']);
    let print: number | null = null;
    if (key !== null) {
      print = fingerprint(ROUTE.pay, text);
      for (const until = Date.now() + REPLAY_WAIT_MS; ; ) {
        let b;
        try {
          b = await this.#holds.keyBegin(sku, key, print, reservationId);
        } catch (e) {
          return reply.unavailable(res, e);
        }
        if (b.kind === 'run') break;
        if (b.kind === 'mismatch') return reply.error(res, 422, 'idempotency_key_reused', 'this Idempotency-Key was first used with a different request');
        if (b.answer !== null) return this.#replay(res, b.answer);
        if (Date.now() >= until) return reply.error(res, 409, 'request_in_progress', 'a request with this Idempotency-Key is still being processed');
        await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
      }
    }
    let out: Outcome;
    try {
      out = await this.#pay(reservationId, sku, key, print);
    } catch (e) {
      out = { failed: e };
    }
    return this.#end(res, sku, key, reservationId, out);
  }

  /** Pays a reservation: the answer (not yet sent). */
  async #pay(id: string, sku: number, key: string | null, print: number | null): Promise<Outcome> {
    const links = this.#links;
    const holds = this.#holds;
    let c;
    try {
      c = await holds.claim(sku, id);
    } catch (e) {
      return { failed: e };
    }
    if (c.kind === 'missing') {
      links.stockMissing();
      return refusal(503, 'stock_rebuilding', 'the stock store lost the sale and is being rebuilt from the ledger; retry shortly', ['retry-after', '1']);
    }
    // Not kept for a key: on the stores a claim can outlive its request (a killed process's, until the next rebuild).
    if (c.kind === 'busy') return { ...refusal(409, 'reservation_busy', 'another request is paying or releasing this reservation'), transient: true };
    if (c.kind === 'gone') return this.#gone(id, 410);
    const hold = c.hold;
    if (hold.expiresAt <= Date.now()) {
      await holds.drop(sku, [id]).catch(() => 0); // a lost drop: the sweeper cannot see it, a rebuild will (expired: not counted)
      return refusal(410, 'reservation_expired', 'the reservation expired; its units went back on sale');
    }
    const latency = this.#sale.payment.latencyMs;
    if (latency > 0) await paymentDelay(latency);
    if (this.#payment.declines(this.#sale.payment.declineRate)) {
      const back = await this.#release(hold, c.epoch);
      return refusal(402, 'payment_declined', back ? 'the payment was declined; the units went back on sale'
        : 'the payment was declined; the stock was rebuilt meanwhile, so the units stay held until the reservation is released (DELETE) or expires');
    }
    let refused: string | null;
    try {
      refused = await links.committer.append({ orderId: id, sku: this.#sale.skus[sku].id, userId: hold.userId, qty: hold.qty, createdAt: Date.now(), key, fingerprint: print, epoch: c.epoch });
    } catch (e) {
      // The order may have committed with its answer lost: the hold stays claimed; the rebuild decides (see store-links.ts).
      links.ledgerFailed(messageOf(e));
      return refusal(503, 'ledger_unavailable', `the order could not be made durable: ${messageOf(e)}; retry shortly`, ['retry-after', '1']);
    }
    if (refused !== null) {
      // Stale epoch: the rebuild brought this reservation back as open (no order yet): it stays payable.
      if (refused.startsWith('stale stock epoch')) return refusal(503, 'stock_rebuilt', `the stock was rebuilt from the ledger while this reservation was paid (${refused}); retry`, ['retry-after', '1']);
      if (refused.startsWith('duplicate order id')) return refusal(410, 'reservation_expired', 'the reservation was already paid');
      await holds.unclaim(hold).catch(() => {});
      return refusal(409, 'order_refused', `the ledger refused the order: ${refused}`);
    }
    // A lost confirm leaves the units held in Redis; the next rebuild counts them sold (the order exists).
    await holds.paid(hold).catch(() => {});
    return { status: 201, body: `{"orderId":"${id}"}` };
  }

  /** DELETE /api/v1/reservations/:id */
  async release(res: ServerResponse, id: string): Promise<void> {
    const links = this.#links;
    const reply = this.#reply;
    const sku = this.#skuOf(id);
    if (sku === null) return reply.error(res, 404, 'reservation_not_found', 'no such reservation (expired, paid or never made)');
    let c;
    try {
      c = await this.#holds.claim(sku, id);
    } catch (e) {
      return reply.unavailable(res, e);
    }
    if (c.kind === 'missing') {
      links.stockMissing();
      return reply.error(res, 503, 'stock_rebuilding', 'the stock store lost the sale and is being rebuilt from the ledger; retry shortly', ['retry-after', '1']);
    }
    if (c.kind === 'busy') return reply.error(res, 409, 'reservation_busy', 'another request is paying or releasing this reservation');
    if (c.kind === 'gone') return reply.error(res, 404, 'reservation_not_found', 'no such reservation (expired, paid or never made)');
    let refused: string | null;
    try {
      refused = await links.pgReservations.release(id, this.#saleId, c.epoch);
    } catch (e) {
      await this.#holds.unclaim(c.hold).catch(() => {});
      return reply.error(res, 503, 'ledger_unavailable', `the release could not be recorded: ${messageOf(e)}; retry shortly`, ['retry-after', '1']);
    }
    if (refused !== null) {
      // Fenced: a rebuild raised the stock epoch since the claim and counted this reservation open; it
      // writes the hold back open in Redis, so the units must not go back here. The claim is put back (a
      // no-op on a hold the rebuild already rewrote); the retry claims under the new epoch and releases.
      await this.#holds.unclaim(c.hold).catch(() => {});
      if (refused.startsWith('stale stock epoch')) return reply.error(res, 503, 'stock_rebuilt', `the stock was rebuilt from the ledger while this reservation was released (${refused}); retry`, ['retry-after', '1']);
      return reply.error(res, 503, 'ledger_unavailable', `the release could not be recorded: ${refused}; retry shortly`, ['retry-after', '1']);
    }
    await this.#holds.drop(sku, [id]).catch(() => 0);
    reply.done(res, 204, '');
  }

  /** A claimed reservation ends without an order (declined): recorded, then its units go back. */
  /** Gives a hold's units back; false when fenced (they stay held, see below). */
  async #release(hold: ReservedHold, epoch: number): Promise<boolean> {
    // A release the ledger did not record is still given back: a rebuild before expiry would hold it again until then.
    const refused = await this.#links.pgReservations.release(hold.holdId, this.#saleId, epoch).catch(() => null);
    if (refused !== null) {
      // Fenced (a rebuild raised the stock epoch since the claim): the rebuild counted the reservation open
      // and writes its hold back open in Redis, so its units are not given back here (a drop before that
      // rewrite is undone by it; one after it frees units the ledger still counts reserved). The claim is
      // put back; the hold stays reserved until a DELETE releases it (under the new epoch) or it expires —
      // then its units go back on sale, once. Late, never sold twice.
      await this.#holds.unclaim(hold).catch(() => {});
      return false;
    }
    await this.#holds.drop(hold.sku, [hold.holdId]).catch(() => 0);
    return true;
  }

  /** An id Redis no longer holds: 404 if the ledger never saw it, else `status` (410). */
  async #gone(id: string, status: number): Promise<Outcome> {
    let fate;
    try {
      fate = await this.#links.pgReservations.fate(id, this.#saleId);
    } catch (e) {
      return { failed: e };
    }
    if (fate === 'unknown') return refusal(404, 'reservation_not_found', 'no such reservation');
    return refusal(status, 'reservation_expired', 'the reservation expired or was already used');
  }

  /**
   * Sends the answer of a keyed or unkeyed reserve or pay. Keyed, the key keeps it for retries on any
   * process (a 201 or a final 4xx, as in-process) or is forgotten (5xx, or a transient 409): a retry runs again.
   */
  async #end(res: ServerResponse, sku: number, key: string | null, holdId: string, o: Outcome): Promise<void> {
    if (key !== null) {
      const kept = 'failed' in o || o.transient === true ? null : keyAnswer(o.status, o.body);
      await this.#holds.keyEnd(sku, key, holdId, kept).catch(() => {});
    }
    if ('failed' in o) return this.#reply.unavailable(res, o.failed);
    this.#reply.done(res, o.status, o.body, o.extra);
  }

  /** A key's kept answer, replayed. */
  #replay(res: ServerResponse, answer: string): void {
    const { status, body } = replayOf(answer);
    this.#reply.done(res, status, body, ['idempotent-replayed', 'true']);
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

