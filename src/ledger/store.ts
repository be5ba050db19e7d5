// The order ledger on disk: SQLite through node:sqlite, written by one thread only.
// Sale epochs let POST /admin/sale start a fresh sale without losing the history of the last one.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { FlashsaleError } from '../errors.ts';

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
  soldBySku: Record<string, number>;
  users: Array<[userId: string, qty: number]>;
  keys: Array<[idempotencyKey: string, orderId: string]>;
}

export type SyncMode = 'FULL' | 'NORMAL';

export class LedgerError extends FlashsaleError {}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sales (
  id INTEGER PRIMARY KEY,
  definition TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
  order_id TEXT PRIMARY KEY,
  sale_id INTEGER NOT NULL,
  sku TEXT NOT NULL,
  user_id TEXT NOT NULL,
  qty INTEGER NOT NULL CHECK (qty > 0),
  created_at INTEGER NOT NULL,
  idempotency_key TEXT,
  UNIQUE (sale_id, idempotency_key)
);
`;

/** Fields of one order in the flat arrays HTTP threads post (fewer objects to clone per order). */
export const ORDER_STRIDE = 6;

export class LedgerStore {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly insert: StatementSync;
  private readonly page: StatementSync;

  constructor(path: string, sync: SyncMode = 'FULL') {
    this.path = path;
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
      this.db.exec(`PRAGMA synchronous = ${sync}`);
      this.db.exec(SCHEMA);
    } catch (e) {
      throw new LedgerError(`cannot open ledger ${path}: ${(e as Error).message}`, undefined, { cause: e });
    }
    this.insert = this.db.prepare(
      'INSERT INTO orders (order_id, sale_id, sku, user_id, qty, created_at, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.page = this.db.prepare(
      'SELECT rowid, order_id, sku, user_id, qty, created_at FROM orders WHERE sale_id = ? AND rowid > ? ORDER BY rowid LIMIT ?',
    );
  }

  latestSale(): { id: number; definition: string } | null {
    const row = this.db.prepare('SELECT id, definition FROM sales ORDER BY id DESC LIMIT 1').get() as
      | { id: number; definition: string }
      | undefined;
    return row ? { id: Number(row.id), definition: String(row.definition) } : null;
  }

  newSale(definition: string): number {
    const r = this.db.prepare('INSERT INTO sales (definition, created_at) VALUES (?, ?)').run(definition, Date.now());
    return Number(r.lastInsertRowid);
  }

  recover(saleId: number): Recovery {
    const soldBySku: Record<string, number> = {};
    for (const row of this.db.prepare('SELECT sku, SUM(qty) AS n FROM orders WHERE sale_id = ? GROUP BY sku').iterate(saleId)) {
      const r = row as { sku: string; n: number };
      soldBySku[r.sku] = Number(r.n);
    }
    const users: Array<[string, number]> = [];
    for (const row of this.db.prepare('SELECT user_id, SUM(qty) AS n FROM orders WHERE sale_id = ? GROUP BY user_id').iterate(saleId)) {
      const r = row as { user_id: string; n: number };
      users.push([r.user_id, Number(r.n)]);
    }
    const keys: Array<[string, string]> = [];
    for (const row of this.db
      .prepare('SELECT idempotency_key, order_id FROM orders WHERE sale_id = ? AND idempotency_key IS NOT NULL')
      .iterate(saleId)) {
      const r = row as { idempotency_key: string; order_id: string };
      keys.push([r.idempotency_key, r.order_id]);
    }
    return { soldBySku, users, keys };
  }

  /**
   * Writes orders (flat, ORDER_STRIDE fields each) in one transaction: one commit, one fsync for all.
   * A row that breaks a constraint fails alone (SQLite rolls back just that statement); the returned
   * array holds the indexes (order number, not field offset) of the rows that failed, with the reason.
   */
  appendBatch(saleId: number, flat: ReadonlyArray<string | number | null>): Array<[index: number, reason: string]> {
    const failed: Array<[number, string]> = [];
    this.db.exec('BEGIN');
    try {
      for (let i = 0, n = 0; i < flat.length; i += ORDER_STRIDE, n++) {
        try {
          this.insert.run(flat[i], saleId, flat[i + 1], flat[i + 2], flat[i + 3], flat[i + 4], flat[i + 5]);
        } catch (e) {
          failed.push([n, (e as Error).message]);
        }
      }
      this.db.exec('COMMIT');
    } catch (e) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw new LedgerError(`ledger commit failed: ${(e as Error).message}`, undefined, { cause: e });
    }
    return failed;
  }

  /** One page of a sale's orders as NDJSON, in commit order; pass the returned rowid to get the next. */
  pageNdjson(saleId: number, afterRowid: number, limit: number): { ndjson: string; lastRowid: number; count: number } {
    let ndjson = '';
    let lastRowid = afterRowid;
    let count = 0;
    for (const row of this.page.iterate(saleId, afterRowid, limit)) {
      const r = row as { rowid: number; order_id: string; sku: string; user_id: string; qty: number; created_at: number };
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
