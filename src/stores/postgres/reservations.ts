// Open reservations, durable in PostgreSQL so a stock rebuild can count them (src/stores/rebuild.ts):
// a reserve answers 201 only once its row committed. The row is written under the same stock-epoch fence
// as an order (the sale's row FOR SHARE, the epoch compared in the statement): a reservation whose units
// were taken from a Redis that was rebuilt meanwhile fails (503, retry) instead of being counted twice.
// Its end is not written here when it is paid (the order of the same id says so) or expires (an open row
// past expires_at says so); only a release writes its row.
//
// Group commit, as the orders' (group-commit.ts, the same Batcher): reserves that arrive while a batch is
// in flight go together in the next one — ONE statement (INSERT … SELECT FROM unnest(arrays) under the fence,
// ON CONFLICT DO NOTHING RETURNING), so one implicit transaction and one WAL flush for all of them. A row
// refused (a stale epoch, a duplicate id or key, a bad field) fails alone; a statement that failed fails
// every reserve in it. Releases stay one statement each: each is a request's own UPDATE of one row that
// must be durable before its units go back in Redis, and they are few next to reserves (a pay or an expiry
// ends most reservations without writing here). A release is fenced as a reserve is: its UPDATE runs only
// under the epoch its hold was claimed under, so a release that straddles a rebuild is refused (503
// stock_rebuilt, retried) instead of being recorded after the rebuild counted the reservation open.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { messageOf, StoreUnavailableError } from '../../errors.ts';
import { redactUrl } from '../url.ts';
import { Batcher } from './batcher.ts';
import { fingerprintProblem, nulProblem, qtyProblem } from './row-checks.ts';
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

/** Reserve statements run (each one transaction) and the rows they carried. */
export interface ReserveBatchStats { batches: number; rows: number; largestBatch: number }

export class PgReservations {
  readonly #url: string;
  readonly #schema: string;
  readonly #pool: pg.Pool;
  readonly #sql: { insert: string; release: string; fate: string };
  readonly #maxBatch: number;
  /** One queue per sale: a statement writes one sale's rows under its fence. */
  readonly #batchers = new Map<number, Batcher<ReservationRow, string | null>>();
  readonly stats: ReserveBatchStats = { batches: 0, rows: 0, largestBatch: 0 };

  readonly #observe: PgObserver;

  /** maxBatch bounds one statement's arrays (default 4096 rows). */
  constructor(url: string, schema: string, observe?: PgObserver, options: { maxBatch?: number } = {}) {
    const s = checkSchemaName(schema);
    this.#url = url;
    this.#schema = s;
    this.#maxBatch = options.maxBatch ?? 4096;
    this.#observe = observe ?? (() => {});
    // A 201 must be durable: synchronous_commit on for these sessions whatever the server's default
    // (PgLedger.open refuses a server with fsync off before any of this runs).
    this.#pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000, options: '-c synchronous_commit=on' });
    this.#pool.on('error', () => {});
    this.#sql = {
      // As PgLedger's append: the fence's FOR SHARE lock on the sale row (MATERIALIZED: taken once, before
      // the insert), the rows of its epoch, and the epoch itself — which tells a stale row from a duplicate
      // without a second query.
      insert:
        `WITH f AS MATERIALIZED (SELECT stock_epoch FROM ${s}.sales WHERE id = $1 FOR SHARE), ` +
        `ins AS (INSERT INTO ${s}.reservations (reservation_id, sale_id, sku, user_id, qty, created_at, expires_at, idempotency_key, fingerprint, answer, stock_epoch) ` +
        `SELECT t.r, $1, t.s, t.u, t.q, t.c, t.x, t.k, t.f, t.a, t.e ` +
        `FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[], $8::text[], $9::int[], $10::text[], $11::bigint[]) AS t(r, s, u, q, c, x, k, f, a, e), f ` +
        `WHERE t.e = f.stock_epoch ON CONFLICT DO NOTHING RETURNING reservation_id) ` +
        `SELECT f.stock_epoch, ARRAY(SELECT reservation_id FROM ins) AS ids FROM f`,
      // Fenced as the insert: the sale row FOR SHARE first (so a rebuild's epoch bump, an UPDATE of that
      // row, orders against it: the release commits before the bump, and the rebuild's count sees it
      // released, or it reads the bumped epoch and is refused), the row marked only under the epoch the
      // hold was claimed under; the epoch returned tells a refusal from a row already ended.
      release:
        `WITH f AS MATERIALIZED (SELECT stock_epoch FROM ${s}.sales WHERE id = $2 FOR SHARE), ` +
        `u AS (UPDATE ${s}.reservations r SET state = 'released' FROM f ` +
        `WHERE r.reservation_id = $1 AND r.sale_id = $2 AND r.state = 'open' AND f.stock_epoch = $3 RETURNING 1) ` +
        `SELECT f.stock_epoch FROM f`,
      fate:
        `SELECT r.state, EXISTS (SELECT 1 FROM ${s}.orders o WHERE o.order_id = r.reservation_id) AS paid ` +
        `FROM ${s}.reservations r WHERE r.reservation_id = $1 AND r.sale_id = $2`,
    };
  }

  /**
   * Writes an open reservation, in the next batch of its sale: null once committed, or why it alone was
   * refused (a stale stock epoch, a duplicate id or key, a bad field); rejects when its batch did not commit.
   */
  insert(r: ReservationRow): Promise<string | null> {
    let b = this.#batchers.get(r.saleId);
    if (b === undefined) this.#batchers.set(r.saleId, (b = new Batcher((rows) => this.#insertBatch(r.saleId, rows), this.#maxBatch)));
    return b.add(r);
  }

  /** One statement for the batch; each row's refusal by index. */
  async #insertBatch(saleId: number, rows: ReservationRow[]): Promise<Array<string | null>> {
    const why: Array<string | null> = new Array(rows.length).fill(null);
    const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], []];
    const sent: number[] = [];
    rows.forEach((r, i) => {
      why[i] = checkRow(r);
      if (why[i] !== null) return;
      sent.push(i);
      [r.reservationId, r.sku, r.userId, r.qty, r.createdAt, r.expiresAt, r.key, r.fingerprint, r.answer, r.epoch].forEach((v, c) => cols[c].push(v));
    });
    if (sent.length === 0) return why;
    const got = await this.#query('reserve', { name: `${this.#schema}.reserve`, text: this.#sql.insert, values: [saleId, ...cols] });
    this.stats.batches++;
    this.stats.rows += sent.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, sent.length);
    if (got.rows.length === 0) throw new StoreUnavailableError(`ledger at ${redactUrl(this.#url)} has no sale ${saleId}: the reservation could not be written`);
    const current = Number(got.rows[0].stock_epoch);
    const inserted = new Set((got.rows[0].ids as unknown[]).map(String)); // pg parses a text[] column into an array
    if (inserted.size === sent.length) return why;
    for (const i of sent) {
      const r = rows[i];
      // Rows go in in array order: of two with one id, the first is the one inserted.
      if (inserted.delete(r.reservationId)) continue;
      why[i] = r.epoch !== current ? `stale stock epoch ${r.epoch} (the stock was rebuilt: epoch ${current})` : `duplicate reservation id or idempotency key`;
    }
    return why;
  }

  /**
   * Records a release (before its units go back in Redis, so a rebuild in between cannot bring it back),
   * fenced by `epoch`, the stock epoch the hold was claimed under: null once recorded (or the row was not
   * open), or why it was refused — a stale stock epoch: a rebuild raised it since the claim, and may have
   * counted the reservation open; the caller must not drop the hold (the rebuild writes it back open).
   */
  async release(reservationId: string, saleId: number, epoch: number): Promise<string | null> {
    if (!Number.isSafeInteger(epoch)) return 'epoch must be a whole number';
    const got = await this.#query('release', this.#sql.release, [reservationId, saleId, epoch]);
    if (got.rows.length === 0) throw new StoreUnavailableError(`ledger at ${redactUrl(this.#url)} has no sale ${saleId}: the release could not be written`);
    const current = Number(got.rows[0].stock_epoch);
    return current === epoch ? null : `stale stock epoch ${epoch} (the stock was rebuilt: epoch ${current})`;
  }

  async fate(reservationId: string, saleId: number): Promise<ReservationFate> {
    const r = await this.#query('fate', this.#sql.fate, [reservationId, saleId]);
    const row = r.rows[0];
    if (row === undefined) return 'unknown';
    if (row.paid === true) return 'paid';
    return row.state === 'released' ? 'released' : 'open';
  }

  /** After the reserves in flight settled (their rows committed or failed). */
  async close(): Promise<void> {
    for (const b of this.#batchers.values()) await b.drain().catch(() => {});
    await this.#pool.end().catch(() => {});
  }

  async #query(op: string, text: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult> {
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

/** A row PostgreSQL would refuse with an error fails alone here, before it could fail its whole batch. */
function checkRow(r: ReservationRow): string | null {
  if (r.reservationId === '') return 'reservation id must be a non-empty string';
  const badQty = qtyProblem(r.qty);
  if (badQty !== null) return badQty;
  for (const [name, v] of [['createdAt', r.createdAt], ['expiresAt', r.expiresAt], ['epoch', r.epoch]] as const) if (!Number.isSafeInteger(v)) return `${name} must be a whole number`;
  return fingerprintProblem(r.fingerprint) ?? nulProblem([r.reservationId, r.sku, r.userId, r.key, r.answer]);
}
