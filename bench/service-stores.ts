// npm run bench:service-stores [-- --rounds 3 --duration 5 --connections 64 --configs 'disk 1p×1t,leased 1p×1t' --json]
// (the cluster rows beside their single-server ones: --configs 'stores 1p×1t,cluster-lua 1p×1t,leased 1p×1t,cluster-leased 1p×1t')
// Durable checkouts per second through `flashsale serve` processes: the in-process service (stock in a
// SharedArrayBuffer; SQLite ledger in memory — the fastest it gets — and on disk, durable like the stores), one process on the shared stores
// (Redis stock by EVALSHA, batched per SKU; PostgreSQL ledger, group commit, synchronous_commit on),
// and two processes on the stores with 1 and 2 HTTP threads each; then the same one and two processes
// with `--stock-strategy redis-leased` (units leased from Redis in batches, sold from each process's
// memory). Every configuration is a fresh set of
// child processes on a fresh schema and key prefix; the order of the configurations alternates between
// rounds, and ratios are taken within a round (median and range over rounds), because the machine is
// shared. Stock never sells out and there is no per-user limit, so every request is a full checkout.
// The `resv` rows run the reservation journey instead, on one process with each strategy: each buyer
// reserves (POST /api/v1/reservations, its row group-committed in PostgreSQL) then pays it (POST
// /api/v1/orders {reservationId}); they count completed pays per second and the service's CPU per pay.
// The load comes from this process (undici pools, round robin over the processes' URLs).
// The `evalsha line` row is the issue's hardware line for redis-lua, measured in the same round:
// redis-benchmark running the same take script by EVALSHA with as many clients as the service has
// connections (src/stock/lab/lines.ts); `luaToEvalsha` is the service's checkouts/s through redis-lua
// over it.
// The `cluster-` rows are `stores 1p×1t` and `leased 1p×1t` on a Redis Cluster of the bench's own (3 masters
// on free loopback ports, test/helpers/redis-cluster.ts; skipped with the reason without redis-server and
// redis-cli 7+): the sale's one SKU lives on one master, so they price the cluster client's routing and
// the failover fence's node check (src/stores/redis/node-lua.ts), not the cluster's scale-out.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import pg from 'pg';
import { dropKeysUnder } from '../src/stores/redis/link.ts';
import { redisLines } from '../src/stock/lab/lines.ts';
import { median, range } from './stats.ts';
import { RedisCluster, redisClusterTools } from '../test/helpers/redis-cluster.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '64' },
    configs: { type: 'string' },
    redis: { type: 'string', default: process.env.FLASHSALE_TEST_REDIS ?? 'redis://127.0.0.1:6379' },
    postgres: { type: 'string', default: process.env.FLASHSALE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const connections = Number(values.connections);
for (const [name, v] of [['rounds', rounds], ['duration', duration], ['connections', connections]] as const) {
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`bench:service-stores: --${name} ${v} is not a positive whole number`);
    process.exit(2);
  }
}

const BIN = fileURLToPath(new URL('../bin/flashsale.js', import.meta.url));

interface Config { name: string; line?: boolean; stores: boolean; leased?: boolean; disk?: boolean; cluster?: boolean; processes: number; threads: number; journey?: 'checkout' | 'reserve-pay' }
const ALL_CONFIGS: Config[] = [
  { name: 'memory 1p×1t', stores: false, processes: 1, threads: 1 },
  // The durable in-process service (SQLite file, each 201 committed first): the fair line for the stores rows.
  { name: 'disk 1p×1t', stores: false, disk: true, processes: 1, threads: 1 },
  { name: 'stores 1p×1t', stores: true, processes: 1, threads: 1 },
  { name: 'stores 2p×1t', stores: true, processes: 2, threads: 1 },
  { name: 'stores 2p×2t', stores: true, processes: 2, threads: 2 },
  { name: 'leased 1p×1t', stores: true, leased: true, processes: 1, threads: 1 },
  { name: 'leased 2p×1t', stores: true, leased: true, processes: 2, threads: 1 },
  // Reserve → pay per buyer: two durable commits (the reservation's row, then the order) per completed pay.
  { name: 'resv-lua 1p×1t', stores: true, processes: 1, threads: 1, journey: 'reserve-pay' },
  { name: 'resv-leased 1p×1t', stores: true, leased: true, processes: 1, threads: 1, journey: 'reserve-pay' },
  // The same on a 3-master Redis Cluster of the bench's own (the SKU's keys on one master).
  { name: 'cluster-lua 1p×1t', stores: true, cluster: true, processes: 1, threads: 1 },
  { name: 'cluster-leased 1p×1t', stores: true, cluster: true, leased: true, processes: 1, threads: 1 },
  // Not the service: redis-benchmark's EVALSHA of the take script, the hardware line redis-lua is held to.
  { name: 'evalsha line', line: true, stores: true, processes: 0, threads: 0 },
];
const asked = values.configs?.split(',').map((n) => n.trim());
const unknown = asked?.filter((n) => !ALL_CONFIGS.some((c) => c.name === n)) ?? [];
if (unknown.length > 0) {
  console.error(`bench:service-stores: --configs: no configuration ${unknown.map((n) => `"${n}"`).join(', ')} (there are: ${ALL_CONFIGS.map((c) => c.name).join(', ')})`);
  process.exit(2);
}
let CONFIGS = asked ? ALL_CONFIGS.filter((c) => asked.includes(c.name)) : ALL_CONFIGS;
const clusterTools = CONFIGS.some((c) => c.cluster) ? redisClusterTools() : { ok: true, reason: '' };
if (!clusterTools.ok) {
  console.error(`bench:service-stores: the cluster- rows are skipped: ${clusterTools.reason}`);
  CONFIGS = CONFIGS.filter((c) => !c.cluster);
}
/** The cluster the cluster- rows run on, started once before the first round. */
const cluster = CONFIGS.some((c) => c.cluster) ? await RedisCluster.start(3) : null;

function serveChild(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (url) => resolve({ child, url }));
    child.once('exit', (code) => reject(new Error(`serve ${args.join(' ')} exited (${code}):\n${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * Journeys completed per second over `seconds`, from `connections` loops round robin over the URLs: a
 * checkout answered 201, or a reservation answered 201 and then paid (201).
 */
async function drive(urls: string[], seconds: number, journey: Config['journey'] = 'checkout'): Promise<{ ok: number; other: number; perSec: number }> {
  const pools = urls.map((u) => new Pool(u, { connections: Math.ceil(connections / urls.length), pipelining: 1 }));
  let ok = 0;
  let other = 0;
  let n = 0;
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  const loop = async (id: number) => {
    const pool = pools[id % pools.length];
    while (performance.now() < until) {
      const userId = `b${id}-${n++}`;
      try {
        const body = JSON.stringify({ sku: 'bench', userId, qty: 1 });
        if (journey === 'reserve-pay') {
          const r = await pool.request({ method: 'POST', path: '/api/v1/reservations', headers: JSON_HEADERS, body });
          if (r.statusCode !== 201) {
            await r.body.dump();
            other++;
            continue;
          }
          const { reservationId } = (await r.body.json()) as { reservationId: string };
          const p = await pool.request({ method: 'POST', path: '/api/v1/orders', headers: JSON_HEADERS, body: JSON.stringify({ reservationId }) });
          await p.body.dump();
          if (p.statusCode === 201) ok++;
          else other++;
          continue;
        }
        const res = await pool.request({ method: 'POST', path: '/api/v1/checkout', headers: JSON_HEADERS, body });
        await res.body.dump();
        if (res.statusCode === 201) ok++;
        else other++;
      } catch {
        other++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, i) => loop(i)));
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all(pools.map((p) => p.close()));
  return { ok, other, perSec: Math.round(ok / elapsed) };
}

/** CPU time (user + system, all threads) of a process so far, in µs; null off Linux. */
function cpuUs(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return null;
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: values.postgres });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

async function measure(config: Config, round: number): Promise<{ perSec: number; other: number; cpuUsPerCheckout: number | null }> {
  if (config.line) {
    // About `duration` seconds at the line's usual rate here (~20,000 calls/s per second of run on 2 cores).
    const [evalsha] = await redisLines(values.redis, `flashsale:bench_line_${process.pid}_${round}`, connections, 20_000 * duration);
    return { perSec: Math.round(evalsha!.opsPerSec), other: 0, cpuUsPerCheckout: null }; // redisLines answers EVALSHA first
  }
  const schema = `bench_svc_${process.pid}_${round}_${config.processes}${config.threads}${config.leased ? 'l' : config.stores ? 's' : 'm'}${config.journey === 'reserve-pay' ? 'r' : ''}${config.cluster ? 'c' : ''}`;
  const redisUrl = config.cluster ? cluster!.url : values.redis; // a cluster- row runs only when the cluster started
  const base = ['--port', '0', '--sku', 'bench', '--stock', String(2 ** 31 - 1), '--per-user-limit', 'none', '--threads', String(config.threads), '--max-in-flight', String(connections * 4)];
  const stores = [...base, '--stock-store', redisUrl, '--ledger', values.postgres, '--store-schema', schema, ...(config.leased ? ['--stock-strategy', 'redis-leased'] : [])];
  const dir = config.disk ? mkdtempSync(join(tmpdir(), 'flashsale-bench-')) : null;
  const inProcess = [...base, '--expected-users', '1024', ...(dir !== null ? ['--ledger', join(dir, 'ledger.db')] : [])];
  const args = config.stores ? stores : inProcess;
  const children: ChildProcess[] = [];
  try {
    const urls: string[] = [];
    // One at a time: the second start continues the sale the first one created.
    for (let p = 0; p < config.processes; p++) {
      const s = await serveChild(args);
      children.push(s.child);
      urls.push(s.url);
    }
    if (warmup > 0) await drive(urls, warmup, config.journey);
    const cpu = () => children.reduce<number | null>((sum, c) => (sum === null ? null : ((u) => (u === null ? null : sum + u))(cpuUs(c.pid))), 0);
    const before = cpu();
    const r = await drive(urls, duration, config.journey);
    const after = cpu();
    const cpuUsPerCheckout = before !== null && after !== null && r.ok > 0 ? Math.round((after - before) / r.ok) : null;
    return { ...r, cpuUsPerCheckout };
  } finally {
    await Promise.all(children.map(stop));
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
    if (config.stores) {
      await dropSchema(schema);
      await dropKeysUnder(redisUrl, `flashsale:${schema}`);
    }
  }
}

const load0 = loadavg()[0];
const results = new Map<string, number[]>(CONFIGS.map((c) => [c.name, []]));
const cpuPer = new Map<string, number[]>(CONFIGS.map((c) => [c.name, []]));
/** Ratios between configurations measured in the same round (only those whose both sides ran). */
const RATIOS = {
  storesToMemory: ['stores 1p×1t', 'memory 1p×1t'],
  twoToOneProcess: ['stores 2p×1t', 'stores 1p×1t'],
  twoThreadsToOne: ['stores 2p×2t', 'stores 2p×1t'],
  leasedToMemory: ['leased 1p×1t', 'memory 1p×1t'],
  storesToDisk: ['stores 1p×1t', 'disk 1p×1t'],
  leasedToDisk: ['leased 1p×1t', 'disk 1p×1t'],
  diskToMemory: ['disk 1p×1t', 'memory 1p×1t'],
  leasedToLua: ['leased 1p×1t', 'stores 1p×1t'],
  leasedTwoToOneProcess: ['leased 2p×1t', 'leased 1p×1t'],
  resvLeasedToLua: ['resv-leased 1p×1t', 'resv-lua 1p×1t'],
  resvLuaToCheckout: ['resv-lua 1p×1t', 'stores 1p×1t'],
  resvLeasedToCheckout: ['resv-leased 1p×1t', 'leased 1p×1t'],
  luaToEvalsha: ['stores 1p×1t', 'evalsha line'],
  clusterLuaToSingle: ['cluster-lua 1p×1t', 'stores 1p×1t'],
  clusterLeasedToSingle: ['cluster-leased 1p×1t', 'leased 1p×1t'],
} as const;
/** What a row counts: a checkout, or a reservation paid. */
const unitOf = (c: Config) => (c.line ? 'call' : c.journey === 'reserve-pay' ? 'pay' : 'checkout');
const isPays = (name: string) => ALL_CONFIGS.find((c) => c.name === name)?.journey === 'reserve-pay';
const isLine = (name: string) => ALL_CONFIGS.find((c) => c.name === name)?.line === true;
const ratios = Object.fromEntries(Object.keys(RATIOS).map((k) => [k, [] as number[]])) as Record<keyof typeof RATIOS, number[]>;
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? CONFIGS : [...CONFIGS].reverse();
    const got = new Map<string, number>();
    for (const c of order) {
      if (!values.json) process.stderr.write(`round ${round + 1}/${rounds}: ${c.name} (${warmup}s warm-up + ${duration}s, ${connections} connections)... `);
      const r = await measure(c, round);
      got.set(c.name, r.perSec);
      results.get(c.name)!.push(r.perSec); // every config has a list
      if (r.cpuUsPerCheckout !== null) cpuPer.get(c.name)!.push(r.cpuUsPerCheckout); // every config has a list
      const what = unitOf(c);
      if (!values.json) process.stderr.write(`${r.perSec} ${what}s/s, ${r.cpuUsPerCheckout ?? '?'} µs service CPU per ${what}${r.other > 0 ? ` (${r.other} other answers)` : ''}\n`);
    }
    for (const [key, [a, b]] of Object.entries(RATIOS) as Array<[keyof typeof RATIOS, readonly [string, string]]>) {
      const x = got.get(a);
      const y = got.get(b);
      if (x !== undefined && y !== undefined && y > 0) ratios[key].push(x / y);
    }
  }
} finally {
  await cluster?.stop();
}
const load1 = loadavg()[0];
const fmt = (xs: number[], digits = 0) => {
  const r = range(xs);
  return { median: Number(median(xs).toFixed(digits)), min: Number(r.min.toFixed(digits)), max: Number(r.max.toFixed(digits)) };
};
const summary = {
  bench: 'service-stores',
  node: process.version,
  cpus: availableParallelism(),
  cpuModel: cpus()[0]?.model ?? 'unknown',
  loadAverage: { start: Number(load0.toFixed(1)), end: Number(load1.toFixed(1)) },
  rounds,
  durationSec: duration,
  connections,
  checkoutsPerSec: Object.fromEntries([...results].filter(([k, v]) => !isPays(k) && !isLine(k) && v.length > 0).map(([k, v]) => [k, fmt(v)])),
  /** redis-benchmark EVALSHA of the take script, calls/s: the line `luaToEvalsha` divides by. */
  evalshaLinePerSec: ((v) => (v !== undefined && v.length > 0 ? fmt(v) : null))(results.get('evalsha line')),
  /** CPU time of all the service's processes per 201: what the service costs, whatever the client got. */
  serviceCpuUsPerCheckout: Object.fromEntries([...cpuPer].filter(([k, v]) => !isPays(k) && v.length > 0).map(([k, v]) => [k, fmt(v)])),
  /** The reserve → pay rows: reservations paid (201 to both) per second, and the service's CPU per pay. */
  paysPerSec: Object.fromEntries([...results].filter(([k]) => isPays(k)).map(([k, v]) => [k, fmt(v)])),
  serviceCpuUsPerPay: Object.fromEntries([...cpuPer].filter(([k, v]) => isPays(k) && v.length > 0).map(([k, v]) => [k, fmt(v)])),
  ratios: Object.fromEntries(Object.entries(ratios).filter(([, v]) => v.length > 0).map(([k, v]) => [k, fmt(v, 2)])),
};
if (values.json) console.log(JSON.stringify(summary));
else {
  console.log(`\ncheckouts/s (reserve → pay rows: pays/s) through serve processes (${connections} connections, ${duration}s, ${rounds} rounds, ${summary.cpus} cpus, load average ${summary.loadAverage.start} → ${summary.loadAverage.end})`);
  for (const [name, v] of Object.entries(summary.checkoutsPerSec)) {
    const c = summary.serviceCpuUsPerCheckout[name];
    console.log(`${name.padEnd(21)} ${v.median} (${v.min}–${v.max}) checkouts/s${c ? `; service CPU ${c.median} µs/checkout (${c.min}–${c.max})` : ''}`);
  }
  if (summary.evalshaLinePerSec !== null) {
    const v = summary.evalshaLinePerSec;
    console.log(`${'evalsha line'.padEnd(21)} ${v.median} (${v.min}–${v.max}) calls/s (redis-benchmark, ${connections} clients, the take script)`);
  }
  for (const [name, v] of Object.entries(summary.paysPerSec)) {
    const c = summary.serviceCpuUsPerPay[name];
    console.log(`${name.padEnd(21)} ${v.median} (${v.min}–${v.max}) pays/s${c ? `; service CPU ${c.median} µs/pay (${c.min}–${c.max})` : ''}`);
  }
  for (const [key, r] of Object.entries(summary.ratios)) {
    const [a, b] = RATIOS[key as keyof typeof RATIOS];
    console.log(`${`${a} / ${b}:`.padEnd(40)} ${r.median}× (${r.min}–${r.max})`);
  }
}
