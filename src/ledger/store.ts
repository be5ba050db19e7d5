// The order ledger on disk: SQLite through node:sqlite, written by one thread only.
// Sale epochs let POST /admin/sale start a fresh sale without losing the history of the last one.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { copyFileSync } from 'node:fs';
import { LedgerDamagedError, LedgerError, messageOf } from '../errors.ts';
import { checkWal, quickCheck } from './integrity.ts';

/** One confirmed order as the ledger stores it. `idempotencyKey` is null when the client sent none. */
export interface LedgerOrder {
  orderId: string;
  sku: string;
  userId: string;
  qty: number;
  createdAt: number;
  idempotencyKey: string | null;
}

/** What a restart needs to rebuild stock, per-user purchases and idempotent answers of one sale. */
export interface Recovery {
  /** A Map, not an object: SKU ids are user input, and `constructor` or `__proto__` must be plain keys. */
  soldBySku: Map<string, number>;
  users: Array<[userId: string, qty: number]>;
  /** Orders of the sale: what a restart says it continues. */
  orders: number;
  /** Each key with its order and the fingerprint of the request it came with (null: written before fingerprints were kept). */
  keys: Array<[idempotencyKey: string, orderId: string, fingerprint: number | null]>;
}

export type SyncMode = 'FULL' | 'NORMAL';

const SALES = `
CREATE TABLE IF NOT EXISTS sales (
  id INTEGER PRIMARY KEY,
  definition TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
`;
// Keys are unique per sale through a partial index: orders without a key (most of them) add no
// index entry, one page fewer to write per commit. Files made by earlier versions keep their
// table-level UNIQUE (sale_id, idempotency_key), which enforces the same rule.
const ORDERS = `
CREATE TABLE orders (
  order_id TEXT PRIMARY KEY,
  sale_id INTEGER NOT NULL,
  sku TEXT NOT NULL,
  user_id TEXT NOT NULL,
  qty INTEGER NOT NULL CHECK (qty > 0),
  created_at INTEGER NOT NULL,
  idempotency_key TEXT,
  fingerprint INTEGER
);
CREATE UNIQUE INDEX orders_sale_key ON orders (sale_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
`;

const COLUMNS = 'INSERT INTO orders (order_id, sale_id, sku, user_id, qty, created_at, idempotency_key, fingerprint) VALUES ';
const ROW = '(?, ?, ?, ?, ?, ?, ?, ?)';
const ROW_ARGS = 8;
/** Rows per INSERT statement: one call into SQLite per chunk instead of per order. */
export const MAX_ROWS_PER_INSERT = 64;

/**
 * Fields of one order in the flat arrays HTTP threads post (fewer objects to clone per order): order id,
 * SKU, user id, qty, created at, idempotency key (or null), fingerprint of the keyed request (or null).
 */
export const ORDER_STRIDE = 7;

export interface LedgerOpenOptions {
  /** Start on a file that fails its integrity check (copies of the damaged files are kept). Default false. */
  acceptLostOrders?: boolean;
}

/** The flag that accepts a damaged ledger, as the CLI spells it: it names the risk. */
export const ACCEPT_FLAG = '--accept-lost-orders';

export class LedgerStore {
  readonly path: string;
  /** What was accepted at open (a damaged file started on anyway): for the service's log. */
  readonly warnings: string[] = [];
  private readonly db: DatabaseSync;
  /** inserts[n]: the INSERT of n rows, prepared on first use. */
  private readonly inserts: Array<StatementSync | undefined> = [];
  private readonly page: StatementSync;

  constructor(path: string, sync: SyncMode = 'FULL', options: LedgerOpenOptions = {}) {
    this.path = path;
    const accept = options.acceptLostOrders === true;
    // Before SQLite opens the file: opening replays the log, and closing checkpoints and deletes it, so
    // a damaged log must be judged (and kept) before SQLite ever sees it.
    if (path !== ':memory:') this.checkLog(accept);
    try {
      this.db = new DatabaseSync(path);
      // WAL: one fsync of the log per commit; FULL makes that fsync part of every COMMIT, so an
      // acknowledged order survives power loss, not only a process crash.
      if (path !== ':memory:') {
        // One writer process per file: take SQLite's lock now and keep it, so a second service on the
        // same ledger fails at start with "database is locked" instead of failing orders later.
        this.db.exec('PRAGMA locking_mode = EXCLUSIVE');
        this.db.exec('PRAGMA journal_mode = WAL');
        this.db.exec('BEGIN EXCLUSIVE; COMMIT');
      }
    } catch (e) {
      throw new LedgerError(`cannot open ledger ${path}: ${messageOf(e)}`, undefined, { cause: e });
    }
    // Before anything is written: a damaged file is refused as it is.
    if (path !== ':memory:') this.checkPages(accept);
    try {
      this.db.exec(`PRAGMA synchronous = ${sync}`);
      this.db.exec(SALES);
      if (this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'orders'").get() === undefined) this.db.exec(ORDERS);
      // Files made before fingerprints were kept: their keys restore as unverifiable (see IdempotencyTable).
      else if (this.db.prepare("SELECT 1 FROM pragma_table_info('orders') WHERE name = 'fingerprint'").get() === undefined) {
        this.db.exec('ALTER TABLE orders ADD COLUMN fingerprint INTEGER');
      }
      this.page = this.db.prepare(
        'SELECT rowid, order_id, sku, user_id, qty, created_at FROM orders WHERE sale_id = ? AND rowid > ? ORDER BY rowid LIMIT ?',
      );
    } catch (e) {
      this.db.close();
      throw new LedgerError(`cannot open ledger ${path}: ${messageOf(e)}`, undefined, { cause: e });
    }
  }

  private checkLog(accept: boolean): void {
    const wal = checkWal(`${this.path}-wal`);
    if (wal.ok) return;
    const what = `the ledger's write-ahead log ${this.path}-wal is damaged: ${wal.problem}`;
    if (!accept) {
      throw new LedgerDamagedError(
        `${what}. Starting on it would lose acknowledged orders and sell their units again. ` +
          `Restore the ledger from a backup, or pass ${ACCEPT_FLAG} to start on what SQLite can still read (copies of the damaged files are kept). ` +
          `(If another process is writing to this ledger right now, stop it first: its half-written frames look the same.)`,
      );
    }
    const stamp = Date.now();
    copyFileSync(this.path, `${this.path}.damaged-${stamp}`);
    copyFileSync(`${this.path}-wal`, `${this.path}-wal.damaged-${stamp}`);
    this.warnings.push(`${ACCEPT_FLAG}: ${what}; starting without the lost commits (the damaged files were copied to ${this.path}{,-wal}.damaged-${stamp})`);
  }

  private checkPages(accept: boolean): void {
    let findings: string[];
    try {
      findings = quickCheck(this.db);
    } catch (e) {
      findings = [messageOf(e)];
    }
    if (findings.length === 0) return;
    const what = `the ledger ${this.path} fails PRAGMA quick_check: ${findings.join('; ').replace(/\s+/g, ' ').slice(0, 500)}`;
    if (accept) return void this.warnings.push(`${ACCEPT_FLAG}: ${what}; starting anyway`);
    this.db.close();
    throw new LedgerDamagedError(`${what}. Orders in damaged pages may be missing or unreadable. Restore the ledger from a backup, or pass ${ACCEPT_FLAG} to start on it anyway.`);
  }

  latestSale(): { id: number; definition: string } | null {
    const row = this.db.prepare('SELECT id, definition FROM sales ORDER BY id DESC LIMIT 1').get() as // node:sqlite rows are untyped; this query's columns
      | { id: number; definition: string }
      | undefined;
    return row ? { id: Number(row.id), definition: String(row.definition) } : null;
  }

  newSale(definition: string): number {
    const r = this.db.prepare('INSERT INTO sales (definition, created_at) VALUES (?, ?)').run(definition, Date.now());
    return Number(r.lastInsertRowid);
  }

  recover(saleId: number): Recovery {
    const soldBySku = new Map<string, number>();
    for (const row of this.db.prepare('SELECT sku, SUM(qty) AS n FROM orders WHERE sale_id = ? GROUP BY sku').iterate(saleId)) {
      const r = row as { sku: string; n: number }; // node:sqlite rows are untyped; this query's columns
      soldBySku.set(r.sku, Number(r.n));
    }
    const users: Array<[string, number]> = [];
    for (const row of this.db.prepare('SELECT user_id, SUM(qty) AS n FROM orders WHERE sale_id = ? GROUP BY user_id').iterate(saleId)) {
      const r = row as { user_id: string; n: number }; // node:sqlite rows are untyped; this query's columns
      users.push([r.user_id, Number(r.n)]);
    }
    const keys: Array<[string, string, number | null]> = [];
    for (const row of this.db
      .prepare('SELECT idempotency_key, order_id, fingerprint FROM orders WHERE sale_id = ? AND idempotency_key IS NOT NULL')
      .iterate(saleId)) {
      const r = row as { idempotency_key: string; order_id: string; fingerprint: number | null }; // node:sqlite rows are untyped; this query's columns
      keys.push([r.idempotency_key, r.order_id, r.fingerprint === null ? null : Number(r.fingerprint)]);
    }
    const orders = Number((this.db.prepare('SELECT COUNT(*) AS n FROM orders WHERE sale_id = ?').get(saleId) as { n: number }).n); // node:sqlite rows are untyped; COUNT(*) AS n
    return { soldBySku, orders, users, keys };
  }

  /**
   * Writes orders (flat, ORDER_STRIDE fields each) in one transaction: one commit, one fsync for all.
   * A row that breaks a constraint fails alone; the returned array holds the indexes (order number,
   * not field offset) of the rows that failed, with the reason.
   */
  appendBatch(saleId: number, flat: ReadonlyArray<string | number | null>): Array<[index: number, reason: string]> {
    const failed: Array<[number, string]> = [];
    const orders = flat.length / ORDER_STRIDE;
    this.db.exec('BEGIN');
    try {
      for (let first = 0; first < orders; first += MAX_ROWS_PER_INSERT) {
        const rows = Math.min(MAX_ROWS_PER_INSERT, orders - first);
        // A failed multi-row INSERT is undone as a whole (SQLite's ABORT): redo its rows one by one
        // to find the culprits and keep the others.
        if (this.tryInsert(saleId, flat, first, rows)) continue;
        this.checkTransaction();
        for (let i = first; i < first + rows; i++) {
          try {
            this.insertRows(saleId, flat, i, 1);
          } catch (e) {
            this.checkTransaction();
            failed.push([i, messageOf(e)]);
          }
        }
      }
      this.db.exec('COMMIT');
    } catch (e) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw new LedgerError(`ledger commit failed: ${messageOf(e)}`, undefined, { cause: e });
    }
    return failed;
  }

  /**
   * Errors such as a full disk make SQLite roll the whole transaction back: then nothing may be
   * reported committed, and no later row may be written outside a transaction.
   */
  private checkTransaction(): void {
    if (!this.db.isTransaction) throw new LedgerError('SQLite rolled the transaction back');
  }

  private tryInsert(saleId: number, flat: ReadonlyArray<string | number | null>, first: number, rows: number): boolean {
    try {
      this.insertRows(saleId, flat, first, rows);
      return true;
    } catch {
      return false;
    }
  }

  private insertRows(saleId: number, flat: ReadonlyArray<string | number | null>, first: number, rows: number): void {
    const args: Array<string | number | null> = new Array(rows * ROW_ARGS);
    for (let r = 0, a = 0, i = first * ORDER_STRIDE; r < rows; r++, i += ORDER_STRIDE) {
      args[a++] = flat[i];
      args[a++] = saleId;
      args[a++] = flat[i + 1];
      args[a++] = flat[i + 2];
      args[a++] = flat[i + 3];
      args[a++] = flat[i + 4];
      args[a++] = flat[i + 5];
      args[a++] = flat[i + 6];
    }
    const insert = (this.inserts[rows] ??= this.db.prepare(COLUMNS + new Array(rows).fill(ROW).join(', ')));
    insert.run(...args);
  }

  /** One page of a sale's orders as NDJSON, in commit order; pass the returned rowid to get the next. */
  pageNdjson(saleId: number, afterRowid: number, limit: number): { ndjson: string; lastRowid: number; count: number } {
    let ndjson = '';
    let lastRowid = afterRowid;
    let count = 0;
    for (const row of this.page.iterate(saleId, afterRowid, limit)) {
      const r = row as { rowid: number; order_id: string; sku: string; user_id: string; qty: number; created_at: number }; // node:sqlite rows are untyped; this query's columns
      ndjson += `${JSON.stringify({ orderId: r.order_id, sku: r.sku, userId: r.user_id, qty: Number(r.qty), createdAt: Number(r.created_at) })}\n`;
      lastRowid = Number(r.rowid);
      count++;
    }
    return { ndjson, lastRowid, count };
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
