// Live figures during a run, for the progress line, the dashboard and /metrics. Two halves:
//  - LiveBins, in each load worker: answers by outcome and status class, corrected latency and send
//    lateness in log bins (8 per doubling), connections opened and closed, units sold per SKU, all
//    cumulative. The hot path is one log2 and two
//    array increments; the engine copies the bins into shared memory with the progress counters.
//  - LiveAggregator, on the main thread: at every progress tick it sums the workers' bins, takes the
//    difference with the last tick and turns it into one LivePoint (rates, p50/p90/p99, lateness).
// Approximate by design (a bin is ~9 % wide); the result's HdrHistograms are the exact record.
import type { LivePoint, LiveSnapshot } from '../contract/live.ts';
import { MAX_SKU_SERIES, OTHER_SKUS } from './intervals.ts';

/** Bins per doubling of the value (µs). */
const PER_DOUBLING = 8;
/** 2^36 µs is 19 hours: anything slower goes in the last bin. */
export const LIVE_BINS = 36 * PER_DOUBLING;
/** SKUs (by their index in the plan) with a slot of their own; sales of later ones share the last slot. */
export const LIVE_SKUS = MAX_SKU_SERIES + 1;
/** Float64 slots per worker: 4 outcomes, 6 status classes (index = code / 100), the two bin sets, then
 * connections opened and closed, and units sold per SKU. */
export const LIVE_OUTCOMES = 0;
export const LIVE_STATUS = 4;
export const LIVE_LATENCY = 10;
export const LIVE_LATENESS = LIVE_LATENCY + LIVE_BINS;
export const LIVE_CONNECTS = LIVE_LATENESS + LIVE_BINS;
export const LIVE_DISCONNECTS = LIVE_CONNECTS + 1;
export const LIVE_SOLD = LIVE_DISCONNECTS + 1;
export const LIVE_FIELDS = LIVE_SOLD + LIVE_SKUS;

function binOf(us: number): number {
  if (us < 1) return 0;
  const b = Math.floor(Math.log2(us) * PER_DOUBLING);
  return b < LIVE_BINS ? b : LIVE_BINS - 1;
}

/** The bin's upper edge in ms: what a percentile falling in it reads as (never understated). */
function binMs(b: number): number {
  return 2 ** ((b + 1) / PER_DOUBLING) / 1000;
}

export class LiveBins {
  readonly values = new Float64Array(LIVE_FIELDS);

  /** An HTTP answer with outcome index (OUTCOMES), corrected latency and, when known, its status. */
  answer(outcome: number, correctedUs: number, statusCode?: number): void {
    const v = this.values;
    v[LIVE_OUTCOMES + outcome]++;
    v[LIVE_LATENCY + binOf(correctedUs)]++;
    if (statusCode === undefined) return;
    const cls = Math.floor(statusCode / 100);
    v[LIVE_STATUS + (cls >= 1 && cls <= 5 ? cls : 0)]++;
  }

  /** A failure with no answer (no latency): counted under its outcome. */
  failure(outcome: number): void {
    this.values[LIVE_OUTCOMES + outcome]++;
  }

  lateness(us: number): void {
    this.values[LIVE_LATENESS + binOf(us)]++;
  }

  /** A TCP connection opened (up) or closed. */
  connection(up: boolean): void {
    this.values[up ? LIVE_CONNECTS : LIVE_DISCONNECTS]++;
  }

  /** Units of the plan's SKU number `skuIndex` acknowledged. */
  sold(skuIndex: number, units: number): void {
    this.values[LIVE_SOLD + (skuIndex < LIVE_SKUS - 1 ? skuIndex : LIVE_SKUS - 1)] += units;
  }

  /** Copies into this worker's slots of the shared array. */
  flushTo(view: Float64Array): void {
    view.set(this.values);
  }
}

/** Sums the workers' slots. */
export function sumLive(shared: Float64Array, workers: number): Float64Array {
  const out = new Float64Array(LIVE_FIELDS);
  for (let w = 0; w < workers; w++) for (let f = 0; f < LIVE_FIELDS; f++) out[f] += shared[w * LIVE_FIELDS + f];
  return out;
}

/** The value at percentile p (0..100) of the bins [from, from + LIVE_BINS) of `delta`, ms; null if empty. */
function percentile(delta: Float64Array, from: number, p: number): number | null {
  let total = 0;
  for (let b = 0; b < LIVE_BINS; b++) total += delta[from + b];
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let b = 0; b < LIVE_BINS; b++) {
    seen += delta[from + b];
    if (seen >= rank) return binMs(b);
  }
  return binMs(LIVE_BINS - 1);
}

function maxOf(delta: Float64Array, from: number): number | null {
  for (let b = LIVE_BINS - 1; b >= 0; b--) if (delta[from + b] > 0) return binMs(b);
  return null;
}

/** What the load's progress says at a tick (src/load/index.ts LoadProgress, with the summed bins). */
export interface LiveInput {
  elapsedMs: number;
  sent: number;
  completed: number;
  unitsAcknowledged: number;
  live?: Float64Array;
}

const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'];
/** The SKUs as the live feed counts them: the plan's first LIVE_SKUS − 1 each, the rest together. */
export function liveSkus(skus: ReadonlyArray<{ id: string; stock: number }>): Array<{ id: string; stock: number }> {
  if (skus.length < LIVE_SKUS) return skus.map((s) => ({ id: s.id, stock: s.stock }));
  const rest = skus.slice(LIVE_SKUS - 1);
  return [...skus.slice(0, LIVE_SKUS - 1).map((s) => ({ id: s.id, stock: s.stock })), { id: OTHER_SKUS, stock: rest.reduce((n, s) => n + s.stock, 0) }];
}

/** Points kept for the charts: 20 minutes at one a second; older ones are thinned by half. */
const MAX_POINTS = 1200;

export class LiveAggregator {
  readonly #stock: number | null;
  readonly #limitMs: number;
  readonly #capMs: number | null;
  #last: LiveInput | null = null;
  #lastLive = new Float64Array(LIVE_FIELDS);
  #points: LivePoint[] = [];
  #done = false;
  readonly #skus: Array<{ id: string; stock: number }>;

  /** skus: the plan's SKUs in its order (their index is what the workers count sales under). */
  constructor(options: { stock: number | null; latenessLimitMs: number; capMs?: number | null; skus?: ReadonlyArray<{ id: string; stock: number }> }) {
    this.#skus = liveSkus(options.skus ?? []);
    this.#stock = options.stock;
    this.#limitMs = options.latenessLimitMs;
    this.#capMs = options.capMs ?? null;
  }

  /** Takes one tick of progress and returns the snapshot so far. */
  sample(p: LiveInput): LiveSnapshot {
    const live = p.live ?? new Float64Array(LIVE_FIELDS);
    const last = this.#last;
    const dtMs = p.elapsedMs - (last?.elapsedMs ?? 0);
    if (dtMs > 0 || last === null) {
      const per = (n: number) => (dtMs > 0 ? (n * 1000) / dtMs : 0);
      const delta = new Float64Array(LIVE_FIELDS);
      for (let f = 0; f < LIVE_FIELDS; f++) delta[f] = live[f] - this.#lastLive[f];
      const statusPerSec: Record<string, number> = {};
      STATUS_CLASSES.forEach((name, i) => {
        if (i === 0) return;
        const n = live[LIVE_STATUS + i];
        if (n > 0) statusPerSec[name] = per(delta[LIVE_STATUS + i]);
      });
      this.#points.push({
        t: p.elapsedMs / 1000,
        sentPerSec: per(p.sent - (last?.sent ?? 0)),
        completedPerSec: per(p.completed - (last?.completed ?? 0)),
        successPerSec: per(delta[LIVE_OUTCOMES]),
        soldOutPerSec: per(delta[LIVE_OUTCOMES + 1]),
        rejectedPerSec: per(delta[LIVE_OUTCOMES + 2]),
        errorPerSec: per(delta[LIVE_OUTCOMES + 3]),
        p50: percentile(delta, LIVE_LATENCY, 50),
        p90: percentile(delta, LIVE_LATENCY, 90),
        p99: percentile(delta, LIVE_LATENCY, 99),
        latenessP99: percentile(delta, LIVE_LATENESS, 99),
        latenessMax: maxOf(delta, LIVE_LATENESS),
        inFlight: Math.max(0, p.sent - p.completed),
        unitsSold: p.unitsAcknowledged,
        statusPerSec,
        connectionsOpen: Math.max(0, live[LIVE_CONNECTS] - live[LIVE_DISCONNECTS]),
        connectsPerSec: per(delta[LIVE_CONNECTS]),
        disconnectsPerSec: per(delta[LIVE_DISCONNECTS]),
        soldBySku: Array.from(live.subarray(LIVE_SOLD, LIVE_SOLD + this.#skus.length)),
      });
      if (this.#points.length > MAX_POINTS) this.#points = this.#points.filter((_, i) => i % 2 === 1);
      this.#last = p;
      this.#lastLive = Float64Array.from(live);
    }
    return this.snapshot();
  }

  /** The run is over (the dashboard then offers the report). */
  finish(): LiveSnapshot {
    this.#done = true;
    return this.snapshot();
  }

  snapshot(): LiveSnapshot {
    const p = this.#last;
    const live = this.#lastLive;
    const lastPoint = this.#points.at(-1);
    const behind = lastPoint?.latenessP99 != null && lastPoint.latenessP99 > this.#limitMs;
    const { remainingMs, remainingBy } = this.#remaining();
    return {
      elapsedMs: p?.elapsedMs ?? 0,
      done: this.#done,
      totals: {
        sent: p?.sent ?? 0,
        completed: p?.completed ?? 0,
        successes: live[LIVE_OUTCOMES],
        soldOuts: live[LIVE_OUTCOMES + 1],
        rejected: live[LIVE_OUTCOMES + 2],
        errors: live[LIVE_OUTCOMES + 3],
        unitsSold: p?.unitsAcknowledged ?? 0,
        stock: this.#stock,
        connects: live[LIVE_CONNECTS],
        disconnects: live[LIVE_DISCONNECTS],
      },
      skus: this.#skus,
      latenessLimitMs: this.#limitMs,
      generatorBehind: behind,
      remainingMs,
      remainingBy,
      points: this.#points,
    };
  }

  /** Against the cap, or (sooner) the sell-out the last few seconds' selling rate points to. */
  #remaining(): { remainingMs: number | null; remainingBy: LiveSnapshot['remainingBy'] } {
    const p = this.#last;
    if (!p) return { remainingMs: null, remainingBy: null };
    const cap = this.#capMs === null ? null : Math.max(0, this.#capMs - p.elapsedMs);
    let sellOut: number | null = null;
    const recent = this.#points.slice(-5);
    if (this.#stock !== null && recent.length >= 2) {
      const first = recent[0];
      const lastPoint = recent[recent.length - 1];
      const rate = (lastPoint.unitsSold - first.unitsSold) / (lastPoint.t - first.t); // units per second
      const left = this.#stock - p.unitsAcknowledged;
      if (rate > 0 && left >= 0) sellOut = (left / rate) * 1000;
    }
    if (sellOut !== null && (cap === null || sellOut < cap)) return { remainingMs: sellOut, remainingBy: 'sell-out' };
    return cap === null ? { remainingMs: null, remainingBy: null } : { remainingMs: cap, remainingBy: 'cap' };
  }
}
