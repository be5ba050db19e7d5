// Reservations' rows on the real PostgreSQL, group-committed (src/stores/postgres/reservations.ts): reserves
// that arrive together go in one statement — one transaction — and each row still answers alone: a
// stale stock epoch or a duplicate id or key refuses that row and commits the rest; a statement that
// failed as a whole fails every reserve in it and writes none. A release is fenced by the stock epoch
// too: refused under an old one (also when it waited on the fence while a rebuild raised the epoch).
// Through the service (both stock strategies), a concurrent reserve crowd commits in fewer statements
// than reservations (/metrics), and every 201 has its row.
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PgLedger } from '../src/stores/postgres/ledger.ts';
import { PgReservations, type ReservationRow } from '../src/stores/postgres/reservations.ts';
import { StoreUnavailableError } from '../src/errors.ts';
import { startStoreService, type RunningStoreService } from '../src/service/on-stores.ts';
import { dropPgSchema, pgRows, dropRedisKeys, postgresAvailable, POSTGRES_URL, redisAvailable, REDIS_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';

const redis = await redisAvailable();
const postgres = await postgresAvailable();
requireOrSkip('PostgreSQL', postgres);
requireOrSkip('Redis', redis);

const schemas: string[] = [];
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers) await c().catch(() => {});
  for (const s of schemas) {
    await dropPgSchema(s).catch(() => {});
    if (redis.ok) await dropRedisKeys(`flashsale:${s}`).catch(() => {});
  }
});

function newSchema(): string {
  const s = uniqueName('fs_test_resv').toLowerCase();
  schemas.push(s);
  return s;
}

const sql = <T = any>(text: string, values: unknown[] = []): Promise<T[]> => pgRows<T>(text, values);

/** A ledger with one sale, and reservations on its schema counting their statements. */
async function setup(): Promise<{ schema: string; ledger: PgLedger; sale: number; epoch: number; resv: PgReservations; statements: () => number }> {
  const schema = newSchema();
  const ledger = await PgLedger.open(POSTGRES_URL, { schema });
  const sale = await ledger.newSale('{"skus":[]}');
  let statements = 0;
  const resv = new PgReservations(POSTGRES_URL, schema, (op) => {
    if (op === 'reserve') statements++;
  });
  closers.push(() => resv.close(), () => ledger.close());
  return { schema, ledger, sale, epoch: await ledger.stockEpoch(sale), resv, statements: () => statements };
}

const row = (sale: number, epoch: number, id: string, over: Partial<ReservationRow> = {}): ReservationRow => ({
  reservationId: id, saleId: sale, sku: 'A', userId: `u-${id}`, qty: 1, createdAt: 1_700_000_000_000, expiresAt: 1_700_000_060_000,
  key: null, fingerprint: null, answer: `{"reservationId":"${id}"}`, epoch, ...over,
});

const ids = async (schema: string) => (await sql<{ reservation_id: string }>(`SELECT reservation_id FROM ${schema}.reservations`)).map((r) => r.reservation_id).sort();

describe.skipIf(!postgres.ok)('PgReservations: group commit', () => {
  it('a crowd of reserves commits in fewer statements than rows, every row written', { timeout: 60_000 }, async () => {
    const { schema, sale, epoch, resv, statements } = await setup();
    const n = 300;
    const names = Array.from({ length: n }, (_, i) => `r${String(i).padStart(3, '0')}`);
    expect(await Promise.all(names.map((id) => resv.insert(row(sale, epoch, id))))).toEqual(Array(n).fill(null));
    expect(statements()).toBeLessThan(n);
    expect(resv.stats.batches).toBe(statements());
    expect(resv.stats.rows).toBe(n);
    expect(resv.stats.largestBatch).toBeGreaterThan(1);
    expect(await ids(schema)).toEqual(names);
  });

  it('a stale stock epoch fails alone in its batch; the rest commit', { timeout: 60_000 }, async () => {
    const { schema, ledger, sale, epoch, resv, statements } = await setup();
    const { epoch: rebuilt } = await ledger.beginRebuild(sale); // a rebuild raised the epoch: rows taken before it are stale
    expect(rebuilt).toBe(epoch + 1);
    const got = await Promise.all([
      resv.insert(row(sale, rebuilt, 'a')),
      resv.insert(row(sale, epoch, 'old')),
      resv.insert(row(sale, rebuilt, 'b')),
    ]);
    expect(statements(), 'one statement for the three').toBe(1);
    expect(got[0]).toBeNull();
    expect(got[1]).toBe(`stale stock epoch ${epoch} (the stock was rebuilt: epoch ${rebuilt})`);
    expect(got[2]).toBeNull();
    expect(await ids(schema)).toEqual(['a', 'b']);
  });

  it('a duplicate id or key fails alone in its batch, with its reason; the rest commit', { timeout: 60_000 }, async () => {
    const { schema, sale, epoch, resv, statements } = await setup();
    expect(await resv.insert(row(sale, epoch, 'first', { key: 'k1', fingerprint: 7 }))).toBeNull();
    const got = await Promise.all([
      resv.insert(row(sale, epoch, 'first')), // id already in the ledger
      resv.insert(row(sale, epoch, 'x', { key: 'k1', fingerprint: 7 })), // key already used in this sale
      resv.insert(row(sale, epoch, 'y', { key: 'k2', fingerprint: 8 })),
      resv.insert(row(sale, epoch, 'z', { key: 'k2', fingerprint: 8 })), // key used earlier in this batch
      resv.insert(row(sale, epoch, 'bad', { qty: 0 })), // refused before it is sent
      resv.insert(row(sale, epoch, 'w')),
    ]);
    expect(statements(), 'the first insert, then one statement for the batch').toBe(2);
    expect(got).toEqual([
      'duplicate reservation id or idempotency key',
      'duplicate reservation id or idempotency key',
      null,
      'duplicate reservation id or idempotency key',
      'qty must be a whole number in 1..2^31-1',
      null,
    ]);
    expect(await ids(schema)).toEqual(['first', 'w', 'y']);
    const keys = await sql(`SELECT reservation_id, idempotency_key FROM ${schema}.reservations WHERE idempotency_key IS NOT NULL ORDER BY reservation_id`);
    expect(keys).toEqual([{ reservation_id: 'first', idempotency_key: 'k1' }, { reservation_id: 'y', idempotency_key: 'k2' }]);
  });

  it('a release is fenced by the stock epoch: refused under an old epoch (the row stays open), recorded under the current one', { timeout: 60_000 }, async () => {
    const { schema, ledger, sale, epoch, resv } = await setup();
    expect(await resv.insert(row(sale, epoch, 'held'))).toBeNull();
    const { epoch: rebuilt } = await ledger.beginRebuild(sale);
    const state = async () => (await sql<{ state: string }>(`SELECT state FROM ${schema}.reservations WHERE reservation_id = 'held'`))[0].state;
    expect(await resv.release('held', sale, epoch)).toBe(`stale stock epoch ${epoch} (the stock was rebuilt: epoch ${rebuilt})`);
    expect(await state()).toBe('open');
    expect(await resv.release('held', sale, rebuilt)).toBeNull();
    expect(await state()).toBe('released');
    expect(await resv.release('held', sale, rebuilt), 'a row already released: nothing to do').toBeNull();
    await expect(resv.release('held', sale + 1000, rebuilt)).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('a release waiting on the fence while a rebuild raises the epoch reads the raised epoch and is refused', { timeout: 60_000 }, async () => {
    const { schema, sale, epoch, resv } = await setup();
    expect(await resv.insert(row(sale, epoch, 'held'))).toBeNull();
    // The rebuild's bump, held open: the release's FOR SHARE on the sale row waits for it.
    const bump = new pg.Client({ connectionString: POSTGRES_URL });
    await bump.connect();
    closers.push(() => bump.end());
    await bump.query('BEGIN');
    await bump.query(`UPDATE ${schema}.sales SET stock_epoch = stock_epoch + 1 WHERE id = $1`, [sale]);
    const released = resv.release('held', sale, epoch);
    let waiting = 0;
    for (const until = Date.now() + 20_000; waiting === 0 && Date.now() < until; ) {
      const r = await sql(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [`%UPDATE ${schema}.reservations r SET state%`]);
      waiting = r.length;
      if (waiting === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(waiting, 'the release waits for the epoch bump').toBe(1);
    await bump.query('COMMIT');
    expect(await released).toBe(`stale stock epoch ${epoch} (the stock was rebuilt: epoch ${epoch + 1})`);
    expect((await sql(`SELECT state FROM ${schema}.reservations WHERE reservation_id = 'held'`))[0].state).toBe('open');
  });

  it('a statement that failed as a whole rejects every reserve in it and writes none; the next batch commits', { timeout: 60_000 }, async () => {
    const { schema, sale, epoch, resv } = await setup();
    // A rule only the server checks, which ON CONFLICT does not absorb: one such row fails the statement.
    await sql(`ALTER TABLE ${schema}.reservations ADD CONSTRAINT no_boom CHECK (user_id <> 'boom')`);
    const got = await Promise.allSettled([
      resv.insert(row(sale, epoch, 'a')),
      resv.insert(row(sale, epoch, 'b', { userId: 'boom' })),
      resv.insert(row(sale, epoch, 'c')),
    ]);
    expect(got.map((g) => g.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const g of got) expect((g as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    expect(await ids(schema)).toEqual([]);
    expect(await resv.insert(row(sale, epoch, 'd'))).toBeNull();
    expect(await ids(schema)).toEqual(['d']);
  });
});

/** One sample of a /metrics page (exact name and labels), or 0 when absent. */
function sample(page: string, series: string): number {
  for (const line of page.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return 0;
}

describe.skipIf(!(postgres.ok && redis.ok)).each(['redis-lua', 'redis-leased'] as const)('a reserve crowd through the service, %s', (strategy) => {
  it('commits in fewer PostgreSQL statements than reservations, and every 201 has its row', { timeout: 120_000 }, async () => {
    const schema = newSchema();
    const stock = 150;
    const users = 200;
    const svc: RunningStoreService = await startStoreService({
      sale: { skus: [{ id: 'A', stock }], perUserLimit: 1, reservationTtlMs: 60_000, opensAtEpochMs: null, payment: { declineRate: 0, latencyMs: 0 } },
      redisUrl: REDIS_URL, ledgerUrl: POSTGRES_URL, schema, threads: 1, log: () => {}, strategy,
    });
    let closed = false;
    closers.push(async () => void (closed || (await svc.close())));
    const answers = await Promise.all(Array.from({ length: users }, async (_, i) => {
      const res = await fetch(`${svc.url}/api/v1/reservations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'A', userId: `c${i}`, qty: 1 }) });
      return { status: res.status, json: (await res.json()) as { reservationId?: string; error?: string } };
    }));
    const made = answers.filter((a) => a.status === 201).map((a) => a.json.reservationId!);
    const refused = answers.filter((a) => a.status !== 201);
    expect(made.length, 'the whole stock reserved').toBe(stock);
    expect(refused.every((a) => a.status === 409 && a.json.error === 'sold_out')).toBe(true);
    // Every 201 has its row, and nothing else was written.
    expect(await ids(schema)).toEqual([...made].sort());
    const page = await (await fetch(`${svc.url}/metrics`)).text();
    const statements = sample(page, 'flashsale_store_round_trip_seconds_count{store="postgres",op="reserve"}');
    expect(statements).toBeGreaterThanOrEqual(1);
    expect(statements, 'reserves that arrived together committed together').toBeLessThan(stock);
    expect(sample(page, 'flashsale_http_requests_total{route="reserve",status="201"}')).toBe(stock);
    closed = true;
    await svc.close();
  });
});
