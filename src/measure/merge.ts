// Exact merge of load results: from the workers of one run, or (`flashsale merge`) of whole runs made
// on several machines. Histograms are added count for count, counts summed, interval series aligned
// on t0EpochMs bucket by bucket, orders concatenated. Nothing is averaged, so nothing is lost.
import { OUTCOMES, STEPS, zeroPerOutcome, type Step } from '../contract/vocabulary.ts';
import { type Counts, type EncodedLatency, type IntervalSeries, type LoadResult, type StepLatency } from '../contract/result.ts';
import { mergeEncoded } from '../common/histogram.ts';
import { judgeGenerator } from './self-watch.ts';

const STOP_PRIORITY: LoadResult['stopReason'][] = ['interrupted', 'target_down', 'max_duration', 'max_requests', 'sold_out', 'completed'];

export function mergeLoadResults(parts: LoadResult[]): LoadResult {
  if (parts.length === 0) throw new RangeError('mergeLoadResults needs at least one LoadResult');
  const t0 = Math.min(...parts.map((p) => p.t0EpochMs));
  const offsets = parts.map((p) => p.t0EpochMs - t0);
  const shifted = (v: number | null, i: number) => (v === null ? null : v + offsets[i]);
  const firsts = parts.map((p, i) => shifted(p.firstSendMs, i)).filter((v): v is number => v !== null);
  const lasts = parts.map((p, i) => shifted(p.lastAckMs, i)).filter((v): v is number => v !== null);
  const bound = parts.filter((p) => p.generator.generatorBound);
  const lateness = mergeEncoded(parts.map((p) => p.generator.lateness));
  const eventLoopDelayMs = {
    p50: Math.max(...parts.map((p) => p.generator.eventLoopDelayMs.p50)),
    p99: Math.max(...parts.map((p) => p.generator.eventLoopDelayMs.p99)),
    max: Math.max(...parts.map((p) => p.generator.eventLoopDelayMs.max)),
  };
  return {
    t0EpochMs: t0,
    durationMs: Math.max(...parts.map((p, i) => p.durationMs + offsets[i])),
    firstSendMs: firsts.length ? Math.min(...firsts) : null,
    lastAckMs: lasts.length ? Math.max(...lasts) : null,
    stopReason: STOP_PRIORITY.find((r) => parts.some((p) => p.stopReason === r)) ?? 'completed',
    counts: mergeCounts(parts.map((p) => p.counts)),
    latency: mergeLatency(parts.map((p) => p.latency)),
    intervals: mergeIntervals(parts.map((p) => p.intervals), offsets),
    generator: {
      lateness,
      ...(parts.some((p) => p.generator.connectionWait !== undefined)
        ? { connectionWait: mergeEncoded(parts.map((p) => p.generator.connectionWait ?? '')) }
        : {}),
      eventLoopDelayMs,
      // Bound if any part was; one reason, restated on the merged figures rather than one per part.
      generatorBound: bound.length > 0,
      reason: bound.length ? (judgeGenerator({ lateness, eventLoopDelayMs }).reason ?? bound[0].generator.reason) : null,
    },
    orders: parts.flatMap((p) => p.orders),
  };
}

export function emptyCounts(): Counts {
  return {
    requestsSent: 0,
    requestsAnswered: 0,
    retries: 0,
    byOutcome: { success: 0, sold_out: 0, rejected: 0, error: 0 },
    byStep: {},
    // Keys come from result files too (flashsale merge): no prototype for a "__proto__" key to reach.
    errorsByKind: Object.create(null) as Record<string, number>,
    buyers: { started: 0, succeeded: 0, soldOut: 0, rejected: 0, gaveUp: 0, dropped: 0 },
    unitsAcknowledged: 0,
    cutByStop: 0,
  };
}

function mergeCounts(all: Counts[]): Counts {
  const out = emptyCounts();
  for (const c of all) {
    out.requestsSent += c.requestsSent;
    out.requestsAnswered += c.requestsAnswered;
    out.retries += c.retries;
    out.unitsAcknowledged += c.unitsAcknowledged;
    out.cutByStop += c.cutByStop ?? 0;
    for (const o of OUTCOMES) out.byOutcome[o] += c.byOutcome[o] ?? 0;
    for (const step of STEPS) {
      const from = c.byStep?.[step];
      if (!from) continue;
      const to = (out.byStep[step] ??= zeroPerOutcome());
      for (const o of OUTCOMES) to[o] += from[o] ?? 0;
    }
    for (const [k, v] of Object.entries(c.errorsByKind)) out.errorsByKind[k] = (out.errorsByKind[k] ?? 0) + v;
    for (const k of Object.keys(out.buyers) as Array<keyof Counts['buyers']>) out.buyers[k] += c.buyers[k] ?? 0; // Object.keys loses the key type; these are the buyers fields
  }
  return out;
}

function mergePair(pairs: Array<EncodedLatency | undefined>): EncodedLatency | undefined {
  const present = pairs.filter((p): p is EncodedLatency => p !== undefined);
  if (present.length === 0) return undefined;
  return { corrected: mergeEncoded(present.map((p) => p.corrected)), uncorrected: mergeEncoded(present.map((p) => p.uncorrected)) };
}

function mergeLatency(all: Array<Partial<Record<Step, StepLatency>>>): Partial<Record<Step, StepLatency>> {
  const out: Partial<Record<Step, StepLatency>> = {};
  for (const step of STEPS) {
    const steps = all.map((l) => l[step]).filter((s): s is StepLatency => s !== undefined);
    if (steps.length === 0) continue;
    const merged: StepLatency = { all: mergePair(steps.map((s) => s.all))!, byOutcome: {} }; // steps is not empty (filtered above), so the merge has a pair
    for (const o of OUTCOMES) {
      const p = mergePair(steps.map((s) => s.byOutcome[o]));
      if (p) merged.byOutcome[o] = p;
    }
    out[step] = merged;
  }
  return out;
}

type NumericKey = 'sent' | 'completed' | 'successes' | 'soldOuts' | 'errors' | 'stockTaken';
const NUMERIC: NumericKey[] = ['sent', 'completed', 'successes', 'soldOuts', 'errors', 'stockTaken'];

function mergeIntervals(all: IntervalSeries[], offsetsMs: number[]): IntervalSeries {
  const periodMs = all[0].periodMs;
  const odd = all.find((s) => s.periodMs !== periodMs);
  if (odd) throw new RangeError(`cannot merge interval series of ${periodMs} ms and ${odd.periodMs} ms buckets`);
  // Runs that did not start on the same bucket boundary are aligned to the nearest bucket.
  const shifts = offsetsMs.map((ms) => Math.round(ms / periodMs));
  const length = Math.max(0, ...all.map((s, i) => s.sent.length + shifts[i]));
  const out: IntervalSeries = { periodMs, sent: [], completed: [], successes: [], soldOuts: [], errors: [], stockTaken: [], latency: [] };
  for (const k of NUMERIC) out[k] = new Array<number>(length).fill(0);
  const latencies: string[][] = Array.from({ length }, () => []);
  all.forEach((s, i) => {
    const shift = shifts[i];
    for (const k of NUMERIC) {
      const src = s[k];
      const dst = out[k];
      for (let b = 0; b < src.length; b++) dst[b + shift] += src[b];
    }
    s.latency.forEach((enc, b) => {
      if (enc !== '') latencies[b + shift].push(enc);
    });
  });
  out.latency = latencies.map((encs) => (encs.length === 0 ? '' : encs.length === 1 ? encs[0] : mergeEncoded(encs)));
  // The newer series, when any part has them (results written before them do not).
  const place = (dst: number[], src: number[], shift: number, add: boolean) => {
    for (let b = 0; b < src.length; b++) dst[b + shift] = add ? dst[b + shift] + src[b] : Math.max(dst[b + shift], src[b]);
  };
  if (all.some((s) => s.rejected)) {
    out.rejected = new Array<number>(length).fill(0);
    all.forEach((s, i) => s.rejected && place(out.rejected!, s.rejected, shifts[i], true)); // set just above
  }
  if (all.some((s) => s.latenessMaxMs)) {
    out.latenessMaxMs = new Array<number>(length).fill(0);
    all.forEach((s, i) => s.latenessMaxMs && place(out.latenessMaxMs!, s.latenessMaxMs, shifts[i], false)); // set just above
  }
  for (const key of ['statusCodes', 'soldBySku', 'errorsByKind'] as const) {
    if (!all.some((s) => s[key])) continue;
    const merged: Record<string, number[]> = Object.create(null) as Record<string, number[]>; // keys come from files: no prototype for "__proto__" to reach
    all.forEach((s, i) => {
      for (const [name, src] of Object.entries(s[key] ?? {})) place((merged[name] ??= new Array<number>(length).fill(0)), src, shifts[i], true);
    });
    out[key] = { ...merged };
  }
  // Summed per bucket: connections held by several workers (or machines) at once add up. A part whose
  // series ended earlier adds nothing after its end (its connections were closed with its run).
  for (const key of ['retries', 'connectionsOpen', 'connects', 'disconnects'] as const) {
    if (!all.some((s) => s[key])) continue;
    const merged = new Array<number>(length).fill(0);
    all.forEach((s, i) => {
      const src = s[key];
      if (src) place(merged, src, shifts[i], true);
    });
    out[key] = merged;
  }
  return out;
}
