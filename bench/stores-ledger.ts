// npm run bench:stores -- --ledger  (or: node bench/stores-ledger.ts [--seconds S] [--reps N] [--in-flight N])
//
// The PostgreSQL ledger: durable orders per second through PgGroupCommitter (the real ledger: pg,
// one statement: the epoch fence + INSERT … FROM unnest, its own transaction, synchronous_commit on) with --in-flight
// appends outstanding, as many service threads would keep; and, per batch size, the two ways to put a
// batch in — one multi-row INSERT … SELECT FROM unnest(arrays) against COPY into a temporary table then
// INSERT … SELECT … ON CONFLICT DO NOTHING (COPY itself cannot skip a duplicate row) — both through
// postgres.js (the one client here with COPY built in), one transaction per batch, so the choice is
// made on the same client and the same commit cost. Median and range over --reps rounds.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { PgLedger } from '../src/stores/postgres/ledger.ts';
import { PgGroupCommitter } from '../src/stores/postgres/group-commit.ts';
import { median, range } from './stats.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : Number(args[i + 1]);
};
const SECONDS = flag('--seconds', 4);
const REPS = flag('--reps', 3);
const IN_FLIGHT = flag('--in-flight', 512);
const URL_PG = process.env.FLASHSALE_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

async function groupCommitRound(schema: string, round: number): Promise<{ ordersPerSec: number; meanBatch: number }> {
  const ledger = await PgLedger.open(URL_PG, { schema });
  const sale = await ledger.newSale('{}');
  const committer = new PgGroupCommitter(ledger, sale);
  let next = 0;
  let durable = 0;
  const t0 = performance.now();
  const until = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < until) {
        const n = next++;
        const r = await committer.append({ orderId: `r${round}-${n}`, sku: 'A', userId: `u${n % 5000}`, qty: 1, createdAt: Date.now(), key: n % 4 === 0 ? `k${round}-${n}` : null, fingerprint: n % 4 === 0 ? 7 : null, epoch: 1 });
        if (r === null) durable++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await ledger.close();
  return { ordersPerSec: durable / seconds, meanBatch: committer.stats.orders / committer.stats.batches };
}

async function batchRound(sql: postgres.Sql, schema: string, way: 'unnest' | 'copy', size: number, round: number): Promise<number> {
  let batches = 0;
  const t0 = performance.now();
  const until = t0 + Math.min(SECONDS, 2) * 1000;
  while (performance.now() < until) {
    const ids = Array.from({ length: size }, (_, i) => `${way}${size}-${round}-${batches}-${i}`);
    await sql.begin(async (tx) => {
      if (way === 'unnest') {
        await tx.unsafe(
          `INSERT INTO ${schema}.orders (order_id, sale_id, sku, user_id, qty, created_at) SELECT o, 1, 'A', u, 1, 0 FROM unnest($1::text[], $2::text[]) AS t(o, u) ON CONFLICT DO NOTHING`,
          [ids, ids],
          { prepare: true },
        );
      } else {
        await tx.unsafe('CREATE TEMP TABLE IF NOT EXISTS staging (order_id text, user_id text) ON COMMIT DELETE ROWS');
        const stream = await tx.unsafe('COPY staging (order_id, user_id) FROM STDIN').writable();
        stream.write(ids.map((id) => `${id}\t${id}\n`).join(''));
        stream.end();
        await new Promise((resolve, reject) => stream.on('finish', resolve).on('error', reject));
        await tx.unsafe(`INSERT INTO ${schema}.orders (order_id, sale_id, sku, user_id, qty, created_at) SELECT order_id, 1, 'A', user_id, 1, 0 FROM staging ON CONFLICT DO NOTHING`);
      }
    });
    batches++;
  }
  return (batches * size) / ((performance.now() - t0) / 1000);
}

export interface LedgerFigures { groupCommit: { ordersPerSec: number[]; meanBatch: number[] }; ways: Record<string, number[]> }

export async function measureLedger(log: (line: string) => void = console.log): Promise<LedgerFigures> {
  const schema = `fs_bench_ledger_${process.pid}`;
  // TCP_NODELAY: without it every COPY waits ~40 ms on Nagle's algorithm against the server's delayed ACK
  // (measured here: 43 ms per COPY phase, 0.4 ms with it), which would measure the socket, not COPY.
  const u = new URL(URL_PG);
  // `socket` is a documented option missing from postgres.js's type declarations.
  const options = {
    max: 1,
    onnotice: () => {},
    socket: () => {
      const s = connect(Number(u.port || 5432), u.hostname);
      s.setNoDelay(true);
      return s;
    },
  };
  const admin = postgres(URL_PG, options);
  const figures: LedgerFigures = { groupCommit: { ordersPerSec: [], meanBatch: [] }, ways: {} };
  try {
    for (let rep = 0; rep < REPS; rep++) {
      const g = await groupCommitRound(schema, rep);
      figures.groupCommit.ordersPerSec.push(g.ordersPerSec);
      figures.groupCommit.meanBatch.push(g.meanBatch);
      for (const size of [16, 64, 256, 1024]) {
        for (const way of rep % 2 === 0 ? (['unnest', 'copy'] as const) : (['copy', 'unnest'] as const)) {
          const k = `${way} ${size}`;
          (figures.ways[k] ??= []).push(await batchRound(admin, schema, way, size, rep));
        }
      }
      log(`  ledger round ${rep + 1}/${REPS} done`);
    }
  } finally {
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
  return figures;
}

export function ledgerTable(f: LedgerFigures): string {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const m = (xs: number[]) => `${fmt(median(xs))} (${fmt(range(xs).min)}–${fmt(range(xs).max)})`;
  const lines = [
    `group commit, ${IN_FLIGHT} appends in flight: ${m(f.groupCommit.ordersPerSec)} durable orders/s, mean batch ${median(f.groupCommit.meanBatch).toFixed(0)} orders`,
    'rows per transaction   unnest INSERT rows/s        COPY + INSERT rows/s',
  ];
  for (const size of [16, 64, 256, 1024]) lines.push(`${String(size).padStart(20)}   ${m(f.ways[`unnest ${size}`]).padEnd(26)}  ${m(f.ways[`copy ${size}`])}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await measureLedger();
  console.log(ledgerTable(f));
  if (args.includes('--json')) console.log(JSON.stringify(f));
}
