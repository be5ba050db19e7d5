// npm run bench:transport [-- --json] [-- --duration 4s --slices 4 --connections 64 --runs 3] [-- --only raw|undici|autocannon]
//
// The transports alone, side by side in one run, against the same loopback target (bench/load.ts's
// canned-201 server, in its own process), with the same connections and duration:
// - undici: a bare undici Client.dispatch loop (one Client per connection, pipelining 1, the legacy
//   handler methods the engine's journeys use);
// - raw: the same loop, doing the same work, on the raw transport (src/load/transport/raw.ts);
// - autocannon, the reference.
// The two loops send what the load engine sends: a POST whose Idempotency-Key header and JSON body are
// rendered per request (so nothing can be a prebuilt buffer), and they keep the answer's body chunks.
// autocannon sends one fixed request. For each side: requests/s and CPU µs per request (this process's
// CPU, user and system: the generator side), and raw/autocannon, raw/undici ratios.
// The machine is shared and its speed drifts, so the sides take turns: each side's --duration is cut
// into --slices slices, run round-robin in rotating order, and a run's figures add its slices up. With
// --runs N the whole is repeated and each ratio is reported as median and range. A run with the
// defaults takes about 16 s.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Client, type Dispatcher } from 'undici';
import { durationMs as parseDurationMs } from '../src/common/duration.ts';
import { RawClient } from '../src/load/transport/raw.ts';
import type { TransportClient } from '../src/load/transport/index.ts';

const SIDES = ['undici', 'raw', 'autocannon'] as const;
type Side = (typeof SIDES)[number];

/** One slice of one side. */
interface Slice {
  requests: number;
  errors: number;
  elapsedMs: number;
  cpu: NodeJS.CpuUsage;
  instructions: number | null;
}

/** A side's slices of one run added up. */
interface Measured {
  rps: number;
  cpuUsPerRequest: number;
  userUsPerRequest: number;
  systemUsPerRequest: number;
  requests: number;
  errors: number;
  /** perf's instructions per request, or null where perf cannot count them. */
  instructionsPerRequest: number | null;
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function cpuUs(u: NodeJS.CpuUsage): number {
  return u.user + u.system;
}

/** The canned target of bench:load, in its own process. */
async function startTarget(): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(new URL('./load.ts', import.meta.url), ['--target'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`bench target exited early (code ${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** True when `perf stat -e instructions` counts here (it does not in many VMs: "<not supported>"). */
function perfCounts(): boolean {
  const r = spawnSync('perf', ['stat', '-x,', '-e', 'instructions', 'true'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return false;
  const line = r.stderr.split('\n').find((l) => l.includes('instructions')) ?? '';
  return Number.isFinite(Number(line.split(',')[0])) && line.split(',')[0] !== '';
}

/** Counts this process's instructions while `during` runs (perf stat attached to our pid). */
async function countInstructions<T>(enabled: boolean, during: () => Promise<T>): Promise<{ value: T; instructions: number | null }> {
  if (!enabled) return { value: await during(), instructions: null };
  const perf = spawn('perf', ['stat', '-x,', '-e', 'instructions', '-p', String(process.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  perf.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  await new Promise((r) => setTimeout(r, 200)); // let perf attach
  const value = await during();
  const exited = new Promise((r) => perf.once('exit', r));
  perf.kill('SIGINT');
  await exited;
  const line = stderr.split('\n').find((l) => l.includes('instructions'));
  const count = line ? Number(line.split(',')[0]) : NaN;
  return { value, instructions: Number.isFinite(count) ? count : null };
}

/**
 * A closed loop over `connections` clients of one transport: each sends its next request when the last
 * answer completed, for durationMs. Per request the Idempotency-Key and the JSON body are rendered.
 */
async function runLoop(make: (url: string) => TransportClient, url: string, connections: number, durationMs: number) {
  let sent = 0;
  let answered = 0;
  let errors = 0;
  let running = true;
  let open = connections;
  let allDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const clients: TransportClient[] = [];
  class Loop implements Dispatcher.DispatchHandler {
    readonly client: TransportClient;
    readonly headers = ['content-type', 'application/json', 'idempotency-key', ''];
    readonly opts: Dispatcher.DispatchOptions = { path: '/api/v1/checkout', method: 'POST', headers: this.headers, body: null };
    readonly chunks: Buffer[] = [];
    status = 0;
    constructor(client: TransportClient) {
      this.client = client;
    }
    next(): void {
      if (!running) {
        if (--open === 0) allDone();
        return;
      }
      const n = sent++;
      this.headers[3] = `fs-1-${n}-checkout`;
      this.opts.body = `{"sku":"phone","userId":"u${n}","qty":1}`;
      if (this.chunks.length !== 0) this.chunks.length = 0;
      this.client.dispatch(this.opts, this);
    }
    onConnect(): void {}
    onHeaders(status: number): boolean {
      if (status >= 200) this.status = status;
      return true;
    }
    onData(chunk: Buffer): boolean {
      this.chunks.push(chunk);
      return true;
    }
    onComplete(): void {
      if (this.status === 201) answered++;
      else errors++;
      this.next();
    }
    onError(): void {
      errors++;
      process.nextTick(() => this.next()); // out of dispatch's own stack, as the engine does
    }
  }
  for (let i = 0; i < connections; i++) {
    const client = make(url);
    clients.push(client);
    new Loop(client).next();
  }
  const timer = setTimeout(() => (running = false), durationMs);
  await done;
  clearTimeout(timer);
  const counted = { requests: answered, errors };
  await Promise.all(clients.map((c) => c.destroy().catch(() => undefined)));
  return counted;
}

/** The part of autocannon's programmatic API used here (it ships no types). */
type Autocannon = (opts: Record<string, unknown>) => Promise<{ requests: { total: number }; duration: number; errors: number; non2xx: number }>;

async function runAutocannon(url: string, connections: number, durationMs: number) {
  const moduleName = 'autocannon';
  const autocannon = ((await import(moduleName)) as { default: Autocannon }).default;
  const result = await autocannon({
    url: `${url}/api/v1/checkout`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"sku":"phone","userId":"u1","qty":1}',
    connections,
    pipelining: 1,
    duration: durationMs / 1000,
  });
  return { requests: result.requests.total, errors: result.errors + result.non2xx };
}

const undiciClient = (url: string): TransportClient => new Client(url, { pipelining: 1, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 60_000 });
const rawClient = (url: string): TransportClient => new RawClient(url, { keepAliveTimeout: 60_000 });

/** One slice of `side`: clients (or autocannon) started, run for durationMs, closed; all of it measured. */
async function slice(side: Side, url: string, connections: number, durationMs: number, perf: boolean): Promise<Slice> {
  const run = () =>
    side === 'autocannon'
      ? runAutocannon(url, connections, durationMs)
      : runLoop(side === 'raw' ? rawClient : undiciClient, url, connections, durationMs);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { value, instructions } = await countInstructions(perf, run);
  return { ...value, cpu: process.cpuUsage(cpu), elapsedMs: performance.now() - started, instructions };
}

function addUp(slices: Slice[]): Measured {
  const sum = (f: (s: Slice) => number) => slices.reduce((a, s) => a + f(s), 0);
  const requests = sum((s) => s.requests);
  const instructions = slices.every((s) => s.instructions !== null) ? sum((s) => s.instructions!) : null;
  return {
    rps: requests / (sum((s) => s.elapsedMs) / 1000),
    cpuUsPerRequest: sum((s) => cpuUs(s.cpu)) / requests,
    userUsPerRequest: sum((s) => s.cpu.user) / requests,
    systemUsPerRequest: sum((s) => s.cpu.system) / requests,
    requests,
    errors: sum((s) => s.errors),
    instructionsPerRequest: instructions === null ? null : Math.round(instructions / requests),
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;
const r2 = (v: number) => Math.round(v * 100) / 100;
const spread = (values: number[]) => ({ median: r3(median(values)), min: r3(Math.min(...values)), max: r3(Math.max(...values)) });

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const durationMs = parseDurationMs(argValue('--duration') ?? '4s');
  const connections = Number(argValue('--connections') ?? 64);
  const runs = Number(argValue('--runs') ?? 1);
  const slices = Number(argValue('--slices') ?? 4);
  const only = argValue('--only');
  if (only !== undefined && !(SIDES as readonly string[]).includes(only)) throw new Error(`--only: expected ${SIDES.join(', ')}, got "${only}"`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a whole number ≥ 1, got "${argValue('--runs')}"`);
  if (!Number.isInteger(slices) || slices < 1) throw new Error(`--slices: expected a whole number ≥ 1, got "${argValue('--slices')}"`);
  if (!Number.isInteger(connections) || connections < 1) throw new Error(`--connections: expected a whole number ≥ 1, got "${argValue('--connections')}"`);
  const sides: Side[] = only ? [only as Side] : [...SIDES];
  const log = (s: string) => {
    if (!json) console.log(s);
  };
  const perf = perfCounts();
  const { url, child } = await startTarget();
  try {
    log(`target: canned 201 on ${url} (separate process); ${connections} connections, ${durationMs / 1000} s per side in ${slices} slices taken in turn, ${runs} run(s)`);
    if (!perf) log('perf stat -e instructions: not supported here (instructions per request not reported)');
    for (const side of sides) await slice(side, url, connections, 500, false); // JIT warm-up, both processes
    const results: Array<Record<Side, Measured | null>> = [];
    for (let r = 0; r < runs; r++) {
      const taken: Record<Side, Slice[]> = { undici: [], raw: [], autocannon: [] };
      for (let i = 0; i < slices; i++) {
        // Rotate who goes first, so drift in the machine's speed falls on every side alike.
        for (let k = 0; k < sides.length; k++) {
          const side = sides[(i + r + k) % sides.length];
          taken[side].push(await slice(side, url, connections, durationMs / slices, perf));
        }
      }
      const got: Record<Side, Measured | null> = { undici: null, raw: null, autocannon: null };
      for (const side of sides) got[side] = addUp(taken[side]);
      results.push(got);
      const line = (side: Side) => {
        const m = got[side];
        if (!m) return '';
        const ipr = m.instructionsPerRequest === null ? '' : `, ${m.instructionsPerRequest.toLocaleString('en-US')} instructions/request`;
        const cpu = `${m.cpuUsPerRequest.toFixed(2).padStart(6)} CPU-µs/request (user ${m.userUsPerRequest.toFixed(2)}, system ${m.systemUsPerRequest.toFixed(2)})`;
        return `  ${side.padEnd(10)} ${Math.round(m.rps).toLocaleString('en-US').padStart(8)} req/s  ${cpu}${ipr}  errors ${m.errors}`;
      };
      log(`run ${r + 1}:`);
      for (const side of sides) log(line(side));
      if (got.raw && got.autocannon) {
        log(`  raw/autocannon ${(got.raw.rps / got.autocannon.rps).toFixed(2)}× req/s, ${(got.autocannon.cpuUsPerRequest / got.raw.cpuUsPerRequest).toFixed(2)}× CPU per request`);
      }
      if (got.raw && got.undici) log(`  raw/undici     ${(got.raw.rps / got.undici.rps).toFixed(2)}× req/s, ${(got.undici.cpuUsPerRequest / got.raw.cpuUsPerRequest).toFixed(2)}× CPU per request`);
    }
    const all = (side: Side, f: (m: Measured) => number) => results.map((r) => r[side]).filter((m): m is Measured => m !== null).map(f);
    const ratio = (a: Side, b: Side, f: (x: Measured, y: Measured) => number) =>
      results.filter((r) => r[a] && r[b]).map((r) => f(r[a]!, r[b]!));
    const byRps = (x: Measured, y: Measured) => x.rps / y.rps;
    const byCpu = (x: Measured, y: Measured) => y.cpuUsPerRequest / x.cpuUsPerRequest;
    const out = {
      connections,
      durationMs,
      slices,
      runs,
      rawRps: all('raw', (m) => Math.round(m.rps)),
      undiciRps: all('undici', (m) => Math.round(m.rps)),
      autocannonRps: all('autocannon', (m) => Math.round(m.rps)),
      rawCpuUsPerRequest: all('raw', (m) => r2(m.cpuUsPerRequest)),
      undiciCpuUsPerRequest: all('undici', (m) => r2(m.cpuUsPerRequest)),
      autocannonCpuUsPerRequest: all('autocannon', (m) => r2(m.cpuUsPerRequest)),
      rawUserUsPerRequest: all('raw', (m) => r2(m.userUsPerRequest)),
      undiciUserUsPerRequest: all('undici', (m) => r2(m.userUsPerRequest)),
      autocannonUserUsPerRequest: all('autocannon', (m) => r2(m.userUsPerRequest)),
      rawInstructionsPerRequest: all('raw', (m) => m.instructionsPerRequest ?? NaN).filter(Number.isFinite),
      undiciInstructionsPerRequest: all('undici', (m) => m.instructionsPerRequest ?? NaN).filter(Number.isFinite),
      autocannonInstructionsPerRequest: all('autocannon', (m) => m.instructionsPerRequest ?? NaN).filter(Number.isFinite),
      perfInstructions: perf,
      /** raw req/s over autocannon's, per run: median and range. */
      ratio: results.some((r) => r.raw && r.autocannon) ? spread(ratio('raw', 'autocannon', byRps)) : null,
      /** autocannon CPU per request over raw's (above 1: raw is cheaper). */
      cpuRatio: results.some((r) => r.raw && r.autocannon) ? spread(ratio('raw', 'autocannon', byCpu)) : null,
      rawToUndiciRatio: results.some((r) => r.raw && r.undici) ? spread(ratio('raw', 'undici', byRps)) : null,
      rawToUndiciCpuRatio: results.some((r) => r.raw && r.undici) ? spread(ratio('raw', 'undici', byCpu)) : null,
      /** autocannon user-space CPU per request over raw's: the part the transport itself decides. */
      userCpuRatio: results.some((r) => r.raw && r.autocannon) ? spread(ratio('raw', 'autocannon', (x, y) => y.userUsPerRequest / x.userUsPerRequest)) : null,
      errors: { raw: all('raw', (m) => m.errors), undici: all('undici', (m) => m.errors), autocannon: all('autocannon', (m) => m.errors) },
      node: process.version,
    };
    if (runs > 1 && out.ratio && out.cpuRatio) {
      log(`over ${runs} runs: raw/autocannon req/s median ${out.ratio.median} (${out.ratio.min}–${out.ratio.max}), CPU median ${out.cpuRatio.median} (${out.cpuRatio.min}–${out.cpuRatio.max})`);
    }
    console.log(JSON.stringify(out));
  } finally {
    child.kill();
  }
}

await main();
