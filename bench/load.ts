// npm run bench:load [-- --json] [-- --duration 5s --rounds 3 --connections 64] [-- --pin] [-- --only heap --heap-duration 200s] [-- --only generator|undici|autocannon] [-- --no-peak]
//
// Requests/s and CPU µs per request of four sides against the same minimal target (a raw node:net
// server in its own process that answers every request with a canned HTTP/1.1 201, so the target is
// not what is measured), with the same connections and duration, in --rounds rounds whose order
// rotates (the machine's speed drifts; each ratio is read within a round, then median and range):
// - ONE load worker with full recording (histograms per step × outcome, interval series, lateness,
//   journeys, idempotency keys), closed-loop as constant-vus with vus = connections, no think time,
//   once on the raw transport and once on undici (load.transport);
// - a bare undici Client.dispatch loop (nothing recorded): the floor for anything built on undici,
//   so generator − bare undici is the engine's own cost;
// - autocannon, the reference (closed loop too: a connection sends its next request when the last
//   answer arrives).
// Also samples the heap during a generator run (after GC) to show it stays flat; measures the send
// lateness p99 of a 500 ms burst from cold connections with and without load.warmup; and searches the
// highest flash-crowd peak (arrivals/s) one load worker keeps within 100 ms lateness p99, per transport.
// Each round's line says how busy the target was during each side (near 100%: the target set the
// pace); --pin puts this process on CPU 0 and the target on CPU 1 (bench/cores.ts).
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client, type Dispatcher } from 'undici';
import { runLoadInline } from '../src/load/inline.ts';
import { startCannedTarget } from './canned-target.ts';
import { closedLoopPlan } from './closed-loop-plan.ts';
import { pinSidesAndTarget, watchCpu } from './cores.ts';
import { durationMs as parseDurationMs } from '../src/common/duration.ts';
import { percentilesMs } from '../src/common/histogram.ts';
import { spread } from './stats.ts';

const BODY = '{"sku":"phone","userId":"u1","qty":1}';

// The functions below are hoisted; main() uses nothing declared further down before it runs.
await main();

// ---- the benchmark ------------------------------------------------------------------------------

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

type EngineTransport = 'raw' | 'undici';

function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * `sampleHeap`: force a GC and sample the heap every durationMs/8 during the run (the heap run). Off for
 * the throughput run, whose req/s the forced GCs' pauses would lower: there the heap is sampled once
 * before and once after.
 */
async function runGenerator(url: string, connections: number, durationMs: number, path = '/api/v1/checkout', sampleHeap = false, transport: EngineTransport = 'raw') {
  const gc = gcFunction();
  const heapMB: number[] = [];
  const sample = () => {
    gc();
    heapMB.push(process.memoryUsage().heapUsed / 2 ** 20);
  };
  // The forced GCs are the benchmark's, not the generator's: their CPU is taken out of the figure.
  let samplerCpuUs = 0;
  if (!sampleHeap) sample();
  const sampler = sampleHeap
    ? setInterval(() => {
        const before = process.cpuUsage();
        sample();
        samplerCpuUs += cpuTotal(process.cpuUsage(before));
      }, Math.max(500, durationMs / 8))
    : undefined;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await runLoadInline(closedLoopPlan(url, connections, durationMs, { path, transport }));
  const used = process.cpuUsage(cpu);
  const cpuUs = cpuTotal(used) - samplerCpuUs;
  const elapsedS = (performance.now() - started) / 1000;
  clearInterval(sampler);
  if (!sampleHeap) sample();
  const answered = result.counts.requestsAnswered;
  // Rate over the schedule's duration (the drain after it is a few requests at most, closed loop).
  const rps = answered / (Math.min(result.durationMs, durationMs) / 1000);
  const steady = sampleHeap ? heapMB.slice(1) : heapMB; // the heap run's first sample includes start-up allocation
  return {
    rps,
    // CPU per request holds up on a busy machine, where requests/s does not (GC samples included).
    cpuUsPerRequest: cpuUs / answered,
    systemUsPerRequest: used.system / answered,
    requests: answered,
    elapsedS,
    p99Ms: percentilesMs(result.latency.checkout?.all.corrected ?? '').p99,
    errors: result.counts.byOutcome.error + result.counts.byOutcome.rejected,
    soldOuts: result.counts.byOutcome.sold_out,
    heapMB: heapMB.map((h) => Math.round(h * 10) / 10),
    heapGrowthMB: steady.length >= 2 ? Math.round((steady.at(-1)! - steady[0]) * 10) / 10 : null,
  };
}

/**
 * The floor: a bare undici `Client.dispatch` loop over the same connections (one Client each,
 * pipelining 1, the same legacy handler methods as the engine's journeys), same request, nothing
 * recorded. generator − bare undici is the engine's own cost; bare undici − autocannon is undici's.
 */
async function runBareUndici(url: string, connections: number, durationMs: number) {
  const body = Buffer.from(BODY);
  const opts: Dispatcher.DispatchOptions = { path: '/api/v1/checkout', method: 'POST', headers: ['content-type', 'application/json'], body };
  let answered = 0;
  let errors = 0;
  let running = true;
  let open = connections;
  let allDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const clients: Client[] = [];
  class Loop implements Dispatcher.DispatchHandler {
    readonly client: Client;
    constructor(client: Client) {
      this.client = client;
    }
    next(): void {
      if (running) this.client.dispatch(opts, this);
      else if (--open === 0) allDone();
    }
    onConnect(): void {}
    onHeaders(): boolean {
      return true;
    }
    onData(): boolean {
      return true;
    }
    onComplete(): void {
      answered++;
      this.next();
    }
    onError(): void {
      errors++;
      // Out of dispatch's own stack, as the engine does.
      process.nextTick(() => this.next());
    }
  }
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < connections; i++) {
    const client = new Client(url, { pipelining: 1, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 60_000 });
    clients.push(client);
    new Loop(client).next();
  }
  const timer = setTimeout(() => (running = false), durationMs);
  await done;
  clearTimeout(timer);
  const elapsedS = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuUs = cpuTotal(used);
  await Promise.all(clients.map((c) => c.destroy().catch(() => undefined)));
  return { rps: answered / elapsedS, cpuUsPerRequest: cpuUs / answered, systemUsPerRequest: used.system / answered, requests: answered, errors };
}

/** The part of autocannon's programmatic API used here (it ships no types). */
type Autocannon = (opts: Record<string, unknown>) => Promise<{ requests: { total: number }; duration: number; latency: { p99: number } }>;

async function runAutocannon(url: string, connections: number, durationMs: number) {
  const moduleName = 'autocannon';
  const autocannon = ((await import(moduleName)) as { default: Autocannon }).default;
  const cpu = process.cpuUsage();
  const result = await autocannon({
    url: `${url}/api/v1/checkout`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
    connections,
    pipelining: 1,
    duration: durationMs / 1000,
  });
  const used = process.cpuUsage(cpu);
  const cpuUs = cpuTotal(used);
  return { rps: result.requests.total / result.duration, cpuUsPerRequest: cpuUs / result.requests.total, systemUsPerRequest: used.system / result.requests.total, requests: result.requests.total, p99Ms: result.latency.p99 };
}

function cpuTotal(u: NodeJS.CpuUsage): number {
  return u.user + u.system;
}


function fmt(s: { median: number; min: number; max: number }, unit = '×'): string {
  return `${s.median.toFixed(2)}${unit} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
}

/** An open-model burst: `rate` arrivals/s for `durationMs`, on fresh connections; its lateness p99 (ms). */
async function burstLatenessP99(url: string, connections: number, transport: EngineTransport, rate: number, durationMs: number, warmup: boolean): Promise<number> {
  const p = closedLoopPlan(url, connections, durationMs, { transport });
  p.arrival = { type: 'constant-arrival-rate', rate, timeUnitMs: 1000, durationMs };
  p.warmup = warmup ? { path: '/healthz' } : null;
  const r = await runLoadInline(p);
  return percentilesMs(r.generator.lateness).p99;
}

/** Lognormal(ln median, sigma) reaction times: the crowd's peak density, arrivals/s per registered buyer. */
function peakPerBuyer(medianMs: number, sigma: number): number {
  const mu = Math.log(medianMs);
  return (1000 * Math.exp(-mu + (sigma * sigma) / 2)) / (sigma * Math.sqrt(2 * Math.PI));
}

/**
 * The highest flash-crowd peak (arrivals/s) one load worker (this thread) keeps within `limitMs` of
 * send lateness at p99, with warm-up on: `registered` doubles from 250 until the limit is crossed, then
 * two bisection steps. Bounded: at most 13 runs of about 2 s. 0: even 250 buyers (~500/s) were too many.
 */
async function peakWithinLateness(url: string, connections: number, transport: EngineTransport, limitMs: number): Promise<{ peakPerS: number; latenessP99Ms: number; atCeiling: boolean }> {
  const medianMs = 400;
  const sigma = 0.6;
  const run = async (registered: number) => {
    const p = closedLoopPlan(url, connections, 3_000, { transport });
    p.arrival = { type: 'flash-crowd', registered, reaction: { medianMs, sigma }, latecomers: { count: 0, decayMs: 1000 } };
    p.caps.maxDurationMs = 15_000;
    const r = await runLoadInline(p);
    return percentilesMs(r.generator.lateness).p99;
  };
  let good = 0;
  let goodP99 = NaN;
  let bad = 0;
  for (let registered = 250; registered <= 256_000; registered *= 2) {
    const p99 = await run(registered);
    if (p99 <= limitMs) {
      good = registered;
      goodP99 = p99;
    } else {
      bad = registered;
      break;
    }
  }
  for (let i = 0; i < 2 && bad > 0 && good > 0; i++) {
    const mid = Math.round((good + bad) / 2);
    const p99 = await run(mid);
    if (p99 <= limitMs) {
      good = mid;
      goodP99 = p99;
    } else bad = mid;
  }
  // Never late even at the largest crowd tried: the true peak is higher than this search can say.
  return { peakPerS: Math.round(good * peakPerBuyer(medianMs, sigma)), latenessP99Ms: goodP99, atCeiling: bad === 0 };
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const durationMs = parseDurationMs(argValue('--duration') ?? '5s');
  const rounds = Number(argValue('--rounds') ?? 3);
  const connections = Number(argValue('--connections') ?? 64);
  const warmupMs = Math.min(2_000, durationMs / 4);
  const log = (s: string) => {
    if (!json) console.log(s);
  };
  const { url, child } = await startCannedTarget();
  try {
    const pinned = process.argv.includes('--pin') ? pinSidesAndTarget(child.pid) : null;
    log(`target: canned 201 on ${url} (separate process); ${connections} connections, ${durationMs / 1000} s per side, ${rounds} rounds`);
    if (pinned) log(pinned);
    // --only generator|undici|autocannon|heap: one side (for profiling, or a long heap run; the ratios
    // are then meaningless). --heap-duration: how long the sold-out heap run lasts (default --duration).
    const only = argValue('--only');
    if (only !== undefined && !['generator', 'undici', 'autocannon', 'heap'].includes(only)) {
      throw new Error(`--only: expected generator, undici, autocannon or heap, got "${only}"`);
    }
    const heapMs = parseDurationMs(argValue('--heap-duration') ?? `${durationMs}ms`);
    const wanted = (side: string) => only === undefined || only === side;
    const hasAutocannon = devDependency('autocannon');
    // Warm the target's JIT, and this process's for the side(s) measured.
    if (wanted('autocannon') && hasAutocannon) await runAutocannon(url, connections, warmupMs);
    if (wanted('undici')) await runBareUndici(url, connections, warmupMs);
    if (wanted('generator') || wanted('heap')) {
      await runGenerator(url, connections, warmupMs, '/api/v1/checkout', false, 'raw');
      await runGenerator(url, connections, warmupMs, '/api/v1/checkout', false, 'undici');
    }
    // targetBusy: the target's CPU over the side's time, as a share of one core (near 1: the target set the pace).
    type Figures = { rps: number; cpuUsPerRequest: number; systemUsPerRequest: number; requests: number; p99Ms: number; errors: number; targetBusy?: number; heapGrowthMB?: number | null };
    const skipped: Figures = { rps: NaN, cpuUsPerRequest: NaN, systemUsPerRequest: NaN, requests: 0, p99Ms: NaN, errors: 0 };
    const SIDES = ['raw', 'undici', 'bare', 'autocannon'] as const;
    const runSide = async (side: (typeof SIDES)[number]): Promise<Figures> => {
      if (side === 'raw' || side === 'undici') return wanted('generator') ? runGenerator(url, connections, durationMs, '/api/v1/checkout', false, side) : skipped;
      if (side === 'bare') return wanted('undici') ? { p99Ms: NaN, ...(await runBareUndici(url, connections, durationMs)) } : skipped;
      return wanted('autocannon') && hasAutocannon ? { errors: 0, ...(await runAutocannon(url, connections, durationMs)) } : skipped;
    };
    /** runSide, with how busy the target was meanwhile (its start-up included: a millisecond or so). */
    const measureSide = async (side: (typeof SIDES)[number]): Promise<Figures> => {
      const targetCpuMs = watchCpu(child.pid);
      const started = performance.now();
      const figures = await runSide(side);
      const used = targetCpuMs();
      return figures === skipped || used === null ? figures : { ...figures, targetBusy: used / (performance.now() - started) };
    };
    const busy = (share: number | undefined) => (share === undefined ? '–' : `${Math.round(share * 100)}%`);
    const perRound: Array<Record<(typeof SIDES)[number], Figures>> = [];
    for (let round = 0; round < rounds; round++) {
      const order = SIDES.map((_, i) => SIDES[(i + round) % SIDES.length]);
      const figures: Record<(typeof SIDES)[number], Figures> = { raw: skipped, undici: skipped, bare: skipped, autocannon: skipped };
      for (const side of order) figures[side] = await measureSide(side);
      perRound.push(figures);
      const f = figures;
      log(
        `round ${round + 1} (${order.join(' → ')}): req/s raw ${Math.round(f.raw.rps)}, undici ${Math.round(f.undici.rps)}, bare undici ${Math.round(f.bare.rps)}, autocannon ${Math.round(f.autocannon.rps)}; ` +
          `CPU µs/req ${f.raw.cpuUsPerRequest.toFixed(1)} / ${f.undici.cpuUsPerRequest.toFixed(1)} / ${f.bare.cpuUsPerRequest.toFixed(1)} / ${f.autocannon.cpuUsPerRequest.toFixed(1)} ` +
          `(of which system ${f.raw.systemUsPerRequest.toFixed(1)} / ${f.undici.systemUsPerRequest.toFixed(1)} / ${f.bare.systemUsPerRequest.toFixed(1)} / ${f.autocannon.systemUsPerRequest.toFixed(1)}); ` +
          `target busy ${SIDES.map((side) => busy(f[side].targetBusy)).join(' / ')}`,
      );
    }
    const over = (fn: (f: Record<(typeof SIDES)[number], Figures>) => number) => spread(perRound.map(fn));
    const ratioRaw = over((f) => f.raw.rps / f.autocannon.rps);
    const ratioUndici = over((f) => f.undici.rps / f.autocannon.rps);
    const ratioBare = over((f) => f.bare.rps / f.autocannon.rps);
    const cpu = {
      raw: over((f) => f.raw.cpuUsPerRequest),
      undici: over((f) => f.undici.cpuUsPerRequest),
      bare: over((f) => f.bare.cpuUsPerRequest),
      autocannon: over((f) => f.autocannon.cpuUsPerRequest),
    };
    // The kernel's share (socket syscalls, loopback TCP): the same work for every side, whatever its code.
    const systemCpu = {
      raw: over((f) => f.raw.systemUsPerRequest),
      undici: over((f) => f.undici.systemUsPerRequest),
      bare: over((f) => f.bare.systemUsPerRequest),
      autocannon: over((f) => f.autocannon.systemUsPerRequest),
    };
    const cpuRatioRaw = over((f) => f.autocannon.cpuUsPerRequest / f.raw.cpuUsPerRequest);
    const cpuRatioUndici = over((f) => f.autocannon.cpuUsPerRequest / f.undici.cpuUsPerRequest);
    log(`engine/autocannon req/s: raw ${fmt(ratioRaw)}, undici ${fmt(ratioUndici)}; bare undici/autocannon ${fmt(ratioBare)} (median, range over ${rounds} rounds)`);
    log(`CPU µs per request: raw engine ${fmt(cpu.raw, '')}, undici engine ${fmt(cpu.undici, '')}, bare undici ${fmt(cpu.bare, '')}, autocannon ${fmt(cpu.autocannon, '')}`);
    log(`of which system (kernel) CPU µs per request: raw engine ${fmt(systemCpu.raw, '')}, undici engine ${fmt(systemCpu.undici, '')}, bare undici ${fmt(systemCpu.bare, '')}, autocannon ${fmt(systemCpu.autocannon, '')}`);
    log(`autocannon CPU/request over the engine's: raw ${fmt(cpuRatioRaw)}, undici ${fmt(cpuRatioUndici)}`);

    // Cold start: a 500 ms burst on fresh connections, with and without warm-up, alternating.
    const coldRate = Number(argValue('--burst-rate') ?? 5_000);
    const cold: Record<'warm' | 'cold', number[]> = { warm: [], cold: [] };
    if (wanted('generator')) {
      for (let round = 0; round < rounds; round++) {
        for (const w of round % 2 ? [true, false] : [false, true]) cold[w ? 'warm' : 'cold'].push(await burstLatenessP99(url, connections, 'raw', coldRate, 500, w));
      }
      log(`first 500 ms of a ${coldRate}/s burst, lateness p99: warm-up ${fmt(spread(cold.warm), ' ms')}, none ${fmt(spread(cold.cold), ' ms')}`);
    }
    // Sizing: the highest flash-crowd peak one worker keeps within 100 ms lateness p99.
    const peak: Partial<Record<EngineTransport, { peakPerS: number; latenessP99Ms: number; atCeiling: boolean }>> = {};
    if (wanted('generator') && !process.argv.includes('--no-peak')) {
      for (const t of ['raw', 'undici'] as const) {
        peak[t] = await peakWithinLateness(url, connections, t, 100);
        log(`flash-crowd peak within 100 ms lateness p99, one worker, ${t}: ${peak[t].atCeiling ? 'at least ' : ''}${peak[t].peakPerS.toLocaleString('en-US')} arrivals/s${peak[t].atCeiling ? ' (the largest crowd tried; never late)' : ''} (p99 there ${peak[t].latenessP99Ms.toFixed(1)} ms)`);
      }
    }

    const heap = wanted('heap') ? await runGenerator(url, connections, heapMs, '/soldout', true) : { ...skipped, soldOuts: 0, heapMB: [] as number[], heapGrowthMB: null };
    if (wanted('heap') && heap.soldOuts !== heap.requests) throw new Error('heap check: the target should have answered sold out to every request');
    log(`generator, sold-out run (no order kept): ${heap.cpuUsPerRequest.toFixed(1)} µs CPU per request`);
    log(`heap, sold-out run (MB, after GC): ${heap.heapMB.join(' → ')}: growth after start-up ${heap.heapGrowthMB} MB over ${heap.requests.toLocaleString('en-US')} requests`);
    const last = perRound.at(-1)!;
    const out = {
      /** The default transport's (raw, for the built-in service) requests/s over autocannon's, median over rounds. */
      ratio: ratioRaw.median,
      ratioByTransport: { raw: ratioRaw, undici: ratioUndici, bareUndici: ratioBare },
      cpuUsPerRequest: cpu,
      systemCpuUsPerRequest: systemCpu,
      /** autocannon CPU per request / the engine's: above 1, the engine is cheaper. */
      cpuRatio: cpuRatioRaw.median,
      cpuRatioByTransport: { raw: cpuRatioRaw, undici: cpuRatioUndici },
      rounds,
      connections,
      durationMs,
      autocannon: hasAutocannon,
      generatorRps: Math.round(last.raw.rps),
      undiciEngineRps: Math.round(last.undici.rps),
      undiciRps: Math.round(last.bare.rps),
      autocannonRps: Math.round(last.autocannon.rps),
      burstLatenessP99Ms: { rate: coldRate, warmup: spread(cold.warm), none: spread(cold.cold) },
      peakArrivalsPerS: { raw: peak.raw?.peakPerS ?? null, undici: peak.undici?.peakPerS ?? null, latenessLimitMs: 100, atCeiling: { raw: peak.raw?.atCeiling ?? null, undici: peak.undici?.atCeiling ?? null } },
      heapMB: heap.heapMB,
      heapGrowthMB: heap.heapGrowthMB,
      heapRequests: heap.requests,
      /** The target process's CPU over each side's time, share of one core, per round (null where not measured). */
      targetBusy: Object.fromEntries(SIDES.map((side) => [side, perRound.map((f) => (f[side].targetBusy === undefined ? null : Math.round(f[side].targetBusy * 100) / 100))])),
      pinned: pinned !== null,
      node: process.version,
    };
    console.log(JSON.stringify(out));
  } finally {
    child.kill();
  }
}

/** Whether package.json lists `name` in devDependencies (autocannon is used only if the project has it). */
function devDependency(name: string): boolean {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { devDependencies?: Record<string, string> };
  return pkg.devDependencies?.[name] !== undefined;
}
