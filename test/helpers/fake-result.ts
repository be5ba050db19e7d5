// Realistic RunResult fixtures for the report tests, built with the load engine's own parts: a seeded
// crowd of buyers goes through reserve → pay (or one-step checkout), and every request is recorded by
// the engine's recorder (src/measure/recorder.ts: corrected and uncorrected HdrHistograms, 100 ms
// intervals) and counted by its tally (src/load/tally.ts), then judged by the one judge. The same buyers can be split into parts (as if
// several machines had each driven some of them) so merge can be checked against the whole.
import { OUTCOMES, STEPS, type Outcome, type Step } from '../../src/contract/vocabulary.ts';
import { judge } from '../../src/judge/judge.ts';
import { RESULT_SCHEMA_VERSION, type LoadResult, type RunResult } from '../../src/contract/result.ts';
import { Tally } from '../../src/load/tally.ts';
import { LoadRecorder } from '../../src/measure/recorder.ts';

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

/**
 * Builds a LoadResult from the requests of the given buyers (all when `part` is omitted; else those
 * with buyer % parts === part), through the load engine's own recorder and tally, as a worker would.
 * `t0ShiftMs` moves this part's t0 earlier by that many ms, as a machine whose clock started first
 * would; relative times grow by the same amount.
 */
export function buildLoadResult(events: FakeEvents, part?: { index: number; of: number; t0ShiftMs?: number }): LoadResult {
  const o = events.options;
  const shift = part?.t0ShiftMs ?? 0;
  const mine = (buyer: number) => !part || buyer % part.of === part.index;
  const requests = events.requests.filter((r) => mine(r.buyer)).map((r) => ({ ...r, intendedMs: r.intendedMs + shift, sentMs: r.sentMs + shift, doneMs: r.doneMs + shift }));
  // The run's length is the whole sale's, whichever part this is, as every machine ran to the end.
  const endMs = Math.max(...events.requests.map((r) => r.doneMs)) + shift;
  const recorder = new LoadRecorder(o.periodMs);
  const tally = new Tally();
  // As the engine meets them: sends in the order they went out, answers in the order they came back.
  for (const r of [...requests].sort((a, b) => a.sentMs - b.sentMs)) {
    recorder.recordLateness(Math.round((r.sentMs - r.intendedMs) * 1000), r.sentMs);
    recorder.intervals.sent(r.sentMs);
    tally.sent(r.sentMs);
    if (r.retry) tally.counts.retries++;
  }
  for (const r of [...requests].sort((a, b) => a.doneMs - b.doneMs)) {
    const step = STEPS.indexOf(r.step);
    const outcome = OUTCOMES.indexOf(r.outcome);
    if (r.answered) {
      tally.counts.requestsAnswered++;
      const status = r.errorKind?.startsWith('http_') ? Number(r.errorKind.slice(5)) : r.outcome === 'sold_out' ? 409 : 201;
      recorder.recordAnswer(step, outcome, Math.round((r.doneMs - r.intendedMs) * 1000), Math.round((r.doneMs - r.sentMs) * 1000), r.doneMs, r.unitsSold, status, 'redmi-1s');
    } else recorder.recordFailure(r.doneMs); // as the engine: a failure without an answer has no latency
    tally.outcome(step, outcome);
    if (r.errorKind) tally.kind(r.errorKind);
    if (r.unitsSold) tally.acknowledged({ orderId: `o-${r.buyer}`, userId: `u${r.buyer}`, sku: 'redmi-1s', qty: r.unitsSold }, r.doneMs);
  }
  // Connections: a keep-alive pool of POOL, opened by the warm-up before t0 and held to the end (one per
  // buyer 0..POOL-1, so parts add up to the whole), and a target that now and then answers with
  // `connection: close`: every 25th buyer's requests go on a connection of their own, opened at its first
  // send and closed after its last answer. Recorded in time order, as the engine meets them.
  const POOL = 8;
  const changes: Array<{ at: number; up: boolean }> = [];
  for (let b = 0; b < POOL; b++) if (mine(b)) changes.push({ at: shift, up: true }); // the whole sale's t0, in this part's time
  const held = new Map<number, { open: number; close: number }>();
  for (const r of requests) {
    if (r.buyer % 25 !== 0) continue;
    const h = held.get(r.buyer);
    held.set(r.buyer, h ? { open: Math.min(h.open, r.sentMs), close: Math.max(h.close, r.doneMs) } : { open: r.sentMs, close: r.doneMs });
  }
  for (const h of held.values()) changes.push({ at: h.open, up: true }, { at: h.close, up: false });
  changes.sort((a, b) => a.at - b.at || Number(b.up) - Number(a.up));
  for (const c of changes) recorder.recordConnection(c.up, c.at);
  for (const [buyer, end] of events.buyerEnds) {
    if (!mine(buyer)) continue;
    tally.counts.buyers.started++;
    tally.counts.buyers[end]++;
  }
  // A bound generator's event loop stalled well past any limit, so the judge finds it bound.
  const eventLoopDelayMs = { p50: 0.4, p99: o.generatorBound ? 180 : 2.1, max: o.generatorBound ? 320 : 6 };
  return tally.result({ t0EpochMs: o.t0EpochMs - shift, endMs, stopReason: 'completed', recorder, eventLoopDelayMs });
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
