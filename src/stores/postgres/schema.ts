// The PostgreSQL ledger's tables, in a schema of their own (tests use one per test; a deployment uses
// one per environment). The same rules as the SQLite ledger (src/ledger/store.ts): an order id is unique,
// an idempotency key is unique within its sale (partial index: orders without a key add no entry), and
// sales are epochs. Added here: each sale's stock epoch, the fence a stock rebuild raises (see ledger.ts),
// and reservations: durable while open so a rebuild can count them (a paid one is the order of the same
// id; an expired one is an open row past expires_at; a released one says so).

/** A schema name is spliced into SQL: only plain identifiers. */
export function checkSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new RangeError(`schema "${schema}" is not a plain lower-case identifier (a-z, 0-9, _; at most 63)`);
  return schema;
}

export function schemaSql(schema: string): string {
  const s = checkSchemaName(schema);
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.sales (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  definition text NOT NULL,
  created_at bigint NOT NULL,
  stock_epoch bigint NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS ${s}.orders (
  order_id text PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  sale_id bigint NOT NULL,
  sku text NOT NULL,
  user_id text NOT NULL,
  qty integer NOT NULL CHECK (qty > 0),
  created_at bigint NOT NULL,
  idempotency_key text,
  fingerprint integer,
  stock_epoch bigint
);
CREATE UNIQUE INDEX IF NOT EXISTS orders_sale_key ON ${s}.orders (sale_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS orders_sale_seq ON ${s}.orders (sale_id, seq);
CREATE TABLE IF NOT EXISTS ${s}.reservations (
  reservation_id text PRIMARY KEY,
  sale_id bigint NOT NULL,
  sku text NOT NULL,
  user_id text NOT NULL,
  qty integer NOT NULL CHECK (qty > 0),
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'released')),
  idempotency_key text,
  fingerprint integer,
  answer text NOT NULL,
  stock_epoch bigint NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS reservations_sale_key ON ${s}.reservations (sale_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS reservations_open ON ${s}.reservations (sale_id, expires_at) WHERE state = 'open';
`;
}
