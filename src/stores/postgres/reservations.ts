// Open reservations, durable in PostgreSQL so a stock rebuild can count them (src/stores/rebuild.ts):
// a reserve answers 201 only once its row committed. The row is written under the same stock-epoch fence
// as an order (the sale's row FOR SHARE, the epoch compared in the statement): a reservation whose units
// were taken from a Redis that was rebuilt meanwhile fails (503, retry) instead of being counted twice.
// Its end is not written here when it is paid (the order of the same id says so) or expires (an open row
// past expires_at says so); only a release writes its row.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { messageOf, StoreUnavailableError } from '../../errors.ts';
import { redactUrl } from '../url.ts';
import { checkSchemaName } from './schema.ts';
import type { PgObserver } from './ledger.ts';

export interface ReservationRow {
  reservationId: string;
  saleId: number;
  sku: string;
  userId: string;
  qty: number;
  createdAt: number;
  expiresAt: number;
  key: string | null;
  fingerprint: number | null;
  /** The reserve's 201 body (a keyed retry after a rebuild replays it). */
  answer: string;
  /** Stock epoch the units were taken under. */
  epoch: number;
}

/** What a reservation id names in the ledger, for telling 404 (never made) from 410 (ended). */
export type ReservationFate = 'unknown' | 'open' | 'released' | 'paid';

export class PgReservations {
  readonly #url: string;
  readonly #pool: pg.Pool;
  readonly #sql: { insert: string; epoch: string; release: string; fate: string };

  readonly #observe: PgObserver;

  constructor(url: string, schema: string, observe?: PgObserver) {
    const s = checkSchemaName(schema);
    this.#url = url;
    this.#observe = observe ?? (() => {});
    // A 201 must be durable: synchronous_commit on for these sessions whatever the server's default
    // (PgLedger.open refuses a server with fsync off before any of this runs).
    this.#pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000, options: '-c synchronous_commit=on' });
    this.#pool.on('error', () => {});
    this.#sql = {
      insert:
        `WITH f AS (SELECT stock_epoch FROM ${s}.sales WHERE id = $2 FOR SHARE) ` +
        `INSERT INTO ${s}.reservations (reservation_id, sale_id, sku, user_id, qty, created_at, expires_at, idempotency_key, fingerprint, answer, stock_epoch) ` +
        `SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM f WHERE f.stock_epoch = $11 ON CONFLICT DO NOTHING RETURNING reservation_id`,
      epoch: `SELECT stock_epoch FROM ${s}.sales WHERE id = $1`,
      release: `UPDATE ${s}.reservations SET state = 'released' WHERE reservation_id = $1 AND sale_id = $2 AND state = 'open'`,
      fate:
        `SELECT r.state, EXISTS (SELECT 1 FROM ${s}.orders o WHERE o.order_id = r.reservation_id) AS paid ` +
        `FROM ${s}.reservations r WHERE r.reservation_id = $1 AND r.sale_id = $2`,
    };
  }

  /** Writes an open reservation; null once committed, or why it was refused (a stale stock epoch, a duplicate id or key). */
  async insert(r: ReservationRow): Promise<string | null> {
    const got = await this.#query('reserve', this.#sql.insert, [r.reservationId, r.saleId, r.sku, r.userId, r.qty, r.createdAt, r.expiresAt, r.key, r.fingerprint, r.answer, r.epoch]);
    if (got.rows.length === 1) return null;
    const current = Number((await this.#query('read', this.#sql.epoch, [r.saleId])).rows[0]?.stock_epoch);
    if (current !== r.epoch) return `stale stock epoch ${r.epoch} (the stock was rebuilt: epoch ${current})`;
    return `duplicate reservation id or idempotency key`;
  }

  /** Records a release (before its units go back in Redis, so a rebuild in between cannot bring it back). */
  async release(reservationId: string, saleId: number): Promise<void> {
    await this.#query('release', this.#sql.release, [reservationId, saleId]);
  }

  async fate(reservationId: string, saleId: number): Promise<ReservationFate> {
    const r = await this.#query('fate', this.#sql.fate, [reservationId, saleId]);
    const row = r.rows[0];
    if (row === undefined) return 'unknown';
    if (row.paid === true) return 'paid';
    return row.state === 'released' ? 'released' : 'open';
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => {});
  }

  async #query(op: string, text: string, values: unknown[]): Promise<pg.QueryResult> {
    const t0 = performance.now();
    try {
      const r = await this.#pool.query(text, values);
      this.#observe(op, (performance.now() - t0) / 1000, null);
      return r;
    } catch (e) {
      const err = new StoreUnavailableError(`ledger query failed at ${redactUrl(this.#url)}: ${messageOf(e)}`, undefined, { cause: e });
      this.#observe(op, (performance.now() - t0) / 1000, err);
      throw err;
    }
  }
}
