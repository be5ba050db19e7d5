// npm run bench:live [-- --pairs 3 --duration 4s]
//
// What the live figures (progress line, --dashboard) cost the generator, two ways, each side by side
// in alternating pairs (with, without, without, with, …) so a busy machine hits both alike:
// 1. ns per request in the recorder: recordLateness + recordAnswer as the engine calls them, with the
//    live bins (src/measure/live.ts) and with them replaced by no-ops;
// 2. generator CPU µs per request of one load worker (closed loop, 32 connections) against the canned
//    target in its own process (bench/canned-target.ts): with the dashboard (a tick every 0.5 s, the aggregator, the HTTP
//    server and one SSE client reading in another process) and without it (a tick a second feeding
//    the aggregator, as the progress line does).
// Prints each pair, then the median and range of the with/without ratios.
import { spawn, type ChildProcess } from 'node:child_process';
import { LoadRecorder } from '../src/measure/recorder.ts';
import { LiveAggregator } from '../src/measure/live.ts';
import { runLoad } from '../src/load/index.ts';
import type { LoadPlan } from '../src/contract/load-plan.ts';
import { durationMs as parseDurationMs } from '../src/common/duration.ts';
import { startDashboard, prometheusText } from '../src/cli/dashboard.ts';
import { liveEvent } from '../src/report/index.ts';
import { LIVE_FIELDS } from '../src/measure/live.ts';
import { startCannedTarget } from './canned-target.ts';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs: number[]) => `${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}`;

/** ns per request of the recorder's per-request calls; `live` false: the live bins are no-ops. */
function recorderNs(live: boolean, requests: number): number {
  const r = new LoadRecorder();
  if (!live) Object.assign(r.live, { answer() {}, failure() {}, lateness() {} });
  const start = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) {
    const t = i / 50; // 50 requests a ms
    r.recordLateness((i * 7919) % 3000, t);
    r.recordAnswer(0, i % 7 === 0 ? 1 : 0, 800 + ((i * 104_729) % 40_000), 700 + ((i * 104_729) % 30_000), t, i % 7 === 0 ? 0 : 1, i % 7 === 0 ? 409 : 201, 'phone');
  }
  return Number(process.hrtime.bigint() - start) / requests;
}

function plan(url: string, durationMs: number): LoadPlan {
  return {
    target: { url, requests: { checkout: { method: 'POST', path: '/api/v1/checkout', headers: {}, body: { json: { sku: '${sku}', userId: '${userId}', qty: '${qty}' } }, success: { status: [201] }, soldOut: { status: [409] }, captureId: null } } },
    arrival: { type: 'constant-vus', vus: 32, durationMs },
    journey: { type: 'checkout', qty: 1, thinkTime: { minMs: 0, maxMs: 0 }, retries: { max: 0, baseMs: 1, maxMs: 1 }, timeoutMs: 10_000, bots: { share: 0, retries: 0, accounts: 1 } },
    buyers: { population: 10_000_000, userPrefix: 'u' },
    skus: { ids: ['phone'], weights: [1] },
    caps: { maxDurationMs: durationMs + 5_000, maxRequests: 2_000_000_000, gracefulStopMs: 1_000 },
    workers: 1,
    connections: 32,
    seed: 1,
    stopOnSellOut: false,
  };
}

/** CPU µs per request of this process (main thread + load worker) for one run. */
async function generatorUs(url: string, durationMs: number, dashboard: boolean): Promise<{ usPerReq: number; reqPerSec: number }> {
  const live = new LiveAggregator({ stock: null, latenessLimitMs: 100 });
  const board = dashboard ? await startDashboard({ host: '127.0.0.1', port: 0, title: 'bench', first: live.snapshot() }) : null;
  let reader: ChildProcess | null = null;
  if (board) {
    // A browser elsewhere: its reading costs this process nothing but the writes.
    reader = spawn(process.execPath, ['-e', `fetch(${JSON.stringify(`${board.url}events`)}).then(async (r) => { for await (const _ of r.body) {} })`], { stdio: 'ignore' });
    for (let i = 0; i < 500 && board.watchers() === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300)); // its start-up over before the load begins
  }
  const before = process.cpuUsage();
  const t0 = performance.now();
  const result = await runLoad(plan(url, durationMs), {
    progressEveryMs: dashboard ? 500 : 1000,
    onProgress: (p) => {
      const s = live.sample(p);
      board?.push(s);
    },
  });
  const cpu = process.cpuUsage(before);
  const secs = (performance.now() - t0) / 1000;
  reader?.kill();
  await board?.close();
  const n = result.counts.requestsSent;
  return { usPerReq: (cpu.user + cpu.system) / n, reqPerSec: n / secs };
}

async function main(): Promise<void> {
  const pairs = Number(argValue('--pairs') ?? 3);
  const durationMs = parseDurationMs(argValue('--duration') ?? '4s');
  console.log(`live figures: ${pairs} alternating pairs; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);

  recorderNs(true, 200_000); // warm up both paths
  recorderNs(false, 200_000);
  const micro: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? [true, false] : [false, true];
    const ns: Record<string, number> = {};
    for (const live of order) ns[String(live)] = recorderNs(live, 2_000_000);
    micro.push(ns.true / ns.false);
    console.log(`  recorder  pair ${i + 1}: with live bins ${ns.true.toFixed(0)} ns/request, without ${ns.false.toFixed(0)} ns/request (+${(ns.true - ns.false).toFixed(0)} ns), ratio ${(ns.true / ns.false).toFixed(3)}`);
  }
  console.log(`  recorder with/without: median ${median(micro).toFixed(3)}, range ${range(micro)}`);

  // The main thread's work per dashboard tick, late in a long run (600 points = 5 min at 0.5 s):
  // sample the workers' bins, build the event (charts as JSON) and /metrics.
  const agg = new LiveAggregator({ stock: 90_000, latenessLimitMs: 100 });
  const bins = new Float64Array(LIVE_FIELDS);
  let tickUs = 0;
  for (let i = 1; i <= 600; i++) {
    for (let b = 10; b < 60; b++) bins[b] += i % 7;
    const t = performance.now();
    const snap = agg.sample({ elapsedMs: i * 500, sent: i * 5000, completed: i * 4990, unitsAcknowledged: i * 100, live: bins });
    const bytes = liveEvent(snap).length + prometheusText(snap).length;
    if (i > 500) tickUs += (performance.now() - t) * 1000;
    if (i === 600) console.log(`  main thread per dashboard tick at 600 points: ${(tickUs / 100).toFixed(0)} µs (event + /metrics ${Math.round(bytes / 1024)} KB)`);
  }

  const { url, child } = await startCannedTarget();
  try {
    await generatorUs(url, 1000, false); // warm up
    const macro: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const order = i % 2 === 0 ? [true, false] : [false, true];
      const r: Record<string, { usPerReq: number; reqPerSec: number }> = {};
      for (const d of order) r[String(d)] = await generatorUs(url, durationMs, d);
      macro.push(r.true.usPerReq / r.false.usPerReq);
      console.log(`  generator pair ${i + 1}: --dashboard ${r.true.usPerReq.toFixed(2)} µs CPU/request (${r.true.reqPerSec.toFixed(0)} req/s), without ${r.false.usPerReq.toFixed(2)} µs (${r.false.reqPerSec.toFixed(0)} req/s), ratio ${(r.true.usPerReq / r.false.usPerReq).toFixed(3)}`);
    }
    console.log(`  generator CPU per request, --dashboard/without: median ${median(macro).toFixed(3)}, range ${range(macro)}`);
  } finally {
    child.disconnect();
  }
}

await main();
