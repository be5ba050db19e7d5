// npm run bench:stock [-- --json] [-- --ops N] [-- --reps N] [-- --threads 1,2,4]
//
// Throughput of every stock strategy at 1, 2 and 4 threads, next to the hardware's own lines measured in
// the same run on the same machine: a raw `Atomics.sub` loop (the fastest a shared counter can go, with
// no check at all), a bare CAS loop (what `atomic` is built from) and fetch-sub with compensation (the
// alternative to CAS). Every thread does a fixed number of takes of one unit from one SKU; there are
// enough units that no counter runs dry mid-measure; threads warm up, then are released together.
// Each figure is the median of --reps runs. With --json the last line printed is one JSON object.
//
// This file is also the benchmark's worker: the main thread re-runs it in worker threads.
import { availableParallelism, cpus } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { attachStock, createStockShared, STRATEGIES, type StockShared, type StrategyName } from '../src/stock/index.ts';
import { STRIDE } from '../src/stock/layout.ts';
import { LOW_OVERLAP, overlapOf } from '../src/simulate/overlap.ts';
import { arriveAndWait, createStartGate, release, waitForArrivals } from '../src/simulate/start-gate.ts';

type Line = 'raw' | 'cas' | 'subComp';
type Kind = StrategyName | Line;
const LINES: readonly Line[] = ['raw', 'cas', 'subComp'];
const LINE_NAMES: Record<Line, string> = { raw: 'raw Atomics.sub', cas: 'bare CAS loop', subComp: 'fetch-sub + compensate' };

interface Job {
  kind: Kind;
  stock: StockShared | null;
  words: SharedArrayBuffer | null;
  gate: SharedArrayBuffer;
  threadIndex: number;
  ops: number;
  warmup: number;
}

let leaseSize: number | undefined;

interface ThreadResult {
  startedAt: number;
  endedAt: number;
  taken: number;
}

const MEASURED = 0; // SKU (or stride) raced on
const WARMUP = 1; // SKU (or stride) each thread warms its JIT on before the start line

function now(): number {
  return performance.timeOrigin + performance.now();
}

// ---- worker side ----------------------------------------------------------------------------------

function runLine(kind: Line, words: Int32Array, at: number, ops: number): number {
  let taken = 0;
  if (kind === 'raw') {
    for (let i = 0; i < ops; i++) if (Atomics.sub(words, at, 1) > 0) taken++;
  } else if (kind === 'cas') {
    for (let i = 0; i < ops; i++) {
      let current = Atomics.load(words, at);
      while (current > 0) {
        const seen = Atomics.compareExchange(words, at, current, current - 1);
        if (seen === current) {
          taken++;
          break;
        }
        current = seen;
      }
    }
  } else {
    for (let i = 0; i < ops; i++) {
      if (Atomics.sub(words, at, 1) > 0) taken++;
      else Atomics.add(words, at, 1);
    }
  }
  return taken;
}

function runStrategy(stock: StockShared, threadIndex: number, sku: number, ops: number): number {
  const counter = attachStock(stock, threadIndex);
  let taken = 0;
  for (let i = 0; i < ops; i++) if (counter.tryTake(sku, 1)) taken++;
  return taken;
}

function work(job: Job): ThreadResult {
  const run = (at: number, ops: number): number =>
    job.stock ? runStrategy(job.stock, job.threadIndex, at, ops) : runLine(job.kind as Line, new Int32Array(job.words!), at * STRIDE, ops);
  run(WARMUP, job.warmup);
  arriveAndWait(job.gate);
  const startedAt = now();
  const taken = run(MEASURED, job.ops);
  const endedAt = now();
  if (job.stock) attachStock(job.stock, job.threadIndex).flush();
  return { startedAt, endedAt, taken };
}

// ---- main side ------------------------------------------------------------------------------------

interface Measurement {
  opsPerSec: number;
  /** Units handed out (successful takes). */
  sold: number;
  /** Units handed out that the counter never recorded (lost updates): what naive oversells. */
  oversold: number;
  /** Share of the wall time between the last thread's start and the first thread's finish: near 1 when they truly raced. */
  overlap: number;
}

async function measureOnce(kind: Kind, threads: number, ops: number, warmup: number): Promise<Measurement> {
  const units = threads * ops;
  const isLine = (LINES as readonly string[]).includes(kind);
  const stock = isLine ? null : createStockShared(kind as StrategyName, [{ initial: units }, { initial: threads * warmup }], { maxThreads: threads, leaseSize });
  const words = isLine ? new SharedArrayBuffer(2 * STRIDE * 4) : null;
  if (words) {
    new Int32Array(words)[MEASURED * STRIDE] = units;
    new Int32Array(words)[WARMUP * STRIDE] = threads * warmup;
  }
  const gate = createStartGate();
  const workers = Array.from({ length: threads }, (_, threadIndex) => {
    const job: Job = { kind, stock, words, gate, threadIndex, ops, warmup };
    return new Worker(new URL(import.meta.url), { workerData: job });
  });
  const done = workers.map(
    (w) =>
      new Promise<ThreadResult>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`bench worker exited with code ${code} before reporting`)));
      }),
  );
  const all = Promise.all(done);
  try {
    await Promise.race([waitForArrivals(gate, threads, 60_000), all]);
  } finally {
    release(gate);
  }
  const results = await all;
  await Promise.all(workers.map((w) => w.terminate()));
  const firstStart = Math.min(...results.map((r) => r.startedAt));
  const lastEnd = Math.max(...results.map((r) => r.endedAt));
  const elapsedMs = lastEnd - firstStart;
  const overlap = overlapOf(results);
  const sold = results.reduce((sum, r) => sum + r.taken, 0);
  // What the counter itself recorded (initial − available), not naive's receipts, which snapshot().sold sums.
  const counted = units - (stock ? attachStock(stock, 0).snapshot(MEASURED).available : new Int32Array(words!)[MEASURED * STRIDE]);
  return { opsPerSec: Math.round((threads * ops) / (elapsedMs / 1000)), sold, oversold: Math.max(0, sold - counted), overlap };
}

/**
 * Every kind at every thread count, rep after rep, interleaved so that the raw line and the strategies
 * compared with it are measured close together in time (a machine's speed drifts); median per cell.
 */
async function measureAll(kinds: readonly Kind[], threads: number[], ops: number, reps: number): Promise<Map<string, Measurement>> {
  const runs = new Map<string, Measurement[]>();
  for (let rep = 0; rep < reps; rep++) {
    for (const t of threads) {
      for (const kind of kinds) {
        const key = `${kind}@${t}`;
        const m = await measureOnce(kind, t, ops, Math.min(ops, 200_000));
        runs.set(key, [...(runs.get(key) ?? []), m]);
      }
    }
  }
  const medians = new Map<string, Measurement>();
  for (const [key, list] of runs) medians.set(key, list.sort((a, b) => a.opsPerSec - b.opsPerSec)[Math.floor(list.length / 2)]);
  return medians;
}

function parseArgs(argv: string[]): { json: boolean; ops: number; reps: number; threads: number[]; leaseSize?: number; only?: string[] } {
  const out: { json: boolean; ops: number; reps: number; threads: number[]; leaseSize?: number; only?: string[] } = { json: false, ops: 5_000_000, reps: 3, threads: [1, 2, 4] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value.`);
      return v;
    };
    if (arg === '--json') out.json = true;
    else if (arg === '--ops') out.ops = positive(arg, value());
    else if (arg === '--reps') out.reps = positive(arg, value());
    else if (arg === '--threads') out.threads = value().split(',').map((t) => positive(arg, t));
    else if (arg === '--lease-size') out.leaseSize = positive(arg, value());
    else if (arg === '--only') out.only = value().split(',');
    else throw new Error(`unknown option ${arg} (known: --json, --ops N, --reps N, --threads 1,2,4, --lease-size N, --only atomic,leased).`);
  }
  const bad = out.only?.find((name) => !(STRATEGIES as readonly string[]).includes(name));
  if (bad !== undefined) throw new Error(`--only: "${bad}" is not one of: ${STRATEGIES.join(', ')}.`);
  if (out.threads.some((t) => t > 64)) throw new Error('--threads: at most 64 threads.');
  if (out.ops * Math.max(...out.threads) > 0x7fff_ffff) throw new Error('--ops × threads must fit in a 32-bit counter.');
  return out;
}

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new Error(`${name}: "${value}" is not a positive whole number.`);
  return n;
}

function fmt(opsPerSec: number): string {
  return `${(opsPerSec / 1e6).toFixed(1)} M`;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`bench:stock: ${(e as Error).message}`);
    process.exitCode = 2;
    return;
  }
  const { json, ops, reps, threads } = args;
  leaseSize = args.leaseSize;
  const chosen = STRATEGIES.filter((s) => !args.only || args.only.includes(s));
  const log = (line: string): void => console.log(line);
  log(`stock benchmark: ${ops.toLocaleString('en-US')} takes per thread, median of ${reps}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`);
  const measured = await measureAll([...LINES, ...chosen], threads, ops, reps);
  const cell = (kind: Kind, t: number): Measurement => measured.get(`${kind}@${t}`)!;
  const lines: Record<string, Record<string, Measurement>> = {};
  for (const line of LINES) lines[line] = Object.fromEntries(threads.map((t) => [t, cell(line, t)]));
  const strategies: Record<string, Record<string, Measurement & { ratioToRaw: number; ratioToCas?: number }>> = {};
  for (const strategy of chosen) {
    strategies[strategy] = {};
    for (const t of threads) {
      const m = cell(strategy, t);
      const row: Measurement & { ratioToRaw: number; ratioToCas?: number } = { ...m, ratioToRaw: round(m.opsPerSec / lines.raw[t].opsPerSec) };
      if (strategy === 'atomic') row.ratioToCas = round(m.opsPerSec / lines.cas[t].opsPerSec);
      strategies[strategy][t] = row;
    }
  }

  const header = ['', ...threads.map((t) => `${t} thread${t === 1 ? '' : 's'}`)];
  const table: string[][] = [header];
  for (const line of LINES) table.push([LINE_NAMES[line], ...threads.map((t) => fmt(lines[line][t].opsPerSec))]);
  for (const strategy of chosen) {
    table.push([
      strategy,
      ...threads.map((t) => {
        const r = strategies[strategy][t];
        const extra = r.ratioToCas === undefined ? '' : ` ${r.ratioToCas.toFixed(2)}×cas`;
        const over = r.oversold > 0 ? ` OVERSOLD ${r.oversold.toLocaleString('en-US')}` : '';
        return `${fmt(r.opsPerSec)} (${r.ratioToRaw.toFixed(2)}×raw${extra})${over}`;
      }),
    ]);
  }
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  log('');
  for (const row of table) log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  log('');
  log('ops/s of takes, all threads together; ×raw = ratio to the raw Atomics.sub line at the same thread count.');
  const apart = [...Object.entries(lines), ...Object.entries(strategies)].flatMap(([name, byThreads]) =>
    Object.entries(byThreads)
      .filter(([t, m]) => Number(t) > 1 && m.overlap < LOW_OVERLAP)
      .map(([t, m]) => `${name}@${t} (${Math.round(m.overlap * 100)}%)`),
  );
  if (apart.length > 0) log(`warning: threads ran together for less than ${LOW_OVERLAP * 100}% of the time in ${apart.join(', ')}: the machine is busy or has fewer cores than threads; those figures are not a real race.`);
  if (json) {
    console.log(
      JSON.stringify({
        machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? null, node: process.version },
        opsPerThread: ops,
        reps,
        lines,
        strategies,
      }),
    );
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

if (isMainThread) await main();
else parentPort!.postMessage(work(workerData as Job));
