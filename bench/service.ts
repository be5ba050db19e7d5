// npm run bench:service [-- --json] [-- --duration 10 --connections 64]
// Durable checkouts per second through the whole service (HTTP threads → stock core → ledger thread →
// SQLite commit → 201), for 1 and 2 HTTP threads with the ledger in memory and on disk
// (synchronous=FULL, in a temp dir). Stock never sells out and the per-user limit is off, so every
// request is a full checkout. autocannon runs in a child process (this file again, with --drive), so
// this process holds only the service and its CPU time per checkout can be measured: on a machine
// where client and server share the cores, CPU per checkout is the figure that says what the service
// costs; checkouts/s also depends on what the client gets. With --json the last line is one JSON object.
// The hardware line (bench/service-bare.ts: plain node:http on the same threads, same body, only the
// atomic take) is measured in the same run by the same client: durable/bare says what the service's
// guarantees cost. --rounds N repeats everything N times, the order of the rows rotating, and reports
// the ratios as median and range.
// --profile runs one row (--threads, default 2; --ledger, default disk) in a child process under
// --cpu-prof (every thread of the service: HTTP threads, ledger thread, main) and prints where a
// checkout's CPU goes, by category (bench/service-profile.ts); the profiles stay in the printed folder.
import { createRequire } from 'node:module';
import { fork, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startService } from '../src/service/index.ts';
import { startBareService } from './service-bare.ts';
import { formatProfileTable, profileTable } from './service-profile.ts';
import { cpuByRole, threadTimes, type ThreadCpu } from './service-threads.ts';
import { spread } from './stats.ts';

interface AutocannonResult {
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  latency: { p50: number; p99: number; max: number };
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

/** Child → parent: warm-up over (start the CPU clock), then the measured run's figures. */
type DriveMsg = { t: 'warm' } | { t: 'done'; r: AutocannonResult } | { t: 'failed'; message: string };

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '1' },
    drive: { type: 'string' }, // internal: the child's target URL
    profile: { type: 'boolean', default: false },
    threads: { type: 'string', default: '2' },
    ledger: { type: 'string', default: 'disk' },
    rows: { type: 'string' }, // e.g. 2:disk,2:memory,2:bare (default: 1 and 2 threads × memory, disk, bare)
    'profile-run': { type: 'string' }, // internal: the profiled child's output folder
  },
});
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const connections = Number(values.connections);
const rounds = Math.max(1, Math.floor(Number(values.rounds)) || 1);
for (const [name, v] of [['duration', duration], ['warmup', warmup], ['connections', connections]] as const) {
  if (!Number.isFinite(v) || v < 0 || (name !== 'warmup' && v <= 0)) {
    console.error(`bench:service: --${name} ${v} is not a positive number`);
    process.exit(2);
  }
}

const BODY = JSON.stringify({ sku: 'bench', userId: 'bench-user', qty: 1 });

if (values.drive !== undefined) await drive(values.drive);
else if (values['profile-run'] !== undefined) await profileRun(values['profile-run']);
else if (values.profile) profile();
else await main();

/** The figures a profiled run leaves next to its profiles: checkouts and the measured window (profile clock, µs). */
interface ProfileWindow { checkouts: number; fromUs: number; toUs: number; threads: number; ledger: string }

function profileShape(): { threads: number; ledger: 'memory' | 'disk' } {
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) {
    console.error(`bench:service: --threads ${values.threads} is not a whole number ≥ 1`);
    process.exit(2);
  }
  if (values.ledger !== 'memory' && values.ledger !== 'disk') {
    console.error(`bench:service: --ledger ${values.ledger} is not memory or disk`);
    process.exit(2);
  }
  return { threads, ledger: values.ledger };
}

/** Parent of --profile: runs the profiled child, then reads its profiles. */
function profile(): void {
  const { threads, ledger } = profileShape();
  const dir = mkdtempSync(join(tmpdir(), 'flashsale-profile-'));
  const args = ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=250', fileURLToPath(import.meta.url), '--profile-run', dir];
  args.push('--threads', String(threads), '--ledger', ledger, '--duration', String(duration), '--warmup', String(warmup), '--connections', String(connections));
  process.stderr.write(`profiling ${threads} thread(s), ledger ${ledger} (${warmup}s warm-up + ${duration}s) into ${dir}...\n`);
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.error(`bench:service: the profiled run failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
  const w = JSON.parse(readFileSync(join(dir, 'window.json'), 'utf8')) as ProfileWindow; // written by profileRun just below
  const table = profileTable(dir, w.checkouts, w.fromUs, w.toUs);
  if (values.json) console.log(JSON.stringify({ bench: 'service-profile', node: process.version, threads, ledger, connections, durationSec: duration, ...table }));
  else console.log(`\n${w.threads} HTTP thread(s), ledger ${w.ledger}, ${Math.round(w.checkouts / duration)} checkouts/s under --cpu-prof (profiling slows it)\n${formatProfileTable(table)}\n\nprofiles: ${dir}`);
}

/** Child of --profile (runs under --cpu-prof): one measured row, its window written for the parent. */
async function profileRun(dir: string): Promise<void> {
  const { threads, ledger } = profileShape();
  const row = await measure(threads, ledger, (from, to, checkouts) => {
    const w: ProfileWindow = { checkouts, fromUs: from, toUs: to, threads, ledger };
    writeFileSync(join(dir, 'window.json'), JSON.stringify(w));
  });
  const t = row.cpuUsByThread;
  // The CPU the kernel charged, beside the profile's busy time (which counts a thread blocked in fsync).
  const byThread = t ? ` (HTTP threads ${t.http}, ledger thread ${t.ledger}, main ${t.main}, V8/libuv helpers ${t.helpers})` : '';
  process.stderr.write(`${row.checkoutsPerSec} checkouts/s, ${row.serviceCpuUsPerCheckout} µs CPU per checkout${byThread}\n`);
}

/** Microseconds on the clock V8's CPU profiles use (the monotonic clock). */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Child process: warm up, tell the parent, run the measured load, send its figures. */
async function drive(url: string): Promise<void> {
  const send = (m: DriveMsg) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  try {
    const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
    const request = { url: `${url}/api/v1/checkout`, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections };
    if (warmup > 0) await autocannon({ ...request, duration: warmup });
    await send({ t: 'warm' });
    await send({ t: 'done', r: await autocannon({ ...request, duration }) });
  } catch (e) {
    await send({ t: 'failed', message: (e as Error).message });
  }
  process.disconnect();
}

interface Row {
  threads: number;
  /** bare: the hardware line (bench/service-bare.ts), not the service. */
  ledger: 'memory' | 'disk' | 'bare';
  checkoutsPerSec: number;
  /** CPU time (user + system, all threads) of the service's process per 2xx, in µs. */
  serviceCpuUsPerCheckout: number;
  /** The same by thread (Linux: /proc/self/task; null elsewhere): HTTP threads, ledger thread, main, V8/libuv helpers. */
  cpuUsByThread: ThreadCpu | null;
  /** Orders per ledger commit over the measured run (from /metrics). */
  ordersPerCommit: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** The ledger's commit count and orders committed so far, from the service's /metrics page. */
async function commits(url: string): Promise<{ count: number; orders: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { count: read('flashsale_ledger_batch_size_count'), orders: read('flashsale_ledger_batch_size_sum') };
}

/**
 * Runs the child against `url`; resolves with its result, this process's CPU time and the orders
 * per commit over the measured run.
 */
function load(url: string): Promise<{ r: AutocannonResult; cpuUs: number; byThread: ThreadCpu | null; ordersPerCommit: number; fromUs: number; toUs: number }> {
  const args = ['--drive', url, '--duration', String(duration), '--warmup', String(warmup), '--connections', String(connections)];
  // execArgv []: the load process is never profiled with the service.
  const child = fork(fileURLToPath(import.meta.url), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  let start = process.cpuUsage();
  let threadsAtStart = threadTimes();
  let fromUs = monotonicUs();
  let before: Promise<{ count: number; orders: number }> | null = null;
  return new Promise((resolve, reject) => {
    let settled = false;
    child.on('message', (m: DriveMsg) => {
      if (m.t === 'warm') {
        start = process.cpuUsage();
        threadsAtStart = threadTimes();
        fromUs = monotonicUs();
        before = commits(url);
        before.catch(() => {}); // awaited (and reported) at 'done'
      } else if (m.t === 'done') {
        const used = process.cpuUsage(start);
        const byThread = cpuByRole(threadsAtStart, threadTimes());
        const toUs = monotonicUs();
        settled = true;
        Promise.all([before ?? { count: 0, orders: 0 }, commits(url)])
          .then(([a, b]) => {
            const ordersPerCommit = b.count > a.count ? Number(((b.orders - a.orders) / (b.count - a.count)).toFixed(1)) : 0;
            resolve({ r: m.r, cpuUs: used.user + used.system, byThread, ordersPerCommit, fromUs, toUs });
          })
          .catch(reject);
      } else {
        settled = true;
        reject(new Error(`bench:service: the load process failed: ${m.message}`));
      }
    });
    child.on('exit', (code) => {
      if (!settled) reject(new Error(`bench:service: the load process exited with code ${code} before reporting`));
    });
  });
}

async function measureBare(threads: number): Promise<Row> {
  const bare = await startBareService(threads);
  try {
    const { r, cpuUs, byThread } = await load(bare.url);
    // No ledger thread here: every WorkerThread is an HTTP thread.
    if (byThread) {
      byThread.http += byThread.ledger;
      byThread.ledger = 0;
    }
    return {
      threads,
      ledger: 'bare',
      checkoutsPerSec: Math.round(r['2xx'] / r.duration),
      serviceCpuUsPerCheckout: r['2xx'] > 0 ? Number((cpuUs / r['2xx']).toFixed(1)) : 0,
      cpuUsByThread: perCheckout(byThread, r['2xx']),
      ordersPerCommit: 0,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
    };
  } finally {
    await bare.close();
  }
}

/** `window`: told the measured window (monotonic µs) and the checkouts answered in it. */
async function measure(threads: number, ledger: 'memory' | 'disk' | 'bare', window?: (fromUs: number, toUs: number, checkouts: number) => void): Promise<Row> {
  if (ledger === 'bare') return measureBare(threads);
  const dir = ledger === 'disk' ? mkdtempSync(join(tmpdir(), 'flashsale-bench-')) : null;
  const service = await startService({
    sale: { skus: [{ id: 'bench', stock: 2 ** 31 - 1 }], perUserLimit: 0, reservationTtlMs: 60_000, opensAtEpochMs: null, payment: { declineRate: 0, latencyMs: 0 } },
    threads,
    ledgerPath: dir ? join(dir, 'ledger.sqlite') : ':memory:',
    maxInFlightPerThread: connections * 4, // measure throughput, not shedding
    expectedUsers: 1024,
  });
  try {
    const { r, cpuUs, byThread, ordersPerCommit, fromUs, toUs } = await load(service.url);
    window?.(fromUs, toUs, r['2xx']);
    return {
      threads,
      ledger,
      checkoutsPerSec: Math.round(r['2xx'] / r.duration),
      serviceCpuUsPerCheckout: r['2xx'] > 0 ? Number((cpuUs / r['2xx']).toFixed(1)) : 0,
      cpuUsByThread: perCheckout(byThread, r['2xx']),
      ordersPerCommit,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
    };
  } finally {
    await service.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

function perCheckout(cpu: ThreadCpu | null, checkouts: number): ThreadCpu | null {
  if (!cpu || checkouts <= 0) return null;
  const f = (us: number) => Number((us / checkouts).toFixed(1));
  return { main: f(cpu.main), ledger: f(cpu.ledger), http: f(cpu.http), helpers: f(cpu.helpers) };
}

/** --rows 2:disk,2:memory: the rows to run, in order; default 1 and 2 threads × memory, disk, bare. */
function rowKinds(): Array<[number, 'memory' | 'disk' | 'bare']> {
  const kinds: Array<[number, 'memory' | 'disk' | 'bare']> = [];
  if (values.rows === undefined) {
    for (const threads of [1, 2]) for (const ledger of ['memory', 'disk', 'bare'] as const) kinds.push([threads, ledger]);
    return kinds;
  }
  for (const spec of values.rows.split(',')) {
    const [t, ledger] = spec.split(':');
    const threads = Number(t);
    if (!Number.isInteger(threads) || threads < 1 || (ledger !== 'memory' && ledger !== 'disk' && ledger !== 'bare')) {
      console.error(`bench:service: --rows ${spec} is not <threads>:<memory|disk|bare>`);
      process.exit(2);
    }
    kinds.push([threads, ledger]);
  }
  return kinds;
}

async function main(): Promise<void> {
  const kinds = rowKinds();
  const perRound: Row[][] = [];
  for (let round = 0; round < rounds; round++) {
    const got: Row[] = [];
    for (let i = 0; i < kinds.length; i++) {
      const [threads, ledger] = kinds[(i + round) % kinds.length];
      if (!values.json) process.stderr.write(`round ${round + 1}: ${threads} thread(s), ${ledger === 'bare' ? 'bare line' : `ledger ${ledger}`} (${warmup}s warm-up + ${duration}s)...\n`);
      got.push(await measure(threads, ledger));
    }
    perRound.push(got);
  }
  const rows = perRound.at(-1)!.slice().sort((a, b) => a.threads - b.threads || a.ledger.localeCompare(b.ledger));
  const of = (rs: Row[], threads: number, ledger: Row['ledger']) => rs.find((r) => r.threads === threads && r.ledger === ledger);
  const over = (fn: (rs: Row[]) => number) => spread(perRound.map(fn));
  const ratioOf = (rs: Row[], threads: number, base: 'memory' | 'bare') => {
    // NaN when --rows left either row out
    const b = of(rs, threads, base)?.checkoutsPerSec ?? 0;
    return b > 0 ? (of(rs, threads, 'disk')?.checkoutsPerSec ?? NaN) / b : NaN;
  };
  const toMemory = { threads1: over((rs) => ratioOf(rs, 1, 'memory')), threads2: over((rs) => ratioOf(rs, 2, 'memory')) };
  const toBare = { threads1: over((rs) => ratioOf(rs, 1, 'bare')), threads2: over((rs) => ratioOf(rs, 2, 'bare')) };
  const ratio = (threads: 1 | 2) => (threads === 1 ? toMemory.threads1.median : toMemory.threads2.median);
  const summary = {
    bench: 'service',
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    durationSec: duration,
    connections,
    rows,
    rounds,
    durableToMemoryRatio: { threads1: ratio(1), threads2: ratio(2) },
    /** Durable checkouts/s (disk ledger) over the bare line's, 2 threads (the goal: ≥ 0.6); median over rounds. */
    durableToBareRatio: toBare.threads2.median,
    ratios: { durableToMemory: toMemory, durableToBare: toBare },
  };

  if (values.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  console.log(`\nflashsale reference service, checkouts through autocannon (${connections} connections, ${duration}s each, ${summary.cpus} cpus)\n`);
  console.log('threads  ledger   checkouts/s   service CPU µs/checkout (http/ledger/main/helpers)   orders/commit   p50 ms   p99 ms   non-2xx  errors');
  for (const r of rows) {
    const t = r.cpuUsByThread;
    const byThread = t ? `(${t.http}/${t.ledger}/${t.main}/${t.helpers})` : '';
    console.log(
      `${String(r.threads).padStart(7)}  ${r.ledger.padEnd(6)} ${String(r.checkoutsPerSec).padStart(13)} ${`${r.serviceCpuUsPerCheckout} ${byThread}`.padStart(51)} ${String(r.ordersPerCommit).padStart(15)} ${String(r.p50Ms).padStart(8)} ${String(r.p99Ms).padStart(8)} ${String(r.non2xx).padStart(9)} ${String(r.errors).padStart(7)}`,
    );
  }
  const f = (x: { median: number; min: number; max: number }) => `${x.median.toFixed(3)} (${x.min.toFixed(3)}–${x.max.toFixed(3)})`;
  console.log(`\ndurable (disk, synchronous=FULL) / in-memory: 1 thread ${f(toMemory.threads1)}, 2 threads ${f(toMemory.threads2)}`);
  console.log(`durable / bare line (node:http + JSON + atomic take): 1 thread ${f(toBare.threads1)}, 2 threads ${f(toBare.threads2)}  (median, range over ${rounds} round(s); the rows above are the last round)`);
}

