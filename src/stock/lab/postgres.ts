// pg-row: the classic hot row, UPDATE … SET available = available - 1 WHERE sku = $1 AND available >= 1,
// one transaction per take (synchronous_commit on: each waits for its WAL flush while holding the row
// lock). pg-sharded: the SKU split over N rows; a take locks any row with stock (FOR UPDATE SKIP LOCKED,
// starting at a random shard) and, when every row with stock is locked, waits for one instead of answering
// sold out — exact, unlike buckets that strand units ("stock exists yet cannot be reserved").
import pg from 'pg';
import { checkSchemaName } from '../../stores/postgres/schema.ts';
import type { LabDesign, LabEnv } from './types.ts';
import { codeOf } from '../../errors.ts';

abstract class PgLab implements LabDesign {
  abstract readonly name: LabDesign['name'];
  protected readonly env: LabEnv;
  protected readonly schema: string;
  protected pool: pg.Pool | null = null;

  constructor(env: LabEnv) {
    this.env = env;
    this.schema = checkSchemaName(env.name.replace(/-/g, '_'));
  }

  protected abstract rows(stock: number): Array<[shard: number, units: number]>;

  async setup(stock: number): Promise<void> {
    await this.close();
    this.pool = new pg.Pool({ connectionString: this.env.postgresUrl, max: this.env.pgConnections });
    this.pool.on('error', () => {});
    const s = this.schema;
    await this.pool.query(`CREATE SCHEMA IF NOT EXISTS ${s}; DROP TABLE IF EXISTS ${s}.stock; CREATE TABLE ${s}.stock (sku text NOT NULL, shard int NOT NULL, available int NOT NULL CHECK (available >= 0), PRIMARY KEY (sku, shard))`);
    const rows = this.rows(stock);
    await this.pool.query(`INSERT INTO ${s}.stock SELECT 'A', * FROM unnest($1::int[], $2::int[])`, [rows.map((r) => r[0]), rows.map((r) => r[1])]);
    // Every connection opened and the statements' plans cached before the clock starts.
    await Promise.all(Array.from({ length: this.env.pgConnections }, () => this.pool!.query('SELECT 1')));
  }

  abstract take(buyer: number): Promise<boolean>;

  async snapshot(): Promise<{ sold: number; available: number }> {
    const r = await this.pool!.query(`SELECT COALESCE(SUM(available), 0)::int AS a FROM ${this.schema}.stock`); // set in setup(), before any query
    return { sold: -1, available: Number(r.rows[0].a) };
  }

  async close(): Promise<void> {
    if (this.pool === null) return;
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`).catch(() => {});
    await this.pool.end();
    this.pool = null;
  }
}

export class PgRowLab extends PgLab {
  readonly name = 'pg-row' as const;

  protected rows(stock: number): Array<[number, number]> {
    return [[0, stock]];
  }

  async take(): Promise<boolean> {
    const r = await this.pool!.query({ name: 'row-take', text: `UPDATE ${this.schema}.stock SET available = available - 1 WHERE sku = 'A' AND shard = 0 AND available >= 1` }); // set in setup(), before any query
    return r.rowCount === 1;
  }
}

export class PgShardedLab extends PgLab {
  readonly name = 'pg-sharded' as const;

  protected rows(stock: number): Array<[number, number]> {
    const n = this.env.shards;
    return Array.from({ length: n }, (_, i) => [i, Math.floor(stock / n) + (i < stock % n ? 1 : 0)]);
  }

  async take(buyer: number): Promise<boolean> {
    const s = this.schema;
    const n = this.env.shards;
    const start = buyer % n;
    const pick = (skip: boolean) =>
      this.pool!.query({ // set in setup(), before any query
        name: skip ? 'shard-skip' : 'shard-wait',
        text:
          `UPDATE ${s}.stock t SET available = t.available - 1 FROM (SELECT shard FROM ${s}.stock WHERE sku = 'A' AND available >= 1 ` +
          `ORDER BY (shard + $1) % $2 LIMIT 1 FOR UPDATE${skip ? ' SKIP LOCKED' : ''}) c WHERE t.sku = 'A' AND t.shard = c.shard`,
        values: [n - start, n],
      });
    if ((await pick(true)).rowCount === 1) return true;
    // Every row with stock was locked, or none has any: wait for one. A row that ran dry while we waited
    // is dropped after the lock (and LIMIT may then return nothing though other rows have stock), so an
    // empty answer is sold out only once no row has any. The dry row stays locked by us until the end of
    // the statement's transaction, so two waiters starting at different shards can deadlock: PostgreSQL
    // aborts one (40P01), which simply tries again.
    for (;;) {
      try {
        if ((await pick(false)).rowCount === 1) return true;
      } catch (e) {
        if (codeOf(e) === '40P01') continue;
        throw e;
      }
      const left = await this.pool!.query({ name: 'shard-left', text: `SELECT 1 FROM ${s}.stock WHERE sku = 'A' AND available >= 1 LIMIT 1` }); // set in setup(), before any query
      if (left.rowCount === 0) return false;
    }
  }
}
