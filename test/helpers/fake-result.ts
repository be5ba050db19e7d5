// Realistic RunResult fixtures for the report tests, built the way the load engine builds them: a
// seeded crowd of buyers goes through reserve → pay (or one-step checkout), every request is timed
// from its intended start (corrected) and from its send (uncorrected) into real HdrHistograms, and
// everything is bucketed into 100 ms intervals. The same buyers can be split into parts (as if
// several machines had each driven some of them) so merge can be checked against the whole.
import type { Step } from '../../src/contract/load-plan.ts';
import { createLatencyHistogram, encodeHistogram, type Histogram } from '../../src/shared/histogram.ts';
import { judge } from '../../src/judge/judge.ts';
import { RESULT_SCHEMA_VERSION, type LoadResult, type Outcome, type RunResult, type StepLatency } from '../../src/contract/result.ts';

export interface FakeOptions {
  seed?: number;
  buyers?: number;
  stock?: number;
  journey?: 'reserve-pay' | 'checkout';
  periodMs?: number;
  t0EpochMs?: number;
  /** Median buyer reaction after sale open, ms. */
  reactionMs?: number;
  /** Service time grows with how many requests are in flight: makes a queueing tail. */
  baseServiceUs?: number;
  errorRate?: number;
  declineRate?: number;
  generatorBound?: boolean;
  auditFails?: boolean;
}

interface Request {
  buyer: number;
  step: Step;
  intendedMs: number;
  sentMs: number;
  doneMs: number;
  outcome: Outcome;
  errorKind: string | null;
  answered: boolean;
  retry: boolean;
  unitsSold: number;
}

export interface FakeEvents {
  options: Required<FakeOptions>;
  requests: Request[];
  buyerEnds: Map<number, 'succeeded' | 'soldOut' | 'rejected' | 'gaveUp'>;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEFAULTS: Required<FakeOptions> = {
  seed: 1,
  buyers: 3000,
  stock: 1000,
  journey: 'reserve-pay',
  periodMs: 100,
  t0EpochMs: Date.UTC(2026, 10, 24, 12, 0, 0),
  reactionMs: 400,
  baseServiceUs: 900,
  errorRate: 0.02,
  declineRate: 0.03,
  generatorBound: false,
  auditFails: false,
};

/** Simulates the sale request by request. Deterministic for a given seed. */
export function fakeEvents(opts: FakeOptions = {}): FakeEvents {
  const o = { ...DEFAULTS, ...opts };
  const rnd = mulberry32(o.seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const arrivals = Array.from({ length: o.buyers }, (_, i) => ({ buyer: i, at: o.reactionMs * Math.exp(0.6 * normal()) })).sort((a, b) => a.at - b.at);
  let stockLeft = o.stock;
  const requests: Request[] = [];
  const buyerEnds: FakeEvents['buyerEnds'] = new Map();
  const firstStep: Step = o.journey === 'checkout' ? 'checkout' : 'reserve';

  for (const { buyer, at } of arrivals) {
    let intended = at;
    let attempts = 0;
    // Queueing: early in the crowd the service is busy, so service time and lateness grow.
    const busy = () => Math.max(0, 1 - Math.abs(intended - o.reactionMs) / (2 * o.reactionMs));
    const send = (step: Step, decide: () => Pick<Request, 'outcome' | 'errorKind' | 'answered' | 'unitsSold'>, retry: boolean): Request => {
      const lateness = (rnd() * 0.3 + (o.generatorBound ? 5 * busy() : 0)) * (1 + 3 * busy());
      const serviceMs = (o.baseServiceUs / 1000) * (1 + 20 * busy() * rnd() + (rnd() < 0.01 ? 40 * rnd() : 0));
      const r: Request = { buyer, step, intendedMs: intended, sentMs: intended + lateness, doneMs: intended + lateness + serviceMs, retry, ...decide() };
      requests.push(r);
      return r;
    };
    const stockStep = () => {
      if (rnd() < o.errorRate) {
        const kind = rnd() < 0.7 ? 'http_503' : 'timeout';
        return { outcome: 'error' as const, errorKind: kind, answered: kind === 'http_503', unitsSold: 0 };
      }
      if (stockLeft <= 0) return { outcome: 'sold_out' as const, errorKind: null, answered: true, unitsSold: 0 };
      stockLeft--;
      return { outcome: 'success' as const, errorKind: null, answered: true, unitsSold: o.journey === 'checkout' ? 1 : 0 };
    };
    let r = send(firstStep, stockStep, false);
    while (r.outcome === 'error' && attempts < 2) {
      attempts++;
      intended = r.doneMs + 5 + rnd() * 20;
      r = send(firstStep, stockStep, true);
    }
    if (r.outcome === 'error') buyerEnds.set(buyer, 'gaveUp');
    else if (r.outcome === 'sold_out') buyerEnds.set(buyer, 'soldOut');
    else if (o.journey === 'checkout') buyerEnds.set(buyer, 'succeeded');
    else {
      intended = r.doneMs + 200 + rnd() * 800; // think before paying
      const declined = rnd() < o.declineRate;
      if (declined) stockLeft++; // units go back
      const pay = send('pay', () => (declined
        ? { outcome: 'rejected', errorKind: 'http_402', answered: true, unitsSold: 0 }
        : { outcome: 'success', errorKind: null, answered: true, unitsSold: 1 }), false);
      buyerEnds.set(buyer, pay.outcome === 'success' ? 'succeeded' : 'rejected');
    }
  }
  return { options: o, requests, buyerEnds };
}

function latencyOf(requests: Request[]): Partial<Record<Step, StepLatency>> {
  const hists = new Map<string, Histogram>();
  const rec = (key: string, us: number) => {
    let h = hists.get(key);
    if (!h) hists.set(key, (h = createLatencyHistogram()));
    h.recordValue(us);
  };
  for (const r of requests) {
    if (!r.answered) continue; // as the engine: a failure without an answer has no latency
    const corrected = Math.max(1, Math.round((r.doneMs - r.intendedMs) * 1000));
    const uncorrected = Math.max(1, Math.round((r.doneMs - r.sentMs) * 1000));
    rec(`${r.step}/all/c`, corrected);
    rec(`${r.step}/all/u`, uncorrected);
    rec(`${r.step}/${r.outcome}/c`, corrected);
    rec(`${r.step}/${r.outcome}/u`, uncorrected);
  }
  const enc = (key: string) => {
    const h = hists.get(key);
    return h ? encodeHistogram(h) : '';
  };
  const out: Partial<Record<Step, StepLatency>> = {};
  for (const step of new Set(requests.map((r) => r.step))) {
    const byOutcome: StepLatency['byOutcome'] = {};
    for (const outcome of ['success', 'sold_out', 'rejected', 'error'] as const) {
      if (hists.has(`${step}/${outcome}/c`)) byOutcome[outcome] = { corrected: enc(`${step}/${outcome}/c`), uncorrected: enc(`${step}/${outcome}/u`) };
    }
    out[step] = { all: { corrected: enc(`${step}/all/c`), uncorrected: enc(`${step}/all/u`) }, byOutcome };
  }
  return out;
}

/**
 * Builds a LoadResult from the requests of the given buyers (all when `part` is omitted; else those
 * with buyer % parts === part). `t0ShiftMs` moves this part's t0 earlier by that many ms, as a
 * machine whose clock started first would; relative times grow by the same amount.
 */
export function buildLoadResult(events: FakeEvents, part?: { index: number; of: number; t0ShiftMs?: number }): LoadResult {
  const o = events.options;
  const shift = part?.t0ShiftMs ?? 0;
  const mine = (buyer: number) => !part || buyer % part.of === part.index;
  const requests = events.requests.filter((r) => mine(r.buyer)).map((r) => ({ ...r, intendedMs: r.intendedMs + shift, sentMs: r.sentMs + shift, doneMs: r.doneMs + shift }));
  // The run's length is the whole sale's, whichever part this is, as every machine ran to the end.
  const endMs = Math.max(...events.requests.map((r) => r.doneMs)) + shift;
  const buckets = Math.ceil((endMs + 1) / o.periodMs);
  const series = () => new Array<number>(buckets).fill(0);
  const iv = { periodMs: o.periodMs, sent: series(), completed: series(), successes: series(), soldOuts: series(), errors: series(), stockTaken: series() };
  const ivHists: Array<Histogram | null> = new Array(buckets).fill(null);
  const byOutcome = { success: 0, sold_out: 0, rejected: 0, error: 0 };
  const byStep: LoadResult['counts']['byStep'] = {};
  const errorsByKind: Record<string, number> = {};
  let answered = 0;
  let retries = 0;
  let units = 0;
  let lastAck: number | null = null;
  const orders: LoadResult['orders'] = [];
  for (const r of requests) {
    const sentBucket = Math.floor(r.sentMs / o.periodMs);
    const doneBucket = Math.floor(r.doneMs / o.periodMs);
    iv.sent[sentBucket]++;
    iv.completed[doneBucket]++;
    if (r.outcome === 'success') iv.successes[doneBucket]++;
    if (r.outcome === 'sold_out') iv.soldOuts[doneBucket]++;
    if (r.outcome === 'error' || r.outcome === 'rejected') iv.errors[doneBucket]++;
    iv.stockTaken[doneBucket] += r.unitsSold;
    (ivHists[doneBucket] ??= createLatencyHistogram()).recordValue(Math.max(1, Math.round((r.doneMs - r.intendedMs) * 1000)));
    byOutcome[r.outcome]++;
    (byStep[r.step] ??= { success: 0, sold_out: 0, rejected: 0, error: 0 })[r.outcome]++;
    if (r.errorKind) errorsByKind[r.errorKind] = (errorsByKind[r.errorKind] ?? 0) + 1;
    if (r.answered) answered++;
    if (r.retry) retries++;
    if (r.unitsSold) {
      units += r.unitsSold;
      lastAck = Math.max(lastAck ?? 0, r.doneMs);
      orders.push({ orderId: `o-${r.buyer}`, userId: `u${r.buyer}`, sku: 'redmi-1s', qty: r.unitsSold });
    }
  }
  const buyers = { started: 0, succeeded: 0, soldOut: 0, rejected: 0, gaveUp: 0, dropped: 0 };
  for (const [buyer, end] of events.buyerEnds) {
    if (!mine(buyer)) continue;
    buyers.started++;
    buyers[end]++;
  }
  const lateness = createLatencyHistogram();
  for (const r of requests) lateness.recordValue(Math.max(1, Math.round((r.sentMs - r.intendedMs) * 1000)));
  return {
    t0EpochMs: o.t0EpochMs - shift,
    durationMs: endMs,
    firstSendMs: requests.length ? Math.min(...requests.map((r) => r.sentMs)) : null,
    lastAckMs: lastAck,
    stopReason: 'completed',
    counts: { requestsSent: requests.length, requestsAnswered: answered, retries, byOutcome, byStep, errorsByKind, buyers, unitsAcknowledged: units, cutByStop: 0 },
    latency: latencyOf(requests),
    intervals: { ...iv, latency: ivHists.map((h) => (h ? encodeHistogram(h) : '')) },
    generator: {
      lateness: encodeHistogram(lateness),
      // A bound generator's event loop stalled well past any limit, so the judge finds it bound.
      eventLoopDelayMs: { p50: 0.4, p99: o.generatorBound ? 180 : 2.1, max: o.generatorBound ? 320 : 6 },
      generatorBound: o.generatorBound,
      reason: o.generatorBound ? 'the event loop was blocked' : null,
    },
    orders,
  };
}

/** Wraps a LoadResult with what run/audit add (scenario, environment, stock, audit, thresholds, verdict),
 * judged by the one judge as `flashsale run` would. */
export function toRunResult(load: LoadResult, options: FakeOptions = {}): RunResult {
  const o = { ...DEFAULTS, ...options };
  const sold = load.counts.unitsAcknowledged;
  const firstStep: Step = o.journey === 'checkout' ? 'checkout' : 'reserve';
  const thresholds = { [`http_req_duration{step:${firstStep}}`]: ['p(99)<250'], http_req_failed: ['rate<0.05'] };
  const checks: NonNullable<RunResult['audit']>['checks'] = [
    { id: 'sold_within_stock', title: 'Units sold ≤ stock', passed: true, skipped: false, detail: `${sold} sold of ${o.stock}`, offending: [], offendingCount: 0 },
    { id: 'stock_conserved', title: 'sold + available + reserved = stock', passed: true, skipped: false, detail: `${sold} + ${o.stock - sold} + 0 = ${o.stock}`, offending: [], offendingCount: 0 },
    { id: 'per_user_limit', title: 'No user above the limit', passed: true, skipped: false, detail: 'limit 1 per user', offending: [], offendingCount: 0 },
    { id: 'unique_order_ids', title: 'No duplicate order id', passed: true, skipped: false, detail: `${load.orders.length} orders`, offending: [], offendingCount: 0 },
    o.auditFails
      ? { id: 'acked_orders_in_ledger', title: 'Every acknowledged order is in the ledger', passed: false, skipped: false, detail: '2 acknowledged orders missing from the ledger', offending: load.orders.slice(0, 2).map((x) => x.orderId), offendingCount: 2 }
      : { id: 'acked_orders_in_ledger', title: 'Every acknowledged order is in the ledger', passed: true, skipped: false, detail: `${load.orders.length} of ${load.orders.length} found`, offending: [], offendingCount: 0 },
  ];
  const audit = { passed: checks.every((c) => c.passed || c.skipped), checks, oversold: 0, lostOrders: o.auditFails ? 2 : 0 };
  const inventory = [{ sku: 'redmi-1s', initial: o.stock, available: o.stock - sold, reserved: 0, sold }];
  const judged = judge({ load, initialUnits: o.stock, audit: { merged: audit, inventory, ledgerUnits: sold - (o.auditFails ? 2 : 0) }, thresholds });
  return {
    ...load,
    ...judged,
    schemaVersion: RESULT_SCHEMA_VERSION,
    scenario: {
      name: 'fake-sale',
      description: 'A small flash sale generated for tests: a crowd of buyers, one phone each.',
      definition: { sale: { skus: [{ id: 'redmi-1s', stock: o.stock }], perUserLimit: 1 }, buyers: { population: o.buyers }, seed: o.seed, thresholds },
    },
    environment: { node: 'v24.0.0', platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'Test CPU', totalMemoryBytes: 8 * 2 ** 30, gitCommit: null, flashsaleVersion: '0.1.0' },
    target: { url: 'http://127.0.0.1:0', builtIn: true, serviceThreads: 2, from: 'built-in' },
    startedAt: new Date(load.t0EpochMs).toISOString(),
    endedAt: new Date(load.t0EpochMs + load.durationMs).toISOString(),
  };
}

/** A whole fake run. */
export function fakeRunResult(options: FakeOptions = {}): RunResult {
  return toRunResult(buildLoadResult(fakeEvents(options)), options);
}
