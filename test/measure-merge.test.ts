// mergeLoadResults must be exact: merging the halves of a run gives the whole, histogram for histogram.
import { describe, expect, it } from 'vitest';
import { decodeHistogram, encodeHistogram } from '../src/common/histogram.ts';
import { emptyCounts, mergeLoadResults } from '../src/measure/merge.ts';
import { LoadRecorder } from '../src/measure/recorder.ts';
import { mulberry32 } from '../src/common/random.ts';
import type { LoadResult } from '../src/contract/result.ts';

/** A LoadResult recorded from a deterministic synthetic event stream; `keep` picks which events. */
function synthetic(keep: (i: number) => boolean, t0 = 1_700_000_000_000): LoadResult {
  const rec = new LoadRecorder();
  const counts = emptyCounts();
  const rng = mulberry32(9);
  const orders: LoadResult['orders'] = [];
  let end = 0;
  for (let i = 0; i < 20_000; i++) {
    const at = i * 0.15; // a worker's clock only moves forward
    const step = Math.floor(rng.next() * 3);
    const outcome = Math.floor(rng.next() * 4);
    const corrected = Math.floor(rng.next() * 2_000_000);
    const uncorrected = Math.floor(corrected * rng.next());
    const late = Math.floor(rng.next() * 3000);
    if (!keep(i)) continue;
    rec.intervals.sent(at);
    // Connections opened and closed again by the same half (i and i + 20 have the same parity).
    if (i % 40 === 0 || i % 40 === 1) rec.recordConnection(true, at);
    if (i % 40 === 20 || i % 40 === 21) rec.recordConnection(false, at);
    rec.recordLateness(late, at); // the new series too: worst lateness, status codes, units per SKU
    rec.recordAnswer(step, outcome, corrected, uncorrected, at + 1, outcome === 0 ? 1 : 0, [201, 409, 429, 503][outcome], `sku${i % 3}`);
    counts.requestsSent++;
    counts.byOutcome[(['success', 'sold_out', 'rejected', 'error'] as const)[outcome]]++;
    counts.errorsByKind[`k${outcome}`] = (counts.errorsByKind[`k${outcome}`] ?? 0) + 1;
    if (outcome === 0) orders.push({ orderId: `o${i}`, userId: `u${i}`, sku: 's', qty: 1 });
    end = Math.max(end, at + 1);
  }
  return {
    t0EpochMs: t0,
    durationMs: end,
    firstSendMs: 0,
    lastAckMs: end,
    stopReason: 'completed',
    counts,
    latency: rec.latency(),
    intervals: rec.intervals.finish(end),
    generator: { lateness: encodeHistogram(rec.lateness), eventLoopDelayMs: { p50: 1, p99: 2, max: 3 }, generatorBound: false, reason: null },
    orders,
  };
}

function sameHistogram(a: string, b: string) {
  const ha = decodeHistogram(a);
  const hb = decodeHistogram(b);
  expect(ha.totalCount).toBe(hb.totalCount);
  for (const p of [0, 25, 50, 90, 99, 99.9, 100]) expect(ha.getValueAtPercentile(p)).toBe(hb.getValueAtPercentile(p));
}

describe('mergeLoadResults', () => {
  it('merges two halves into exactly the whole', () => {
    const whole = synthetic(() => true);
    const merged = mergeLoadResults([synthetic((i) => i % 2 === 0), synthetic((i) => i % 2 === 1)]);
    expect(merged.counts).toEqual(whole.counts);
    expect(merged.orders.map((o) => o.orderId).sort()).toEqual(whole.orders.map((o) => o.orderId).sort());
    expect(Object.keys(merged.latency).sort()).toEqual(Object.keys(whole.latency).sort());
    for (const [step, lat] of Object.entries(whole.latency)) {
      const m = merged.latency[step as keyof typeof whole.latency]!;
      sameHistogram(m.all.corrected, lat.all.corrected);
      sameHistogram(m.all.uncorrected, lat.all.uncorrected);
      for (const [o, pair] of Object.entries(lat.byOutcome) as Array<[string, { corrected: string; uncorrected: string }]>) {
        sameHistogram(m.byOutcome[o as 'success']!.corrected, pair.corrected);
        sameHistogram(m.byOutcome[o as 'success']!.uncorrected, pair.uncorrected);
      }
    }
    const { latency: ml, ...mSeries } = merged.intervals;
    const { latency: wl, ...wSeries } = whole.intervals;
    expect(mSeries).toEqual(wSeries);
    expect(Object.keys(wSeries.statusCodes!).sort()).toEqual(['201', '409', '429', '503']); // set by the recorder
    expect(Object.keys(wSeries.soldBySku!).sort()).toEqual(['sku0', 'sku1', 'sku2']);
    expect(wSeries.rejected!.reduce((a, b) => a + b, 0)).toBe(whole.counts.byOutcome.rejected);
    expect(Math.max(...wSeries.latenessMaxMs!)).toBeGreaterThan(2.9);
    // Open connections are a level: the halves' levels add up to the whole's in every bucket.
    expect(wSeries.connects!.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(wSeries.disconnects!.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(Math.max(...wSeries.connectionsOpen!)).toBe(2);
    expect(ml).toHaveLength(wl.length);
    ml.forEach((enc, b) => sameHistogram(enc, wl[b]));
    sameHistogram(merged.generator.lateness, whole.generator.lateness);
    expect(merged.durationMs).toBe(whole.durationMs);
  });

  it('aligns interval series on t0 and keeps the worst generator verdict', () => {
    // structuredClone: on Node 24.21 two results built by the same object literal were seen to share
    // t0EpochMs (a V8 double-field bug, intermittent); clones keep the fixtures independent.
    const a = structuredClone(synthetic((i) => i < 100));
    const b = structuredClone(synthetic((i) => i < 100, a.t0EpochMs + 1000));
    b.stopReason = 'interrupted';
    b.generator = { lateness: b.generator.lateness, generatorBound: true, reason: 'late', eventLoopDelayMs: { p50: 1, p99: 180, max: 220 } };
    const m = mergeLoadResults([b, a]);
    expect(m.t0EpochMs).toBe(a.t0EpochMs);
    expect(m.intervals.sent.slice(10, 10 + b.intervals.sent.length)).toEqual(
      b.intervals.sent.map((n, i) => n + (a.intervals.sent[10 + i] ?? 0)),
    );
    expect(m.intervals.sent.reduce((x, y) => x + y, 0)).toBe(200);
    for (const key of ['connectionsOpen', 'connects', 'disconnects'] as const) {
      expect(m.intervals[key]!.slice(10, 10 + b.intervals.sent.length), key).toEqual(b.intervals[key]!.map((n, i) => n + (a.intervals[key]![10 + i] ?? 0)));
    }
    expect(Math.max(...m.intervals.connectionsOpen!)).toBe(2);
    expect(m.durationMs).toBeCloseTo(1000 + b.durationMs);
    expect(m.stopReason).toBe('interrupted');
    // One reason, restated on the merged figures (here the worst event-loop stall), not one per part.
    expect(m.generator).toMatchObject({ generatorBound: true, eventLoopDelayMs: { p99: 180, max: 220 } });
    expect(m.generator.reason).toMatch(/event loop stalled: p99 delay 180\.0 ms/);
  });

  it('adds up error kinds of any name, "__proto__" and "constructor" included (they come from result files)', () => {
    const a = structuredClone(synthetic((i) => i < 10));
    const b = structuredClone(synthetic((i) => i < 10));
    a.counts.errorsByKind = JSON.parse('{"__proto__": 2, "constructor": 1}');
    b.counts.errorsByKind = JSON.parse('{"__proto__": 3}');
    const m = mergeLoadResults([a, b]);
    expect(Object.entries(m.counts.errorsByKind)).toEqual([['__proto__', 5], ['constructor', 1]]);
    expect(JSON.parse(JSON.stringify(m.counts.errorsByKind))).toEqual(JSON.parse('{"__proto__": 5, "constructor": 1}'));
  });

  it('keeps the connection series absent when no part has them (results written before them)', () => {
    const a = structuredClone(synthetic((i) => i < 10));
    const b = structuredClone(synthetic((i) => i < 10));
    for (const r of [a, b]) for (const key of ['connectionsOpen', 'connects', 'disconnects'] as const) delete r.intervals[key];
    const m = mergeLoadResults([a, b]);
    expect(m.intervals.connectionsOpen).toBeUndefined();
    expect(m.intervals.connects).toBeUndefined();
  });

  it('refuses nothing to merge', () => {
    expect(() => mergeLoadResults([])).toThrow(/at least one/);
  });
});

describe('interval series keyed by SKU', () => {
  it('takes SKU ids that are names of Object.prototype members like any other', () => {
    const rec = new LoadRecorder();
    for (const sku of ['constructor', '__proto__', 'toString', 'phone']) rec.recordAnswer(0, 0, 1000, 900, 5, 1, 201, sku);
    const series = rec.intervals.finish(10);
    expect(Object.keys(series.soldBySku!).sort()).toEqual(['__proto__', 'constructor', 'phone', 'toString']); // set by the recorder
    const again = JSON.parse(JSON.stringify(mergeLoadResults([{ ...synthetic(() => false), intervals: series }]).intervals)) as typeof series;
    expect(again.soldBySku!.constructor).toEqual([1]); // set by the recorder, through the merge and JSON
  });
});
