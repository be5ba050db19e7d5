// npm run bench:stores -- --clients  (or: node bench/stores-clients.ts [--ops N] [--reps N] [--json])
//
// The client choice for the shared stores (docs/stores.md "Clients"), by measurement on this machine in
// one run: node-redis against ioredis running the take script by EVALSHA, pg against postgres.js running
// a prepared point query and a 256-row INSERT … SELECT FROM unnest (the ledger's statement), all with 64
// requests in flight on ONE connection (what each client does with concurrency on a connection: node-redis
// and ioredis both pipeline; postgres.js pipelines; pg queues one query at a time unless its Client is made
// with pipeline: true, measured as "pg pipeline"). Rounds alternate the
// clients so drift hits both; each figure is the median of --reps rounds with the range.
// CPU µs/op is this process's user+system CPU per operation: the client's cost, the server's excluded.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import postgres from 'postgres';
import { connectRedis, type RedisClientName } from '../src/stores/redis/link.ts';
import { TAKE } from '../src/stores/redis/lua.ts';
import { median, range } from './stats.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : Number(args[i + 1]);
};
const OPS = flag('--ops', 20_000);
const REPS = flag('--reps', 5);
const IN_FLIGHT = 64;
const REDIS = process.env.FLASHSALE_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const PG = process.env.FLASHSALE_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Sample { opsPerSec: number; cpuUsPerOp: number }

/** `ops` calls of `op`, IN_FLIGHT at a time. */
async function measure(ops: number, op: (i: number) => Promise<unknown>): Promise<Sample> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < ops) await op(next++);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { opsPerSec: ops / seconds, cpuUsPerOp: (cpu.user + cpu.system) / ops };
}

async function redisRound(client: RedisClientName, prefix: string): Promise<Sample> {
  const link = await connectRedis(REDIS, client);
  const keys = [`${prefix}:{b}:stock`, `${prefix}:{b}:users`, `${prefix}:{b}:keys`, `${prefix}:{b}:holds`];
  await link.call(['DEL', ...keys]);
  await link.call(['HSET', keys[0], 'initial', 1e9, 'avail', 1e9, 'held', 0, 'sold', 0, 'epoch', 1]);
  await TAKE.run(link, keys, [1, 1, 'warm', 0, '', '', 'warm']);
  // The take script with a per-user limit, as a checkout with a limit sends it.
  const sample = await measure(OPS, (i) => link.call(['EVALSHA', TAKE.sha, 4, ...keys, 1, 1, `u${i}`, 2, '', '', `h${i}`]));
  await link.call(['DEL', ...keys]);
  await link.close();
  return sample;
}

type PgWork = 'point' | 'insert';
const ROWS = 256;

function rows(round: number, batch: number): string[][] {
  const ids: string[] = [];
  const users: string[] = [];
  for (let r = 0; r < ROWS; r++) {
    ids.push(`o${round}-${batch}-${r}`);
    users.push(`u${r}`);
  }
  return [ids, users];
}

type PgClientName = 'pg' | 'pg pipeline' | 'postgres.js';

async function pgRound(client: PgClientName, work: PgWork, table: string, round: number): Promise<Sample> {
  const ops = work === 'point' ? OPS : Math.max(8, Math.floor(OPS / 400));
  const insert = `INSERT INTO ${table} (order_id, user_id) SELECT * FROM unnest($1::text[], $2::text[])`;
  if (client !== 'postgres.js') {
    const c = new pg.Client({ connectionString: PG, pipeline: client === 'pg pipeline' });
    await c.connect();
    const s = await measure(ops, (i) =>
      work === 'point' ? c.query({ name: 'point', text: 'SELECT $1::int AS n', values: [i] }) : c.query({ name: 'ins', text: insert, values: rows(round, i) }),
    );
    await c.end();
    return work === 'insert' ? perRow(s) : s;
  }
  const sql = postgres(PG, { max: 1, onnotice: () => {} });
  const s = await measure(ops, (i) => (work === 'point' ? sql.unsafe('SELECT $1::int AS n', [i], { prepare: true }) : sql.unsafe(insert, rows(round, i), { prepare: true })));
  await sql.end();
  return work === 'insert' ? perRow(s) : s;
}

function perRow(s: Sample): Sample {
  return { opsPerSec: s.opsPerSec * ROWS, cpuUsPerOp: s.cpuUsPerOp / ROWS };
}

export interface ClientFigure { store: string; client: string; work: string; opsPerSec: { median: number; min: number; max: number }; cpuUsPerOp: { median: number; min: number; max: number } }

export async function compareClients(log: (line: string) => void = console.log): Promise<ClientFigure[]> {
  const samples = new Map<string, Sample[]>();
  const add = (k: string, s: Sample) => samples.set(k, [...(samples.get(k) ?? []), s]);
  const prefix = `fs-bench-clients-${process.pid}`;
  const table = `fs_bench_clients_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`CREATE TABLE ${table} (order_id text PRIMARY KEY, user_id text NOT NULL)`);
  try {
    for (let rep = 0; rep < REPS; rep++) {
      const redisOrder: RedisClientName[] = rep % 2 === 0 ? ['node-redis', 'ioredis'] : ['ioredis', 'node-redis'];
      for (const c of redisOrder) add(`redis|${c}|EVALSHA take`, await redisRound(c, prefix));
      const pgOrder: PgClientName[] = rep % 2 === 0 ? ['pg', 'pg pipeline', 'postgres.js'] : ['postgres.js', 'pg pipeline', 'pg'];
      for (const c of pgOrder) add(`postgres|${c}|point query`, await pgRound(c, 'point', table, rep));
      for (const c of pgOrder) add(`postgres|${c}|256-row insert (per row)`, await pgRound(c, 'insert', table, rep * 3 + pgOrder.indexOf(c)));
      log(`  client round ${rep + 1}/${REPS} done`);
    }
  } finally {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  }
  return [...samples].map(([k, list]) => {
    const [store, client, work] = k.split('|');
    const o = list.map((s) => s.opsPerSec);
    const c = list.map((s) => s.cpuUsPerOp);
    return { store, client, work, opsPerSec: { median: median(o), ...range(o) }, cpuUsPerOp: { median: median(c), ...range(c) } };
  });
}

export function clientTable(figures: ClientFigure[]): string {
  const lines = ['store     client       work                       ops/s median (range)          CPU µs/op median (range)'];
  for (const f of figures) {
    lines.push(
      `${f.store.padEnd(9)} ${f.client.padEnd(12)} ${f.work.padEnd(26)} ${fmt(f.opsPerSec.median).padStart(9)} (${fmt(f.opsPerSec.min)}–${fmt(f.opsPerSec.max)})`.padEnd(92) +
        `${f.cpuUsPerOp.median.toFixed(2).padStart(7)} (${f.cpuUsPerOp.min.toFixed(2)}–${f.cpuUsPerOp.max.toFixed(2)})`,
    );
  }
  return lines.join('\n');
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await compareClients();
  console.log(clientTable(figures));
  if (args.includes('--json')) console.log(JSON.stringify(figures));
}
