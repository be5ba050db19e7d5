// k6's raw output (`k6 run --out json=out.json[.gz]`, one JSON object a line) read into the LoadResult
// the native engine would have produced: HDR histograms per step and outcome from every data point,
// the 100 ms interval series, counts, the orders buyers saw acknowledged. Streamed a line at a time:
// memory holds the histograms, the orders and the last minute of interval buckets, never the points.
// What k6 records is what scenarios/k6/flash-sale.js emits: flashsale_req_duration (a request: tags
// step, outcome, status; on an acknowledged order order_id, user_id, sku, qty), flashsale_buyers (a
// journey's end: tag end) and k6's own dropped_iterations. k6 times requests from the moment they were
// sent, so its latency is uncorrected only: the result's corrected histograms hold the same values and
// say so (see K6_LATENCY_NOTE). Several files (k6-operator runners, one per segment) add up exactly.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { AckedOrder, Counts, EncodedLatency, IntervalSeries, LoadResult, StepLatency } from '../contract/result.ts';
import { OUTCOMES, STEPS, type Outcome, type Step } from '../contract/vocabulary.ts';
import { codeOf, K6OutputError, messageOf } from '../errors.ts';
import { createLatencyHistogram, decodeHistogram, encodeHistogram, type Histogram } from '../common/histogram.ts';
import { emptyCounts } from './merge.ts';
import { INTERVAL_MS } from './intervals.ts';
import { StagedHistogram } from './staged-histogram.ts';

export const K6_LATENCY_NOTE =
  'measured by k6, which times each request from the moment it was sent: latency is uncorrected only (no coordinated-omission correction); corrected latency is not available, so the corrected figures and http_req_duration thresholds hold the uncorrected values, as k6 itself judges them';

/** Interval buckets further than this behind the latest point are encoded (k6 flushes its output about
 * every second, so points arrive at most a few seconds out of order). A later point still lands exactly. */
const LIVE_BUCKETS_MS = 30_000;

export interface K6Import {
  load: LoadResult;
  /** Data points read (every `Point` line, of any metric). */
  points: number;
  /** k6's dropped_iterations: arrivals k6 could not start (the generator did not keep the rate). */
  droppedIterations: number;
}

const STEP_INDEX = new Map<string, number>(STEPS.map((s, i) => [s, i]));
const OUTCOME_INDEX = new Map<string, number>(OUTCOMES.map((o, i) => [o, i]));
const ENDS = new Set(['succeeded', 'soldOut', 'rejected', 'gaveUp']);
const SUCCESS = OUTCOME_INDEX.get('success') ?? 0;
const SOLD_OUT = OUTCOME_INDEX.get('sold_out') ?? 1;

/** One interval bucket: counts, and the latency of what completed in it (live, or encoded once old). */
interface Bucket {
  sent: number;
  completed: number;
  successes: number;
  soldOuts: number;
  errors: number;
  stockTaken: number;
  latency: StagedHistogram | null;
  encoded: string;
}

class Reader {
  readonly counts: Counts = emptyCounts();
  readonly orders: AckedOrder[] = [];
  points = 0;
  dropped = 0;
  minStartMs = Infinity;
  maxEndMs = -Infinity;
  lastAckEpochMs = -Infinity;
  readonly #latency: Array<Array<StagedHistogram | null>> = STEPS.map(() => OUTCOMES.map(() => null));
  readonly #buckets = new Map<number, Bucket>();
  readonly #periodMs: number;
  #evictedBelow = -Infinity;

  constructor(periodMs: number) {
    this.#periodMs = periodMs;
  }

  #bucket(epochMs: number): Bucket {
    const i = Math.floor(epochMs / this.#periodMs);
    let b = this.#buckets.get(i);
    if (!b) {
      b = { sent: 0, completed: 0, successes: 0, soldOuts: 0, errors: 0, stockTaken: 0, latency: null, encoded: '' };
      this.#buckets.set(i, b);
    }
    return b;
  }

  #recordInterval(b: Bucket, us: number): void {
    if (b.latency === null) {
      // An old bucket already encoded: decode it to add exactly (rare: a point far out of order).
      b.latency = new StagedHistogram(b.encoded ? decodeHistogram(b.encoded) : createLatencyHistogram());
    }
    b.latency.record(us);
  }

  /** Encodes buckets far behind the latest point, so a long run's memory stays flat. */
  #evict(nowEpochMs: number): void {
    const below = Math.floor((nowEpochMs - LIVE_BUCKETS_MS) / this.#periodMs);
    if (below <= this.#evictedBelow + 10) return;
    for (const [i, b] of this.#buckets) {
      if (i < below && b.latency !== null) {
        b.encoded = encodeHistogram(b.latency.histogram);
        b.latency = null;
      }
    }
    this.#evictedBelow = below;
  }

  request(at: string, tags: Record<string, unknown>, valueMs: number, where: () => string): void {
    const step = STEP_INDEX.get(String(tags.step));
    const outcome = OUTCOME_INDEX.get(String(tags.outcome));
    if (step === undefined || outcome === undefined) throw new K6OutputError(where(), null, `flashsale_req_duration without a known step and outcome tag (step ${String(tags.step)}, outcome ${String(tags.outcome)}): was this output written by scenarios/k6/flash-sale.js?`);
    const endMs = Date.parse(at);
    if (!Number.isFinite(endMs) || !(valueMs >= 0)) throw new K6OutputError(where(), null, `a point needs a time and a value of 0 or more (time ${at}, value ${valueMs})`);
    const startMs = endMs - valueMs;
    if (startMs < this.minStartMs) this.minStartMs = startMs;
    if (endMs > this.maxEndMs) {
      this.maxEndMs = endMs;
      this.#evict(endMs);
    }
    const c = this.counts;
    c.requestsSent++;
    c.byOutcome[OUTCOMES[outcome]]++;
    const byStep = (c.byStep[STEPS[step]] ??= { success: 0, sold_out: 0, rejected: 0, error: 0 });
    byStep[OUTCOMES[outcome]]++;
    this.#bucket(startMs).sent++;
    const b = this.#bucket(endMs);
    b.completed++;
    const status = String(tags.status ?? '');
    if (status === '0') {
      // No answer (k6 reports status 0 for timeouts and connection errors): an error, timed nowhere.
      c.errorsByKind.k6_no_answer = (c.errorsByKind.k6_no_answer ?? 0) + 1;
      b.errors++;
      return;
    }
    c.requestsAnswered++;
    if (outcome !== SUCCESS && outcome !== SOLD_OUT) {
      const kind = `http_${status || 'unknown'}`;
      c.errorsByKind[kind] = (c.errorsByKind[kind] ?? 0) + 1;
    }
    const us = Math.round(valueMs * 1000);
    (this.#latency[step][outcome] ??= new StagedHistogram()).record(us);
    this.#recordInterval(b, us);
    if (outcome === SUCCESS) b.successes++;
    else if (outcome === SOLD_OUT) b.soldOuts++;
    else b.errors++;
    if (outcome === SUCCESS && tags.order_id !== undefined) {
      const qty = Number(tags.qty);
      if (!Number.isInteger(qty) || qty < 1) throw new K6OutputError(where(), null, `an acknowledged order's qty tag must be a whole number of 1 or more (got ${String(tags.qty)})`);
      this.orders.push({ orderId: String(tags.order_id), userId: String(tags.user_id), sku: String(tags.sku), qty });
      c.unitsAcknowledged += qty;
      b.stockTaken += qty;
      if (endMs > this.lastAckEpochMs) this.lastAckEpochMs = endMs;
    }
  }

  buyers(tags: Record<string, unknown>, value: number, where: () => string): void {
    const end = String(tags.end);
    if (!ENDS.has(end)) throw new K6OutputError(where(), null, `flashsale_buyers with an unknown end tag "${end}"`);
    const n = Math.round(value);
    this.counts.buyers[end as 'succeeded' | 'soldOut' | 'rejected' | 'gaveUp'] += n; // checked against ENDS above
    this.counts.buyers.started += n;
  }

  latency(): Partial<Record<Step, StepLatency>> {
    const out: Partial<Record<Step, StepLatency>> = {};
    STEPS.forEach((step, s) => {
      const row = this.#latency[s];
      if (row.every((h) => h === null)) return;
      const all = createLatencyHistogram();
      const byOutcome: Partial<Record<Outcome, EncodedLatency>> = {};
      OUTCOMES.forEach((o, k) => {
        const h = row[k]?.histogram;
        if (!h) return;
        all.add(h);
        byOutcome[o] = same(h);
      });
      out[step] = { all: same(all), byOutcome };
    });
    return out;
  }

  intervals(t0: number, endMs: number): IntervalSeries {
    const first = Math.floor(t0 / this.#periodMs);
    const length = Math.max(1, Math.floor(endMs / this.#periodMs) + 1);
    const s: IntervalSeries = { periodMs: this.#periodMs, sent: [], completed: [], successes: [], soldOuts: [], errors: [], stockTaken: [], latency: [] };
    for (let i = 0; i < length; i++) {
      const b = this.#buckets.get(first + i);
      s.sent.push(b?.sent ?? 0);
      s.completed.push(b?.completed ?? 0);
      s.successes.push(b?.successes ?? 0);
      s.soldOuts.push(b?.soldOuts ?? 0);
      s.errors.push(b?.errors ?? 0);
      s.stockTaken.push(b?.stockTaken ?? 0);
      s.latency.push(b ? (b.latency ? encodeHistogram(b.latency.histogram) : b.encoded) : '');
    }
    return s;
  }
}

/** k6 measured one time per request: both latency views hold it (K6_LATENCY_NOTE says why). */
function same(h: Histogram): EncodedLatency {
  const e = encodeHistogram(h);
  return { corrected: e, uncorrected: e };
}

/** Lines of a file, gunzipped when it starts with gzip's magic bytes. */
async function lines(file: string): Promise<AsyncIterable<string>> {
  let head: Buffer;
  try {
    const fd = await open(file, 'r');
    try {
      head = Buffer.alloc(2);
      await fd.read(head, 0, 2, 0);
    } finally {
      await fd.close();
    }
  } catch (e) {
    throw new K6OutputError(file, null, `cannot read it (${codeOf(e) ?? messageOf(e)})`);
  }
  const raw = createReadStream(file);
  const stream = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
  return createInterface({ input: stream, crlfDelay: Infinity });
}

interface PointLine {
  type?: unknown;
  metric?: unknown;
  data?: { time?: unknown; value?: unknown; tags?: unknown };
}

/** Reads k6 JSON output files (plain or gzip) into one LoadResult. Throws K6OutputError naming file:line. */
export async function readK6Output(files: readonly string[], options: { periodMs?: number } = {}): Promise<K6Import> {
  const reader = new Reader(options.periodMs ?? INTERVAL_MS);
  for (const file of files) {
    let n = 0;
    const where = () => `${file}:${n}`;
    try {
      for await (const line of await lines(file)) {
        n++;
        if (line.length === 0) continue;
        let o: PointLine;
        try {
          o = JSON.parse(line) as PointLine; // checked field by field below
        } catch {
          throw new K6OutputError(file, n, 'not JSON: is this k6 --out json output?');
        }
        if (o === null || typeof o !== 'object') throw new K6OutputError(file, n, 'not a JSON object: is this k6 --out json output?');
        if (o.type === 'Metric') continue;
        if (o.type !== 'Point') throw new K6OutputError(file, n, `"type" is ${JSON.stringify(o.type)}, not "Point" or "Metric": is this k6 --out json output?`);
        const d = o.data;
        if (!d || typeof d.time !== 'string' || typeof d.value !== 'number') throw new K6OutputError(file, n, 'a Point needs data.time (a string) and data.value (a number)');
        reader.points++;
        const tags = d.tags !== null && typeof d.tags === 'object' ? (d.tags as Record<string, unknown>) : {}; // an object, checked
        if (o.metric === 'flashsale_req_duration') reader.request(d.time, tags, d.value, where);
        else if (o.metric === 'flashsale_buyers') reader.buyers(tags, d.value, where);
        else if (o.metric === 'dropped_iterations') reader.dropped += Math.round(d.value);
      }
    } catch (e) {
      if (e instanceof K6OutputError) throw e; // already names file:line
      throw new K6OutputError(file, n || null, `cannot read it (${codeOf(e) ?? messageOf(e)})`);
    }
    if (n === 0) throw new K6OutputError(file, null, 'is empty: k6 wrote no output there');
  }
  if (reader.counts.requestsSent === 0) throw new K6OutputError(files.join(', '), null, 'holds no flashsale_req_duration points: write it with `k6 run --out json=<file> scenarios/k6/flash-sale.js`');
  const periodMs = options.periodMs ?? INTERVAL_MS;
  // t0 on a bucket boundary at or before the first request's send, so the series line up with it.
  const t0 = Math.floor(reader.minStartMs / periodMs) * periodMs;
  const durationMs = reader.maxEndMs - t0;
  reader.counts.buyers.dropped = reader.dropped;
  const load: LoadResult = {
    t0EpochMs: t0,
    durationMs,
    firstSendMs: reader.minStartMs - t0,
    lastAckMs: reader.lastAckEpochMs === -Infinity ? null : reader.lastAckEpochMs - t0,
    stopReason: 'completed',
    counts: reader.counts,
    latency: reader.latency(),
    intervals: reader.intervals(t0, durationMs),
    generator: {
      lateness: '',
      eventLoopDelayMs: { p50: 0, p99: 0, max: 0 },
      generatorBound: reader.dropped > 0,
      reason: reader.dropped > 0 ? droppedReason(reader.dropped) : null,
    },
    orders: reader.orders,
  };
  return { load, points: reader.points, droppedIterations: reader.dropped };
}

export function droppedReason(n: number): string {
  return `k6 dropped ${n.toLocaleString('en-US')} iteration${n === 1 ? '' : 's'} (dropped_iterations): it could not start buyers at the scenario's arrival rate, so the target was not tested as asked`;
}
