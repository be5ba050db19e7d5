// npm run bench:transport [-- --json] [-- --duration 4s --slices 4 --connections 64 --runs 3] [-- --pin]
//                          [-- --sides undici,raw,engine,autocannon | --only raw|undici|engine|autocannon]
//
// The transports alone, and the engine on the raw one, side by side in one run, against the same
// loopback target (bench/canned-target.ts: a canned 201, in its own process), with the same connections
// and duration:
// - undici: a bare undici Client.dispatch loop (one Client per connection, pipelining 1, the legacy
//   handler methods the engine's journeys use);
// - raw: the same loop, doing the same work, on the raw transport (src/load/transport/raw.ts);
// - engine: the load engine itself, as bench:load runs it: one load worker in this thread
//   (runLoadInline) on the raw transport, closed loop (bench/closed-loop-plan.ts), full recording.
//   Its start-up per slice (plan check, shared state, the engine, until t0) is measured apart and
//   printed, not charged to its requests; from t0 to its result is (the plan has no warm-up, so its
//   connections open in the measured part, as the loops' do);
// - autocannon, the reference.
// engine − raw is the engine's own cost above the bare loop on the same transport.
// The two loops send what the load engine sends: a POST whose Idempotency-Key header and JSON body are
// rendered per request (so nothing can be a prebuilt buffer), and they keep the answer's body chunks.
// autocannon sends one fixed request. For each side: requests/s and CPU µs per request (this process's
// CPU, user and system: the generator side), and raw/autocannon, raw/undici ratios.
// The machine is shared and its speed drifts, so the sides take turns: each side's --duration is cut
// into --slices slices, run round-robin in rotating order, and a run's figures add its slices up. With
// --runs N the whole is repeated and each ratio is reported as median and range. A run with the
// defaults takes about 16 s (4 sides × 4 s).
import { spawn, spawnSync } from 'node:child_process';
import { Client, type Dispatcher } from 'undici';
import { durationMs as parseDurationMs } from '../src/common/duration.ts';
import { RawClient } from '../src/load/transport/raw.ts';
import type { TransportClient } from '../src/load/transport/index.ts';
import { runLoadInline } from '../src/load/inline.ts';
import { startCannedTarget } from './canned-target.ts';
import { closedLoopPlan } from './closed-loop-plan.ts';
import { pinSidesAndTarget, watchCpu } from './cores.ts';
import { spread } from './stats.ts';

const SIDES = ['undici', 'raw', 'engine', 'autocannon'] as const;
type Side = (typeof SIDES)[number];

/** Every side stops at this many requests per second of slice, if its time has not ended it first (far above one core's rate). */
const MAX_REQUESTS_PER_S = 200_000;

/** One slice of one side. */
interface Slice {
  requests: number;
  errors: number;
  elapsedMs: number;
  cpu: NodeJS.CpuUsage;
  instructions: number | null;
  /** The engine's start-up (until t0), measured apart and not in the figures above; 0 for the other sides. */
  startMs: number;
  startCpuUs: number;
  /** The target process's CPU (user + system) during the slice, ms; null where /proc cannot tell. */
  targetCpuMs: number | null;
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
  /** The engine's start-up until t0, per slice on average (not in the figures above); 0 for the others. */
  startMsPerSlice: number;
  startCpuMsPerSlice: number;
  /** The target's CPU over the side's time, as a share of one core (near 1: the target, not the
   * client, set the pace); null where /proc cannot tell. */
  targetBusy: number | null;
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function cpuUs(u: NodeJS.CpuUsage): number {
  return u.user + u.system;
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
async function runLoop(make: (url: string) => TransportClient, url: string, connections: number, durationMs: number, maxRequests: number) {
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
      if (!running || sent >= maxRequests) {
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

async function runAutocannon(url: string, connections: number, durationMs: number, maxRequests: number) {
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
    maxOverallRequests: maxRequests,
  });
  return { requests: result.requests.total, errors: result.errors + result.non2xx };
}

/**
 * The engine, as bench:load runs it: one load worker in this thread, closed loop, full recording, raw
 * transport, bounded by its plan (duration, caps.maxRequests, caps.maxDurationMs). Its start-up until t0
 * is measured apart: `start` is the time and CPU from the call to t0; the rest, t0 to the result
 * (drain and result included), is the slice's.
 */
async function runEngine(url: string, connections: number, durationMs: number, maxRequests: number) {
  const plan = closedLoopPlan(url, connections, durationMs, { transport: 'raw' });
  plan.caps.maxRequests = maxRequests;
  const started = performance.now();
  const cpu = process.cpuUsage();
  let go = { at: NaN, cpu };
  const result = await runLoadInline(plan, { onGo: () => (go = { at: performance.now(), cpu: process.cpuUsage() }) });
  if (Number.isNaN(go.at)) throw new Error('engine side: the engine never reached t0');
  const o = result.counts.byOutcome;
  return {
    requests: o.success,
    errors: o.sold_out + o.rejected + o.error,
    elapsedMs: performance.now() - go.at,
    cpu: process.cpuUsage(go.cpu),
    startMs: go.at - started,
    startCpuUs: cpuUs(go.cpu) - cpuUs(cpu),
  };
}

const undiciClient = (url: string): TransportClient => new Client(url, { pipelining: 1, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 60_000 });
const rawClient = (url: string): TransportClient => new RawClient(url, { keepAliveTimeout: 60_000 });

/**
 * One slice of `side`: clients (or autocannon) started, run for durationMs, closed; all of it measured.
 * The engine's start-up until t0 is left out of its figures and returned apart.
 */
async function slice(side: Side, url: string, connections: number, durationMs: number, perf: boolean, targetPid?: number): Promise<Slice> {
  const maxRequests = Math.ceil((durationMs / 1000) * MAX_REQUESTS_PER_S);
  const targetCpuMs = watchCpu(targetPid);
  if (side === 'engine') {
    // perf counts the whole call and cannot split start-up from the run: no instructions for this side.
    // The target's CPU includes the engine's start-up (about a millisecond of idle target).
    return { ...(await runEngine(url, connections, durationMs, maxRequests)), instructions: null, targetCpuMs: targetCpuMs() };
  }
  const run = () =>
    side === 'autocannon'
      ? runAutocannon(url, connections, durationMs, maxRequests)
      : runLoop(side === 'raw' ? rawClient : undiciClient, url, connections, durationMs, maxRequests);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { value, instructions } = await countInstructions(perf, run);
  return { ...value, cpu: process.cpuUsage(cpu), elapsedMs: performance.now() - started, instructions, startMs: 0, startCpuUs: 0, targetCpuMs: targetCpuMs() };
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
    startMsPerSlice: sum((s) => s.startMs) / slices.length,
    startCpuMsPerSlice: sum((s) => s.startCpuUs) / 1000 / slices.length,
    targetBusy: slices.every((s) => s.targetCpuMs !== null) ? sum((s) => s.targetCpuMs!) / sum((s) => s.elapsedMs) : null,
  };
}

const r2 = (v: number) => Math.round(v * 100) / 100;

/** The sides to run: --sides a,b (default all four), or --only a (one side; kept from before --sides). */
function chosenSides(): Side[] {
  const only = argValue('--only');
  const list = argValue('--sides');
  if (only !== undefined && list !== undefined) throw new Error('--only and --sides: give one of them, not both');
  const names = only !== undefined ? [only] : list !== undefined ? list.split(',').map((n) => n.trim()) : [...SIDES];
  const flag = only !== undefined ? '--only' : '--sides';
  for (const n of names) if (!(SIDES as readonly string[]).includes(n)) throw new Error(`${flag}: expected ${SIDES.join(', ')}${flag === '--sides' ? ' (comma-separated)' : ''}, got "${n}"`);
  // Kept in SIDES' order, each once.
  const sides = SIDES.filter((side) => names.includes(side));
  if (sides.length === 0) throw new Error(`${flag}: no side given`);
  return sides;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const durationMs = parseDurationMs(argValue('--duration') ?? '4s');
  const connections = Number(argValue('--connections') ?? 64);
  const runs = Number(argValue('--runs') ?? 1);
  const slices = Number(argValue('--slices') ?? 4);
  const sides = chosenSides();
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new Error(`--runs: expected a whole number from 1 to 100, got "${argValue('--runs')}"`);
  if (!Number.isInteger(slices) || slices < 1 || slices > 1000) throw new Error(`--slices: expected a whole number from 1 to 1000, got "${argValue('--slices')}"`);
  if (!Number.isInteger(connections) || connections < 1 || connections > 10_000) throw new Error(`--connections: expected a whole number from 1 to 10000, got "${argValue('--connections')}"`);
  if (durationMs / slices < 100) throw new Error(`--duration: ${durationMs} ms in ${slices} slices is under 100 ms a slice`);
  const log = (s: string) => {
    if (!json) console.log(s);
  };
  const perf = perfCounts();
  const { url, child } = await startCannedTarget();
  try {
    const pinned = process.argv.includes('--pin') ? pinSidesAndTarget(child.pid) : null;
    if (pinned) log(pinned);
    log(`target: canned 201 on ${url} (separate process); ${connections} connections, ${durationMs / 1000} s per side in ${slices} slices taken in turn, ${runs} run(s); sides ${sides.join(', ')}`);
    if (!perf) log('perf stat -e instructions: not supported here (instructions per request not reported)');
    for (const side of sides) await slice(side, url, connections, 500, false); // JIT warm-up, both processes
    const empty = (): Record<Side, Measured | null> => ({ undici: null, raw: null, engine: null, autocannon: null });
    const results: Array<Record<Side, Measured | null>> = [];
    for (let r = 0; r < runs; r++) {
      const taken: Record<Side, Slice[]> = { undici: [], raw: [], engine: [], autocannon: [] };
      for (let i = 0; i < slices; i++) {
        // Rotate who goes first, so drift in the machine's speed falls on every side alike.
        for (let k = 0; k < sides.length; k++) {
          const side = sides[(i + r + k) % sides.length];
          taken[side].push(await slice(side, url, connections, durationMs / slices, perf, child.pid));
        }
      }
      const got = empty();
      for (const side of sides) got[side] = addUp(taken[side]);
      results.push(got);
      const line = (side: Side) => {
        const m = got[side];
        if (!m) return '';
        const ipr = m.instructionsPerRequest === null ? '' : `, ${m.instructionsPerRequest.toLocaleString('en-US')} instructions/request`;
        const cpu = `${m.cpuUsPerRequest.toFixed(2).padStart(6)} CPU-µs/request (user ${m.userUsPerRequest.toFixed(2)}, system ${m.systemUsPerRequest.toFixed(2)})`;
        const start = side === 'engine' ? `; start-up apart: ${m.startMsPerSlice.toFixed(1)} ms, ${m.startCpuMsPerSlice.toFixed(1)} CPU-ms per slice` : '';
        const target = m.targetBusy === null ? '' : `  target busy ${Math.round(m.targetBusy * 100)}%`;
        return `  ${side.padEnd(10)} ${Math.round(m.rps).toLocaleString('en-US').padStart(8)} req/s  ${cpu}${ipr}  errors ${m.errors}${target}${start}`;
      };
      // CPU per request as b/a (above 1: a is cheaper), or a/b with `aOverB` (a's own cost above b).
      const pair = (a: Side, b: Side, aOverB = false) => {
        const x = got[a];
        const y = got[b];
        if (!x || !y) return;
        const cpu = aOverB ? `${a}/${b} ${(x.cpuUsPerRequest / y.cpuUsPerRequest).toFixed(2)}×` : `${b}/${a} ${(y.cpuUsPerRequest / x.cpuUsPerRequest).toFixed(2)}×`;
        log(`  ${`${a}/${b}`.padEnd(17)} ${(x.rps / y.rps).toFixed(2)}× req/s, ${cpu} CPU per request`);
      };
      log(`run ${r + 1}:`);
      for (const side of sides) log(line(side));
      pair('raw', 'autocannon');
      pair('raw', 'undici');
      pair('engine', 'autocannon');
      pair('engine', 'raw', true);
    }
    const all = (side: Side, f: (m: Measured) => number) => results.map((r) => r[side]).filter((m): m is Measured => m !== null).map(f);
    const both = (a: Side, b: Side) => results.filter((r) => r[a] && r[b]).map((r) => [r[a]!, r[b]!] as const);
    /** a's req/s over b's, per run: median and range; null unless both ran. */
    const rpsRatio = (a: Side, b: Side) => (both(a, b).length ? spread(both(a, b).map(([x, y]) => x.rps / y.rps)) : null);
    /** b's CPU per request over a's (above 1: a is cheaper). */
    const cpuRatio = (a: Side, b: Side) => (both(a, b).length ? spread(both(a, b).map(([x, y]) => y.cpuUsPerRequest / x.cpuUsPerRequest)) : null);
    const perSide = <T>(f: (side: Side) => T) => Object.fromEntries(SIDES.map((side) => [side, f(side)])) as Record<Side, T>; // keys are SIDES
    const out = {
      connections,
      durationMs,
      slices,
      runs,
      sides,
      rps: perSide((side) => all(side, (m) => Math.round(m.rps))),
      cpuUsPerRequest: perSide((side) => all(side, (m) => r2(m.cpuUsPerRequest))),
      userUsPerRequest: perSide((side) => all(side, (m) => r2(m.userUsPerRequest))),
      instructionsPerRequest: perSide((side) => all(side, (m) => m.instructionsPerRequest ?? NaN).filter(Number.isFinite)),
      errors: perSide((side) => all(side, (m) => m.errors)),
      /** The target process's CPU over each side's time, as a share of one core (near 1: target-bound). */
      targetBusy: perSide((side) => all(side, (m) => (m.targetBusy === null ? NaN : r2(m.targetBusy))).filter(Number.isFinite)),
      /** The engine's start-up until t0 per slice, not charged to its requests: wall ms and CPU ms. */
      engineStartMsPerSlice: all('engine', (m) => r2(m.startMsPerSlice)),
      engineStartCpuMsPerSlice: all('engine', (m) => r2(m.startCpuMsPerSlice)),
      perfInstructions: perf,
      /** raw req/s over autocannon's, per run: median and range. */
      ratio: rpsRatio('raw', 'autocannon'),
      /** autocannon CPU per request over raw's (above 1: raw is cheaper). */
      cpuRatio: cpuRatio('raw', 'autocannon'),
      rawToUndiciRatio: rpsRatio('raw', 'undici'),
      rawToUndiciCpuRatio: cpuRatio('raw', 'undici'),
      /** autocannon user-space CPU per request over raw's: the part the transport itself decides. */
      userCpuRatio: both('raw', 'autocannon').length ? spread(both('raw', 'autocannon').map(([x, y]) => y.userUsPerRequest / x.userUsPerRequest)) : null,
      /** The engine's req/s over autocannon's, and autocannon's CPU per request over the engine's. */
      engineRatio: rpsRatio('engine', 'autocannon'),
      engineCpuRatio: cpuRatio('engine', 'autocannon'),
      /** The engine's CPU per request over the bare raw loop's: its own cost above the transport. */
      engineOverRawCpu: cpuRatio('raw', 'engine'),
      engineToRawRatio: rpsRatio('engine', 'raw'),
      pinned: pinned !== null,
      node: process.version,
    };
    const say = (what: string, s: { median: number; min: number; max: number } | null) => {
      if (s) log(`  ${what.padEnd(40)} median ${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`);
    };
    if (runs > 1) {
      log(`over ${runs} runs:`);
      say('engine/autocannon req/s', out.engineRatio);
      say('raw/autocannon req/s', out.ratio);
      say('autocannon/engine CPU per request', out.engineCpuRatio);
      say('autocannon/raw CPU per request', out.cpuRatio);
      say('engine/raw CPU per request', out.engineOverRawCpu);
      say('raw/undici req/s', out.rawToUndiciRatio);
      say('undici/raw CPU per request', out.rawToUndiciCpuRatio);
    }
    console.log(JSON.stringify(out));
  } finally {
    child.kill();
  }
}

try {
  await main();
} catch (e) {
  // A bad option (or a target that would not start): the message, not a stack trace.
  console.error(`bench:transport: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
}
