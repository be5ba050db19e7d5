// npm run bench:stores [-- --stock N] [-- --buyers N] [-- --concurrency N] [-- --seconds S] [-- --reps N]
//                      [-- --designs leased,redis-lua,…] [-- --pg-connections N] [-- --shards N] [-- --ledger] [-- --clients] [-- --json]
//
// The stock lab on real stores: the same crowd (--buyers buyers of one unit, --concurrency in flight,
// --seconds at most per design) raced through in-process leased, redis-lua (one EVALSHA per take),
// redis-lua-batched, redis-leased (two owners), pg-row (one hot row) and pg-sharded (--shards rows,
// SKIP LOCKED), each next to its hardware line measured in the same round: redis-benchmark running the
// same take script by EVALSHA with --concurrency clients, and pgbench running the hot-row UPDATE with
// --pg-connections clients (plus three shapes that explain the hot row's wall). Rounds repeat (--reps);
// figures are medians with their range. --ledger adds the PostgreSQL ledger (bench/stores-ledger.ts:
// durable orders/s through group commit, unnest INSERT against COPY); --clients adds the client
// comparison (bench/stores-clients.ts). Needs Redis and PostgreSQL on 127.0.0.1 (or
// FLASHSALE_BENCH_REDIS / FLASHSALE_BENCH_POSTGRES). Results go to reports/stores-<time>.json.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { LAB_DESIGNS, labDesign, lineOf, race, type LabDesignName, type LabEnv, type RaceResult } from '../src/stock/lab/index.ts';
import { pgbenchLine, redisLines, type Line } from '../src/stock/lab/lines.ts';
import { clientTable, compareClients } from './stores-clients.ts';
import { ledgerTable, measureLedger } from './stores-ledger.ts';
import { median, range } from './stats.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args[i + 1];
};
const num = (name: string, fallback: number) => {
  const v = Number(opt(name, String(fallback)));
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`${name} ${opt(name, '')} is not a positive number`);
    process.exit(2);
  }
  return v;
};
const STOCK = num('--stock', 20_000);
const BUYERS = num('--buyers', 30_000);
const CONCURRENCY = num('--concurrency', 50);
const SECONDS = num('--seconds', 6);
const REPS = num('--reps', 3);
const designs = opt('--designs', LAB_DESIGNS.join(',')).split(',') as LabDesignName[];
for (const d of designs) {
  if (!LAB_DESIGNS.includes(d)) {
    console.error(`--designs: unknown design "${d}" (one of ${LAB_DESIGNS.join(', ')})`);
    process.exit(2);
  }
}
const env: LabEnv = {
  redisUrl: process.env.FLASHSALE_BENCH_REDIS ?? 'redis://127.0.0.1:6379',
  postgresUrl: process.env.FLASHSALE_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test',
  name: `fs_lab_${process.pid}`,
  pgConnections: num('--pg-connections', 16),
  shards: num('--shards', 8),
};

const results = new Map<string, RaceResult[]>();
const lines = new Map<string, Line[]>();
const ratios = new Map<string, number[]>();
const push = <T>(m: Map<string, T[]>, k: string, v: T) => m.set(k, [...(m.get(k) ?? []), v]);

console.log(`stock lab: ${STOCK.toLocaleString('en-US')} units, ${BUYERS.toLocaleString('en-US')} buyers, ${CONCURRENCY} in flight, ≤ ${SECONDS} s per design, ${REPS} round(s); pg pool ${env.pgConnections}, ${env.shards} shards`);
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'} (shared: figures are noisy; compare ratios within one round)`);
const wantsRedis = designs.some((d) => lineOf(d) === 'redis-evalsha');
const wantsPg = designs.some((d) => lineOf(d) === 'pgbench-row');
for (let rep = 0; rep < REPS; rep++) {
  const round: Record<string, number> = {};
  if (wantsRedis) {
    for (const l of await redisLines(env.redisUrl, `${env.name}_line`, CONCURRENCY, 100_000)) {
      push(lines, l.name, l);
      if (l.name.includes('EVALSHA')) round['redis-evalsha'] = l.opsPerSec;
    }
  }
  if (wantsPg) {
    const l = await pgbenchLine(env.postgresUrl, env.name, { clients: env.pgConnections, rows: 1, synchronousCommit: 'on' }, Math.min(5, SECONDS));
    push(lines, l.name, l);
    round['pgbench-row'] = l.opsPerSec;
    // What makes the hot row's wall (docs/stores.md): one client alone, commits that skip the disk wait, separate rows.
    for (const shape of [
      { clients: 1, rows: 1, synchronousCommit: 'on' as const },
      { clients: env.pgConnections, rows: 1, synchronousCommit: 'off' as const },
      { clients: env.pgConnections, rows: env.pgConnections, synchronousCommit: 'on' as const },
    ]) {
      const extra = await pgbenchLine(env.postgresUrl, env.name, shape, 3);
      push(lines, extra.name, extra);
    }
  }
  for (const name of designs) {
    const r = await race(labDesign(name, env), { stock: STOCK, buyers: BUYERS, concurrency: CONCURRENCY, seconds: SECONDS });
    push(results, name, r);
    const line = lineOf(name);
    if (line !== null) push(ratios, name, r.takesPerSec / round[line]);
    console.log(`  round ${rep + 1}: ${name.padEnd(18)} ${Math.round(r.takesPerSec).toLocaleString('en-US').padStart(10)} takes/s  p99 ${r.p99Ms.toFixed(2)} ms  ${r.exact ? 'exact' : `NOT EXACT: ${r.why}`}${r.timedOut ? ' (time bound)' : ''}`);
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const med = (xs: number[]) => `${fmt(median(xs))} (${fmt(range(xs).min)}–${fmt(range(xs).max)})`;
console.log('\nhardware lines, median (range) over rounds');
for (const [name, ls] of lines) {
  console.log(`  ${name.padEnd(30)} ${med(ls.map((l) => l.opsPerSec)).padStart(28)} ops/s${ls[0].p99Ms !== null ? `  p99 ${median(ls.map((l) => l.p99Ms!)).toFixed(2)} ms` : ''}`);
  console.log(`    ${ls[0].command}`);
}
console.log('\ndesign              takes/s median (range)        p99 ms   sold / stock   exact   ratio to its line');
for (const [name, rs] of results) {
  const rt = ratios.get(name);
  const sold = rs.map((r) => `${r.sold}${r.timedOut ? '*' : ''}`).join(',');
  console.log(
    `${name.padEnd(19)} ${med(rs.map((r) => r.takesPerSec)).padStart(28)}  ${median(rs.map((r) => r.p99Ms)).toFixed(2).padStart(7)}   ${`${sold}`.padStart(12)}   ${rs.every((r) => r.exact) ? 'yes' : 'NO '}    ${rt ? `${median(rt).toFixed(2)}× (${range(rt).min.toFixed(2)}–${range(rt).max.toFixed(2)}) of ${lineOf(name as LabDesignName)}` : '—'}`,
  );
}
console.log('* stopped by the time bound before selling out');
const failures = [...results.values()].flat().filter((r) => !r.exact);
for (const f of failures) console.log(`NOT EXACT ${f.design}: ${f.why}`);

let ledger = null;
if (args.includes('--ledger')) {
  console.log('\nPostgreSQL ledger (bench/stores-ledger.ts)');
  ledger = await measureLedger((l) => console.log(l));
  console.log(ledgerTable(ledger));
}
let clients = null;
if (args.includes('--clients')) {
  console.log('\nclient comparison (64 in flight on one connection)');
  clients = await compareClients((l) => console.log(l));
  console.log(clientTable(clients));
}
const report = { ledger, stock: STOCK, buyers: BUYERS, concurrency: CONCURRENCY, seconds: SECONDS, reps: REPS, env: { pgConnections: env.pgConnections, shards: env.shards }, lines: Object.fromEntries(lines), results: Object.fromEntries(results), ratios: Object.fromEntries(ratios), clients };
await mkdir(new URL('../reports/', import.meta.url), { recursive: true });
const file = new URL(`../reports/stores-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url);
await writeFile(file, JSON.stringify(report, null, 2));
console.log(`\nwritten ${file.pathname}`);
if (args.includes('--json')) console.log(JSON.stringify(report));
process.exitCode = failures.length > 0 ? 1 : 0;
