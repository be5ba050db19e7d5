// npm run bench:plan [-- --json] [-- --buyers N] [-- --reps N]
//
// How fast `plan --what-if` simulates a whole sale on one core: the Redmi 1S preset's flash crowd
// resized to --buyers (default 10,000,000), with its 2 % bots and retries, against servers whose
// service times are drawn from a lognormal histogram (median 2 ms, a tail to ~60 ms), in three cases:
//
// - checkout, every buyer served (stop-on-sell-out off; units for a tenth of them): every buyer is an event;
// - checkout, overloaded (a tenth of the servers): the queue grows to millions, timeouts and retries;
// - reserve → pay with 1–3 s of thinking and 5 % declines, every buyer served.
//
// Each figure is the median of --reps runs (default 3) of wall time, with the simulator's events per
// second and the process's peak resident memory so far. With --json the last line printed is one JSON object.
import { availableParallelism, cpus } from 'node:os';
import { createLatencyHistogram } from '../src/common/histogram.ts';
import { simulateSale, type SaleSimulation, type SimJourney } from '../src/plan/whatif/simulate.ts';
import { samplerFromHistogram } from '../src/plan/whatif/service-time.ts';
import { mulberry32 } from '../src/common/random.ts';
import { loadScenario, toArrivalSpec } from '../src/scenario/index.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a whole number ≥ 1`);
    process.exit(2);
  }
  return n;
}
const json = process.argv.includes('--json');
const buyers = arg('buyers', 10_000_000);
const reps = arg('reps', 3);

/** Lognormal service times (median `medianMs`, σ 0.6), 200,000 samples, as a measured histogram would be. */
function lognormalSampler(medianMs: number, seed: number) {
  const h = createLatencyHistogram();
  const rng = mulberry32(seed);
  for (let i = 0; i < 200_000; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    h.recordValue(Math.max(1, Math.round(medianMs * 1000 * Math.exp(0.6 * z))));
  }
  return samplerFromHistogram(h);
}

const preset = loadScenario('redmi-1s-india-2014').scenario;
const crowd = toArrivalSpec(preset.buyers.arrival);
if (crowd.type !== 'flash-crowd') throw new Error('the Redmi preset is expected to be a flash crowd');
const arrival = { ...crowd, registered: buyers, latecomers: { ...crowd.latecomers, count: 0 } };
const checkout: SimJourney = {
  type: 'checkout',
  qty: 1,
  thinkTime: { minMs: 0, maxMs: 0 },
  retries: { max: 2, baseMs: 50, maxMs: 1000 },
  bots: { share: 0.02, retries: 10 },
  declineRate: 0,
  reservationTtlMs: 120_000,
};
const times = { success: lognormalSampler(2, 1), soldOut: lognormalSampler(0.5, 2) };
/** A tenth of the crowd can buy (the Redmi sale: 90,000 units for a crowd of about 300,000 and more). */
const units = Math.max(1, Math.round(buyers / 10));
// Enough servers that the crowd's peak (about buyers / 10 s) is served: the sale runs at crowd pace.
const servers = Math.max(8, Math.ceil((buyers / 10_000) * 2 * 1.5));

const cases: Array<{ name: string; model: SaleSimulation }> = [
  {
    name: 'checkout, all served',
    model: { arrival, stock: [units], skuWeights: [1], journey: checkout, stopOnSellOut: false, servers, queueTimeoutMs: 10_000, queueLimit: Infinity, serviceTimes: { checkout: times }, seed: 1 },
  },
  {
    name: 'checkout, overloaded',
    model: { arrival, stock: [units], skuWeights: [1], journey: checkout, stopOnSellOut: false, servers: Math.max(1, Math.round(servers / 10)), queueTimeoutMs: 10_000, queueLimit: Infinity, serviceTimes: { checkout: times }, seed: 1 },
  },
  {
    name: 'reserve → pay, all served',
    model: {
      arrival,
      stock: [units],
      skuWeights: [1],
      journey: { ...checkout, type: 'reserve-pay', thinkTime: { minMs: 1000, maxMs: 3000 }, declineRate: 0.05 },
      stopOnSellOut: false,
      servers: servers * 2,
      queueTimeoutMs: 10_000,
      queueLimit: Infinity,
      serviceTimes: { reserve: times, pay: { success: lognormalSampler(3, 3), rejected: lognormalSampler(3, 4) } },
      seed: 1,
    },
  },
];

/** Present when node runs with --expose-gc (npm run bench:plan does): each run starts from a collected heap. */
const gc = (globalThis as { gc?: () => void }).gc;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const c of cases) {
  const walls: number[] = [];
  let last = simulateSale({ ...c.model, maxBuyers: 10_000 }); // JIT warm-up on a small prefix
  for (let r = 0; r < reps; r++) {
    gc?.();
    last = simulateSale(c.model);
    walls.push(last.wallMs);
  }
  const wallMs = median(walls);
  const row = {
    case: c.name,
    buyers: last.buyers.arrived,
    servers: c.model.servers,
    wallMs: Math.round(wallMs),
    wallMsRuns: walls.map(Math.round),
    eventsPerSec: Math.round((last.events * 1000) / wallMs),
    buyersPerSec: Math.round((last.buyers.arrived * 1000) / wallMs),
    events: last.events,
    simulatedSaleMs: Math.round(last.endMs),
    sellOutMs: last.sellOutMs === null ? null : Math.round(last.sellOutMs),
    p99Ms: last.latency.p99,
    timedOut: last.requests.timedOut,
    retries: last.requests.retries,
    maxQueue: last.maxQueue,
    // The process's peak resident memory so far: what the largest sale simulated has needed at most.
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  rows.push(row);
  console.log(
    `${c.name.padEnd(26)} ${row.buyers.toLocaleString('en-US')} buyers in ${(wallMs / 1000).toFixed(2)} s (runs ${walls.map((w) => (w / 1000).toFixed(2)).join(', ')} s): ` +
      `${(row.eventsPerSec / 1e6).toFixed(1)} M events/s; sale of ${(last.endMs / 1000).toFixed(1)} s, sold out at ${row.sellOutMs === null ? '–' : `${(row.sellOutMs / 1000).toFixed(2)} s`}, ` +
      `p99 ${row.p99Ms.toFixed(1)} ms, longest queue ${row.maxQueue.toLocaleString('en-US')}, ${row.timedOut.toLocaleString('en-US')} timed out; peak RSS ${row.peakRssMB} MB`,
  );
}
const environment = { node: process.version, cpus: availableParallelism(), cpuModel: cpus()[0]?.model.trim() ?? 'unknown' };
if (json) console.log(JSON.stringify({ buyers, reps, environment, rows }));
