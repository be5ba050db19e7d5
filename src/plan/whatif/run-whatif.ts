// `flashsale plan --what-if`: the scenario's whole sale simulated on N instances calibrated from a
// measured plan.json or result.json, and, for a target p99, the fewest instances that meet it.
import { arrivalShape, isFlashCrowd, durationMs, stockOf, toArrivalSpec, UsageError, type ArrivalSpec, type LoadedScenario } from '../adapter.ts';
import { calibrate, type Calibration } from './calibrate.ts';
import { simulateSale, type SaleSimulation, type SimulationResult } from './simulate.ts';

export const WHATIF_SCHEMA_VERSION = 1;
/** The instance search never simulates more than this many instances. */
export const MAX_INSTANCES = 4096;

export interface WhatIfOptions {
  loaded: LoadedScenario;
  /** A plan.json or result.json with the measured service times. */
  from: string;
  /** Instances to simulate (default 1). */
  instances?: number;
  /** Servers per instance, instead of the calibration's. */
  servers?: number;
  /** Find the fewest instances whose corrected p99 is at most this (ms). */
  targetP99Ms?: number;
  /** Resize a flash crowd to this many buyers (registered and latecomers in their proportions). */
  buyers?: number;
  /** Per instance: requests waiting beyond this are refused at once (default: no limit). */
  queueLimit?: number;
  /** Default: the buyers' timeout (buyers.timeout). */
  queueTimeoutMs?: number;
  seed?: number;
  onSimulated?: (instances: number, r: SimulationResult) => void;
}

export type SimulationSummary = Omit<SimulationResult, 'latencyHistogram'>;

export interface WhatIfReport {
  schemaVersion: typeof WHATIF_SCHEMA_VERSION;
  kind: 'flashsale-what-if';
  scenario: { name: string; path: string };
  from: { file: string; kind: Calibration['kind']; planStep: Calibration['planStep'] | null };
  model: {
    serversPerInstance: number;
    serversFrom: string;
    meanServiceMs: Calibration['meanMs'];
    queueTimeoutMs: number;
    queueLimitPerInstance: number | null;
    arrival: ArrivalSpec;
    expectedBuyers: number;
    stock: number;
    stopOnSellOut: boolean;
  };
  instances: number;
  prediction: SimulationSummary;
  /** With --target-p99: the fewest instances that meet it, and every count simulated on the way. */
  sizing: { targetP99Ms: number; instances: number | null; p99Ms: number | null; tried: Array<{ instances: number; p99Ms: number; sellOutMs: number | null }> } | null;
}

function resizeCrowd(arrival: ArrivalSpec, buyers: number): ArrivalSpec {
  if (!isFlashCrowd(arrival)) throw new UsageError(`--buyers resizes a flash crowd; this scenario's arrival is ${arrival.type} (change its rate or duration instead)`);
  const total = arrival.registered + arrival.latecomers.count;
  const registered = Math.round((buyers * arrival.registered) / total);
  return { ...arrival, registered, latecomers: { ...arrival.latecomers, count: buyers - registered } };
}

function summary(r: SimulationResult): SimulationSummary {
  const { latencyHistogram: _h, ...rest } = r;
  return rest;
}

export async function runWhatIf(o: WhatIfOptions): Promise<WhatIfReport> {
  const { scenario } = o.loaded;
  const journey = scenario.buyers.journey;
  let arrival: ArrivalSpec = toArrivalSpec(scenario.buyers.arrival);
  if (o.buyers !== undefined) {
    if (!(Number.isInteger(o.buyers) && o.buyers >= 1)) throw new UsageError(`--buyers must be a whole number ≥ 1 (got ${o.buyers})`);
    arrival = resizeCrowd(arrival, o.buyers);
  }
  const cal = await calibrate(o.from, journey, o.servers);
  const instances = o.instances ?? 1;
  if (!(Number.isInteger(instances) && instances >= 1 && instances <= MAX_INSTANCES)) throw new UsageError(`--instances must be a whole number from 1 to ${MAX_INSTANCES} (got ${instances})`);
  const think = scenario.buyers.thinkTime;
  const stock = stockOf(scenario);
  const queueTimeoutMs = o.queueTimeoutMs ?? durationMs(scenario.buyers.timeout);
  const model = (k: number): SaleSimulation => ({
    arrival,
    stock: scenario.sale.skus.map((s) => s.stock),
    skuWeights: scenario.buyers.skuWeights ? [...scenario.buyers.skuWeights] : scenario.sale.skus.map((s) => s.stock),
    journey: {
      type: journey,
      qty: scenario.buyers.qty,
      thinkTime: typeof think === 'object' ? { minMs: durationMs(think.min), maxMs: durationMs(think.max) } : { minMs: durationMs(think), maxMs: durationMs(think) },
      retries: { max: scenario.buyers.retries.max, baseMs: durationMs(scenario.buyers.retries.baseDelay), maxMs: durationMs(scenario.buyers.retries.maxDelay) },
      bots: { share: scenario.buyers.bots.share, retries: scenario.buyers.bots.retries },
      declineRate: scenario.sale.payment.declineRate,
      reservationTtlMs: durationMs(scenario.sale.reservationTtl),
    },
    stopOnSellOut: scenario.load.stopOnSellOut,
    servers: k * cal.serversPerInstance,
    queueTimeoutMs,
    queueLimit: o.queueLimit === undefined ? Infinity : k * o.queueLimit,
    serviceTimes: cal.serviceTimes,
    seed: o.seed ?? scenario.load.seed,
  });
  const simulate = (k: number) => {
    const r = simulateSale(model(k));
    o.onSimulated?.(k, r);
    return r;
  };
  const prediction = simulate(instances);
  let sizing: WhatIfReport['sizing'] = null;
  if (o.targetP99Ms !== undefined) {
    if (!(o.targetP99Ms > 0)) throw new UsageError(`--target-p99 must be above 0 ms (got ${o.targetP99Ms})`);
    sizing = sizeFor(o.targetP99Ms, instances, prediction, simulate);
  }
  return {
    schemaVersion: WHATIF_SCHEMA_VERSION,
    kind: 'flashsale-what-if',
    scenario: { name: scenario.name, path: o.loaded.path },
    from: { file: cal.file, kind: cal.kind, planStep: cal.planStep ?? null },
    model: {
      serversPerInstance: cal.serversPerInstance,
      serversFrom: cal.serversFrom,
      meanServiceMs: cal.meanMs,
      queueTimeoutMs,
      queueLimitPerInstance: o.queueLimit ?? null,
      arrival,
      expectedBuyers: arrivalShape(arrival).expectedArrivals(arrival),
      stock: stock.total,
      stopOnSellOut: scenario.load.stopOnSellOut,
    },
    instances,
    prediction: summary(prediction),
    sizing,
  };
}

/**
 * The fewest instances whose corrected p99 meets the target: double from the count asked for until
 * one meets it, then bisect between the last that missed and the first that met. Assumes more
 * instances never make p99 worse (one shared queue: they cannot).
 */
export function sizeFor(
  targetP99Ms: number,
  start: number,
  first: SimulationResult,
  simulate: (instances: number) => SimulationResult,
): NonNullable<WhatIfReport['sizing']> {
  const tried: NonNullable<WhatIfReport['sizing']>['tried'] = [];
  const results = new Map<number, SimulationResult>();
  const run = (k: number) => {
    const r = results.get(k) ?? (k === start ? first : simulate(k));
    results.set(k, r);
    if (!tried.some((t) => t.instances === k)) tried.push({ instances: k, p99Ms: r.latency.p99, sellOutMs: r.sellOutMs });
    return r;
  };
  const meets = (k: number) => run(k).latency.p99 <= targetP99Ms;
  let low = 0; // the most instances known to miss (0: none tried below)
  let high: number;
  if (meets(start)) {
    // Come down: the fewest may be below what was asked for.
    high = start;
    let k = start;
    while (k > 1) {
      const next = Math.max(1, Math.floor(k / 2));
      if (!meets(next)) {
        low = next;
        break;
      }
      high = next;
      k = next;
    }
    if (k === 1 && low === 0) return { targetP99Ms, instances: 1, p99Ms: run(1).latency.p99, tried };
  } else {
    low = start;
    high = start * 2;
    while (!meets(high)) {
      low = high;
      if (high >= MAX_INSTANCES) return { targetP99Ms, instances: null, p99Ms: null, tried };
      high = Math.min(MAX_INSTANCES, high * 2);
    }
  }
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (meets(mid)) high = mid;
    else low = mid;
  }
  return { targetP99Ms, instances: high, p99Ms: run(high).latency.p99, tried };
}
