// npm run bench:load [-- --json] [-- --duration 10s --connections 64] [-- --only heap --heap-duration 200s] [-- --only generator|undici|autocannon]
//
// Requests/s and CPU µs per request of three sides, one after the other, against the same minimal
// target (a raw node:net server in its own process that answers every request with a canned
// HTTP/1.1 201, so the target is not what is measured), with the same connections and duration:
// - ONE load worker with full recording (histograms per step × outcome, interval series, lateness,
//   journeys, idempotency keys), closed-loop as constant-vus with vus = connections, no think time;
// - a bare undici Client.dispatch loop (nothing recorded): the floor for anything built on undici,
//   so generator − bare undici is the engine's own cost;
// - autocannon, the reference (closed loop too: a connection sends its next request when the last
//   answer arrives).
// Also samples the heap during a generator run (after GC) to show it stays flat.
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client, type Dispatcher } from 'undici';
import { runLoadInline } from '../src/load/inline.ts';
import type { LoadPlan } from '../src/contract/load-plan.ts';
import { durationMs as parseDurationMs } from '../src/shared/duration.ts';
import { percentilesMs } from '../src/shared/histogram.ts';

const BODY = '{"sku":"phone","userId":"u1","qty":1}';
const RESPONSE = Buffer.from('HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"orderId":"o1"}');
// For the heap check: every buyer told "sold out", so no acknowledged order is kept (the only thing
// the engine keeps per request, and it is bounded by the stock in a real sale).
const SOLD_OUT = Buffer.from('HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"error":"sold_out"}');

// ---- the target (child process) ------------------------------------------------------------------

/** Answers each complete request (headers + Content-Length body) on a connection with RESPONSE. */
function serveCanned(socket: Socket): void {
  let buffered: Buffer = Buffer.alloc(0);
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    let answers = 0;
    let response = RESPONSE;
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = buffered.subarray(0, end).toString('latin1');
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const total = end + 4 + (m ? Number(m[1]) : 0);
      if (head.startsWith('POST /soldout')) response = SOLD_OUT;
      if (buffered.length < total) break;
      buffered = buffered.subarray(total);
      answers++;
    }
    if (answers === 1) socket.write(response);
    else if (answers > 1) socket.write(Buffer.concat(new Array(answers).fill(response)));
  });
  socket.on('error', () => socket.destroy());
}

if (process.argv[2] === '--target') {
  const server = createServer(serveCanned);
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

// ---- the benchmark ------------------------------------------------------------------------------

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function startTarget(): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(new URL(import.meta.url), ['--target'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`bench target exited early (code ${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

function plan(url: string, connections: number, durationMs: number, path: string): LoadPlan {
  return {
    target: {
      url,
      requests: {
        checkout: {
          method: 'POST',
          path,
          headers: {},
          body: { json: { sku: '${sku}', userId: '${userId}', qty: '${qty}' } },
          success: { status: [201] },
          soldOut: { status: [409] },
          captureId: null,
        },
      },
    },
    arrival: { type: 'constant-vus', vus: connections, durationMs },
    journey: {
      type: 'checkout',
      qty: 1,
      thinkTime: { minMs: 0, maxMs: 0 },
      retries: { max: 0, baseMs: 1, maxMs: 1 },
      timeoutMs: 10_000,
      bots: { share: 0, retries: 0, accounts: 1 },
    },
    buyers: { population: 10_000_000, userPrefix: 'u' },
    skus: { ids: ['phone'], weights: [1] },
    caps: { maxDurationMs: durationMs + 5_000, maxRequests: 2_000_000_000, gracefulStopMs: 1_000 },
    workers: 1,
    connections,
    seed: 1,
    stopOnSellOut: false,
  };
}

function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * `sampleHeap`: force a GC and sample the heap every durationMs/8 during the run (the heap run). Off for
 * the throughput run, whose req/s the forced GCs' pauses would lower: there the heap is sampled once
 * before and once after.
 */
async function runGenerator(url: string, connections: number, durationMs: number, path = '/api/v1/checkout', sampleHeap = false) {
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
  const result = await runLoadInline(plan(url, connections, durationMs, path));
  const cpuUs = cpuTotal(process.cpuUsage(cpu)) - samplerCpuUs;
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
  const cpuUs = cpuTotal(process.cpuUsage(cpu));
  await Promise.all(clients.map((c) => c.destroy().catch(() => undefined)));
  return { rps: answered / elapsedS, cpuUsPerRequest: cpuUs / answered, requests: answered, errors };
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
  const cpuUs = cpuTotal(process.cpuUsage(cpu));
  return { rps: result.requests.total / result.duration, cpuUsPerRequest: cpuUs / result.requests.total, requests: result.requests.total, p99Ms: result.latency.p99 };
}

function cpuTotal(u: NodeJS.CpuUsage): number {
  return u.user + u.system;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const durationMs = parseDurationMs(argValue('--duration') ?? '10s');
  const connections = Number(argValue('--connections') ?? 64);
  const warmupMs = Math.min(2_000, durationMs / 4);
  const log = (s: string) => {
    if (!json) console.log(s);
  };
  const { url, child } = await startTarget();
  try {
    log(`target: canned 201 on ${url} (separate process); ${connections} connections, ${durationMs / 1000} s each`);
    // --only generator|undici|autocannon|heap: one side (for profiling, or a long heap run; the ratios
    // are then meaningless). --heap-duration: how long the sold-out heap run lasts (default --duration).
    const only = argValue('--only');
    if (only !== undefined && !['generator', 'undici', 'autocannon', 'heap'].includes(only)) {
      throw new Error(`--only: expected generator, undici, autocannon or heap, got "${only}"`);
    }
    const heapMs = parseDurationMs(argValue('--heap-duration') ?? `${durationMs}ms`);
    const wanted = (side: string) => only === undefined || only === side;
    // Warm the target's JIT, and this process's for the side(s) measured.
    if (wanted('autocannon')) await runAutocannon(url, connections, warmupMs);
    if (wanted('undici')) await runBareUndici(url, connections, warmupMs);
    if (wanted('generator') || wanted('heap')) await runGenerator(url, connections, warmupMs);
    const skipped = { rps: NaN, cpuUsPerRequest: NaN, requests: 0, p99Ms: NaN, errors: 0, soldOuts: 0, heapMB: [], heapGrowthMB: null, elapsedS: 0 };
    const gen = wanted('generator') ? await runGenerator(url, connections, durationMs) : skipped;
    const bare = wanted('undici') ? await runBareUndici(url, connections, durationMs) : skipped;
    const ac = wanted('autocannon') ? await runAutocannon(url, connections, durationMs) : skipped;
    const heap = wanted('heap') ? await runGenerator(url, connections, heapMs, '/soldout', true) : skipped;
    if (wanted('heap') && heap.soldOuts !== heap.requests) throw new Error('heap check: the target should have answered sold out to every request');
    const ratio = gen.rps / ac.rps;
    log(`flashsale load worker (recording on): ${Math.round(gen.rps).toLocaleString('en-US')} req/s, p99 ${gen.p99Ms.toFixed(2)} ms, errors ${gen.errors}`);
    log(`bare undici dispatch loop (nothing):  ${Math.round(bare.rps).toLocaleString('en-US')} req/s, errors ${bare.errors}`);
    log(`autocannon:                           ${Math.round(ac.rps).toLocaleString('en-US')} req/s, p99 ${ac.p99Ms} ms`);
    log(`ratio: ${ratio.toFixed(2)}× autocannon (bare undici ${(bare.rps / ac.rps).toFixed(2)}×)`);
    log(
      `CPU per request: generator ${gen.cpuUsPerRequest.toFixed(1)} µs, bare undici ${bare.cpuUsPerRequest.toFixed(1)} µs, autocannon ${ac.cpuUsPerRequest.toFixed(1)} µs (cpuRatio ${(ac.cpuUsPerRequest / gen.cpuUsPerRequest).toFixed(2)})`,
    );
    log(`generator, sold-out run (no order kept): ${heap.cpuUsPerRequest.toFixed(1)} µs CPU per request`);
    log(`heap, sold-out run (MB, after GC): ${heap.heapMB.join(' → ')}: growth after start-up ${heap.heapGrowthMB} MB over ${heap.requests.toLocaleString('en-US')} requests`);
    log(`heap, checkout run (keeps each acknowledged order for the audit): growth ${gen.heapGrowthMB} MB over ${gen.requests.toLocaleString('en-US')} orders`);
    const out = {
      generatorRps: Math.round(gen.rps),
      autocannonRps: Math.round(ac.rps),
      ratio: Math.round(ratio * 1000) / 1000,
      /** A bare undici Client.dispatch loop, same connections, nothing recorded: the engine's floor. */
      undiciRps: Math.round(bare.rps),
      undiciRatio: Math.round((bare.rps / ac.rps) * 1000) / 1000,
      connections,
      durationMs,
      generatorRequests: gen.requests,
      undiciRequests: bare.requests,
      autocannonRequests: ac.requests,
      generatorCpuUsPerRequest: Math.round(gen.cpuUsPerRequest * 10) / 10,
      undiciCpuUsPerRequest: Math.round(bare.cpuUsPerRequest * 10) / 10,
      autocannonCpuUsPerRequest: Math.round(ac.cpuUsPerRequest * 10) / 10,
      /** autocannon CPU per request / generator CPU per request: above 1, the generator is cheaper. */
      cpuRatio: Math.round((ac.cpuUsPerRequest / gen.cpuUsPerRequest) * 1000) / 1000,
      generatorP99Ms: gen.p99Ms,
      autocannonP99Ms: ac.p99Ms,
      generatorErrors: gen.errors,
      undiciErrors: bare.errors,
      heapMB: heap.heapMB,
      heapGrowthMB: heap.heapGrowthMB,
      heapRequests: heap.requests,
      checkoutHeapGrowthMB: gen.heapGrowthMB,
      node: process.version,
    };
    console.log(JSON.stringify(out));
  } finally {
    child.kill();
  }
}
