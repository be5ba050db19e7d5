// The order ledger on PostgreSQL: what src/ledger/store.ts does on SQLite, for many service processes
// writing one sale. appendBatch writes a batch in ONE transaction with ONE statement (INSERT … SELECT FROM
// unnest(arrays) ON CONFLICT DO NOTHING RETURNING order_id: any batch size, one prepared plan), so one
// commit — one WAL flush with synchronous_commit on — covers every order in it. A row that breaks a rule
// (a duplicate order id or key, a stale stock epoch, a bad field) fails alone, reported by index as the
// SQLite store does; the rest commit.
//
// The stock-epoch fence: Redis keeps nothing on disk here, so after a restart the stock is rebuilt from
// the ledger (initial − sold − held). Units taken from the old Redis may still be on their way to an order:
// committed after the rebuild counted sales, they would sell those units twice. So every order carries the
// epoch of the stock it was taken from; each batch takes a FOR SHARE lock on its sale's row and inserts
// only orders of the current epoch, and beginRebuild raises the epoch with an UPDATE of that row — which
// waits for every batch in flight to commit — and reads the sales after it, in the same transaction. An
// order of the old epoch then either committed before the count (and is in it) or fails (503, retry).
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { messageOf, PgLedgerError, StoreUnavailableError } from '../../errors.ts';
import { parsePostgresUrl, redactUrl } from '../url.ts';
import { checkSchemaName, schemaSql } from './schema.ts';
import { fingerprintProblem, nulProblem, qtyProblem } from './row-checks.ts';

/** Fields per order in the flat arrays, as src/ledger/store.ts's newest ORDER_STRIDE: order id, SKU, user, qty, created at, key or null, fingerprint or null. */
export const ORDER_STRIDE = 7;

export interface PgRecovery {
  soldBySku: Map<string, number>;
  orders: number;
  /** Units per user over the sale. */
  users: Array<[userId: string, units: number]>;
  /** Units per (SKU, user): what a per-SKU Redis layout restores. */
  usersBySku: Array<[sku: string, userId: string, units: number]>;
  /** pays: the order paid a reservation (its id is a reservation's); else a checkout's. */
  keys: Array<{ key: string; orderId: string; fingerprint: number | null; sku: string; userId: string; pays: boolean }>;
  /** Open reservations at the time of the count: not released, not expired, not paid (no order of their id). */
  holds: Array<{ reservationId: string; sku: string; userId: string; qty: number; expiresAt: number }>;
  /** Keys of reserves (any state): a retry replays the reservation's answer. */
  reservationKeys: Array<{ key: string; reservationId: string; fingerprint: number | null; sku: string; answer: string }>;
}

/** Told of every call's time (op: commit, read, rebuild) and failure (null when it succeeded): /metrics on the stores. */
export type PgObserver = (op: string, seconds: number, error: unknown) => void;

export interface PgLedgerOptions {
  /** Schema holding the tables (created if missing). Default "flashsale". */
  schema?: string;
  observe?: PgObserver;
}

export class PgLedger {
  readonly schema: string;
  readonly #url: string;
  /** Commits only: a transaction must not share its connection with other statements. */
  readonly #writer: pg.Client;
  /** Everything else (recovery, pages, sales). */
  readonly #reader: pg.Pool;
  readonly #sql: { append: string; classify: string; page: string };
  readonly #observe: PgObserver;

  private constructor(url: string, schema: string, writer: pg.Client, reader: pg.Pool, observe: PgObserver | undefined) {
    this.#url = url;
    this.#observe = observe ?? (() => {});
    this.schema = schema;
    this.#writer = writer;
    this.#reader = reader;
    const s = schema;
    this.#sql = {
      // One statement, so one implicit transaction (committed at Sync, answered after the WAL flush): the
      // fence's FOR SHARE lock on the sale row, then the orders of its epoch. Four statements (BEGIN, fence,
      // INSERT, COMMIT) cost the service four socket writes per batch and PostgreSQL four round trips
      // through its executor on the same two cores.
      append:
        `WITH f AS MATERIALIZED (SELECT stock_epoch FROM ${s}.sales WHERE id = $1 FOR SHARE), ` +
        `ins AS (INSERT INTO ${s}.orders (order_id, sale_id, sku, user_id, qty, created_at, idempotency_key, fingerprint, stock_epoch) ` +
        `SELECT t.o, $1, t.s, t.u, t.q, t.c, t.k, t.f, t.e FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::text[], $8::int[], $9::bigint[]) AS t(o, s, u, q, c, k, f, e), f ` +
        `WHERE t.e IS NULL OR t.e = f.stock_epoch ON CONFLICT DO NOTHING RETURNING order_id) ` +
        `SELECT f.stock_epoch, ARRAY(SELECT order_id FROM ins) AS ids FROM f`,
      classify: `SELECT order_id FROM ${s}.orders WHERE order_id = ANY($1::text[])`,
      page: `SELECT seq, order_id, sku, user_id, qty, created_at FROM ${s}.orders WHERE sale_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    };
  }

  /** Connects, checks synchronous_commit is on (a 201 must be durable), creates the schema if missing. */
  static async open(url: string, options: PgLedgerOptions = {}): Promise<PgLedger> {
    parsePostgresUrl(url);
    const schema = checkSchemaName(options.schema ?? 'flashsale');
    const writer = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    const reader = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
    writer.on('error', () => {}); // a lost connection fails the calls in flight; without a listener it would end the process
    reader.on('error', () => {});
    try {
      await writer.connect();
      // A commit returns only once its WAL is flushed: on for this session whatever the server's default,
      // and a server with fsync off cannot keep that promise at all.
      await writer.query("SET synchronous_commit = 'on'");
      const fsync = (await writer.query('SHOW fsync')).rows[0].fsync as string; // SHOW returns its setting as text
      if (fsync !== 'on') throw new PgLedgerError(`fsync is ${fsync} on ${redactUrl(url)}: an acknowledged order could be lost in a crash; the ledger needs fsync on`);
      await writer.query(schemaSql(schema));
    } catch (e) {
      await writer.end().catch(() => {});
      await reader.end().catch(() => {});
      if (e instanceof PgLedgerError) throw e;
      throw new StoreUnavailableError(`cannot open the ledger at ${redactUrl(url)}: ${messageOf(e)}`, undefined, { cause: e });
    }
    return new PgLedger(url, schema, writer, reader, options.observe);
  }

  async latestSale(): Promise<{ id: number; definition: string; stockEpoch: number } | null> {
    const r = await this.#read(`SELECT id, definition, stock_epoch FROM ${this.schema}.sales ORDER BY id DESC LIMIT 1`);
    const row = r.rows[0];
    return row ? { id: Number(row.id), definition: String(row.definition), stockEpoch: Number(row.stock_epoch) } : null;
  }

  async newSale(definition: string): Promise<number> {
    const r = await this.#read(`INSERT INTO ${this.schema}.sales (definition, created_at) VALUES ($1, $2) RETURNING id`, [definition, Date.now()]);
    return Number(r.rows[0].id);
  }

  async stockEpoch(saleId: number): Promise<number> {
    const r = await this.#read(`SELECT stock_epoch FROM ${this.schema}.sales WHERE id = $1`, [saleId]);
    if (r.rows.length === 0) throw new PgLedgerError(`no sale ${saleId} in the ledger`);
    return Number(r.rows[0].stock_epoch);
  }

  /**
   * Writes orders (flat, ORDER_STRIDE fields each) in one transaction. `epochs`: the stock epoch each
   * order's units were taken under (one number for all, or one per order), or null when stock is not
   * fenced (in-process stock). Returns the orders (by index) that failed, with why; throws PgLedgerError
   * when the batch as a whole did not commit (then no order in it may be acknowledged).
   */
  async appendBatch(saleId: number, flat: ReadonlyArray<string | number | null>, epochs: number | ArrayLike<number> | null = null): Promise<Array<[index: number, reason: string]>> {
    const n = flat.length / ORDER_STRIDE;
    if (!Number.isInteger(n)) throw new RangeError(`flat orders: ${flat.length} fields is not a multiple of ${ORDER_STRIDE}`);
    const failed: Array<[number, string]> = [];
    const cols: unknown[][] = [[], [], [], [], [], [], [], []];
    const sent: number[] = [];
    for (let i = 0, at = 0; i < n; i++, at += ORDER_STRIDE) {
      const why = checkOrder(flat, at);
      if (why !== null) {
        failed.push([i, why]);
        continue;
      }
      sent.push(i);
      for (let f = 0; f < ORDER_STRIDE; f++) cols[f].push(flat[at + f]);
      cols[7].push(epochs === null ? null : typeof epochs === 'number' ? epochs : epochs[i]);
    }
    if (sent.length === 0) return failed;
    let inserted: Set<string>;
    let current: number;
    const w = this.#writer;
    const t0 = performance.now();
    try {
      const r = await w.query({ name: `${this.schema}.append`, text: this.#sql.append, values: [saleId, ...cols] });
      if (r.rows.length === 0) throw new PgLedgerError(`no sale ${saleId} in the ledger`);
      current = Number(r.rows[0].stock_epoch);
      inserted = new Set((r.rows[0].ids as unknown[]).map(String)); // pg parses a text[] column into an array
      this.#observe('commit', (performance.now() - t0) / 1000, null);
    } catch (e) {
      this.#observe('commit', (performance.now() - t0) / 1000, e);
      // The statement is its own transaction: a failure leaves none open.
      if (e instanceof PgLedgerError) throw e;
      throw new PgLedgerError(`ledger commit failed: ${messageOf(e)}`, undefined, { cause: e });
    }
    if (inserted.size === sent.length) return failed;
    // Rows go in in array order, so of two rows with one id the first is the one inserted.
    const missing: number[] = [];
    for (const i of sent) {
      const id = String(flat[i * ORDER_STRIDE]);
      if (inserted.has(id)) inserted.delete(id);
      else missing.push(i);
    }
    // Why each missing row failed: only reached when something was refused.
    const ids = missing.map((i) => String(flat[i * ORDER_STRIDE]));
    const existing = new Set((await this.#read(this.#sql.classify, [ids])).rows.map((r) => String(r.order_id)));
    for (const i of missing) {
      const id = String(flat[i * ORDER_STRIDE]);
      const epoch = epochs === null ? null : typeof epochs === 'number' ? epochs : epochs[i];
      if (existing.has(id)) failed.push([i, `duplicate order id ${id}`]);
      else if (epoch !== null && epoch !== current) failed.push([i, `stale stock epoch ${epoch} (the stock was rebuilt: epoch ${current})`]);
      else failed.push([i, `duplicate idempotency key ${JSON.stringify(flat[i * ORDER_STRIDE + 5])}`]);
    }
    return failed.sort((a, b) => a[0] - b[0]);
  }

  /** What a restart needs: units sold per SKU, units per user (over the sale and per SKU), keys with their orders and fingerprints. */
  async recover(saleId: number, client?: pg.PoolClient, now = Date.now()): Promise<PgRecovery> {
    const q = (text: string, more: unknown[] = []) => (client ? client.query(text, [saleId, ...more]) : this.#read(text, [saleId, ...more]));
    const s = this.schema;
    // One after another: on one connection (a rebuild's transaction) pg queues concurrent queries only
    // with a deprecation warning, and pg 9 will refuse them.
    const bySku = await q(`SELECT sku, SUM(qty)::bigint AS n FROM ${s}.orders WHERE sale_id = $1 GROUP BY sku`);
    const byUserSku = await q(`SELECT sku, user_id, SUM(qty)::bigint AS n FROM ${s}.orders WHERE sale_id = $1 GROUP BY sku, user_id`);
    const keys = await q(
      `SELECT idempotency_key, order_id, fingerprint, sku, user_id, EXISTS (SELECT 1 FROM ${s}.reservations r WHERE r.reservation_id = o.order_id AND r.sale_id = o.sale_id) AS pays ` +
        `FROM ${s}.orders o WHERE sale_id = $1 AND idempotency_key IS NOT NULL`,
    );
    const count = await q(`SELECT COUNT(*)::bigint AS n FROM ${s}.orders WHERE sale_id = $1`);
    const holds = await q(
      `SELECT reservation_id, sku, user_id, qty, expires_at FROM ${s}.reservations r WHERE sale_id = $1 AND state = 'open' AND expires_at > $2 ` +
        `AND NOT EXISTS (SELECT 1 FROM ${s}.orders o WHERE o.order_id = r.reservation_id)`,
      [now],
    );
    const reservationKeys = await q(`SELECT idempotency_key, reservation_id, fingerprint, sku, answer FROM ${s}.reservations WHERE sale_id = $1 AND idempotency_key IS NOT NULL`);
    const users = new Map<string, number>();
    const usersBySku: PgRecovery['usersBySku'] = [];
    for (const r of byUserSku.rows) {
      const n = Number(r.n);
      usersBySku.push([String(r.sku), String(r.user_id), n]);
      users.set(String(r.user_id), (users.get(String(r.user_id)) ?? 0) + n);
    }
    return {
      soldBySku: new Map(bySku.rows.map((r) => [String(r.sku), Number(r.n)])),
      orders: Number(count.rows[0].n),
      users: [...users],
      usersBySku,
      keys: keys.rows.map((r) => ({ key: String(r.idempotency_key), orderId: String(r.order_id), fingerprint: r.fingerprint === null ? null : Number(r.fingerprint), sku: String(r.sku), userId: String(r.user_id), pays: r.pays === true })),
      holds: holds.rows.map((r) => ({ reservationId: String(r.reservation_id), sku: String(r.sku), userId: String(r.user_id), qty: Number(r.qty), expiresAt: Number(r.expires_at) })),
      reservationKeys: reservationKeys.rows.map((r) => ({ key: String(r.idempotency_key), reservationId: String(r.reservation_id), fingerprint: r.fingerprint === null ? null : Number(r.fingerprint), sku: String(r.sku), answer: String(r.answer) })),
    };
  }

  /**
   * Raises the sale's stock epoch and reads what was sold, in one transaction: the UPDATE waits for every
   * batch in flight (they hold the sale's row FOR SHARE) and stops later batches of the old epoch, so the
   * recovery counts every order that will ever commit under the old epoch. See the file's comment.
   */
  async beginRebuild(saleId: number): Promise<{ epoch: number; recovery: PgRecovery }> {
    const t0 = performance.now();
    let client: pg.PoolClient;
    try {
      client = await this.#reader.connect();
    } catch (e) {
      const err = new StoreUnavailableError(`the ledger at ${redactUrl(this.#url)} is unavailable: ${messageOf(e)}`, undefined, { cause: e });
      this.#observe('rebuild', (performance.now() - t0) / 1000, err);
      throw err;
    }
    try {
      await client.query('BEGIN');
      const r = await client.query(`UPDATE ${this.schema}.sales SET stock_epoch = stock_epoch + 1 WHERE id = $1 RETURNING stock_epoch`, [saleId]);
      if (r.rows.length === 0) throw new PgLedgerError(`no sale ${saleId} in the ledger`);
      const recovery = await this.recover(saleId, client);
      await client.query('COMMIT');
      this.#observe('rebuild', (performance.now() - t0) / 1000, null);
      return { epoch: Number(r.rows[0].stock_epoch), recovery };
    } catch (e) {
      this.#observe('rebuild', (performance.now() - t0) / 1000, e);
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  /** One page of a sale's orders as NDJSON in insertion order; pass the returned seq to get the next. */
  async pageNdjson(saleId: number, afterSeq: number, limit: number): Promise<{ ndjson: string; lastSeq: number; count: number }> {
    const r = await this.#read(this.#sql.page, [saleId, afterSeq, limit]);
    let ndjson = '';
    let lastSeq = afterSeq;
    for (const row of r.rows) {
      ndjson += `${JSON.stringify({ orderId: row.order_id, sku: row.sku, userId: row.user_id, qty: Number(row.qty), createdAt: Number(row.created_at) })}\n`;
      lastSeq = Number(row.seq);
    }
    return { ndjson, lastSeq, count: r.rows.length };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#writer.end(), this.#reader.end()]);
  }

  async #read(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
    const t0 = performance.now();
    try {
      const r = await this.#reader.query(text, values);
      this.#observe('read', (performance.now() - t0) / 1000, null);
      return r;
    } catch (e) {
      const err = new StoreUnavailableError(`ledger query failed at ${redactUrl(this.#url)}: ${messageOf(e)}`, undefined, { cause: e });
      this.#observe('read', (performance.now() - t0) / 1000, err);
      throw err;
    }
  }
}

/** Fields a row needs before it is sent: a bad one fails alone instead of failing the statement. */
function checkOrder(flat: ReadonlyArray<string | number | null>, at: number): string | null {
  const [orderId, sku, userId, qty, createdAt, key, print] = [flat[at], flat[at + 1], flat[at + 2], flat[at + 3], flat[at + 4], flat[at + 5], flat[at + 6]];
  if (typeof orderId !== 'string' || orderId === '') return 'order id must be a non-empty string';
  if (typeof sku !== 'string') return 'sku must be a string';
  if (typeof userId !== 'string') return 'user id must be a string';
  const badQty = qtyProblem(qty);
  if (badQty !== null) return badQty;
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt)) return 'createdAt must be a whole number of ms';
  if (key !== null && typeof key !== 'string') return 'idempotency key must be a string or null';
  return fingerprintProblem(print) ?? nulProblem([orderId, sku, userId, key]);
}
