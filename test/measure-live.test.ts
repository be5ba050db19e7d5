// The live figures: worker bins summed, differenced per tick, and read as rates and percentiles close
// to the exact histograms (one bin, ~9 %, of error), with the generator-behind flag and time left.
import { describe, expect, it } from 'vitest';
import { LIVE_FIELDS, LIVE_SKUS, LiveAggregator, LiveBins, liveSkus, sumLive } from '../src/measure/live.ts';
import { OTHER_SKUS } from '../src/measure/intervals.ts';
import { ERROR, REJECTED, SOLD_OUT, SUCCESS } from '../src/contract/vocabulary.ts';

function twoWorkers(fill: (bins: LiveBins, worker: number) => void): Float64Array {
  const shared = new Float64Array(2 * LIVE_FIELDS);
  for (let w = 0; w < 2; w++) {
    const bins = new LiveBins();
    fill(bins, w);
    bins.flushTo(shared.subarray(w * LIVE_FIELDS, (w + 1) * LIVE_FIELDS));
  }
  return sumLive(shared, 2);
}

describe('live aggregation', () => {
  it('reads rates and percentiles per tick from cumulative bins summed over workers', () => {
    const agg = new LiveAggregator({ stock: 1000, latenessLimitMs: 25 });
    // Tick 1 (1 s): 100 answers at 1..100 ms, half per worker; lateness 0.5 ms.
    const tick1 = twoWorkers((b, w) => {
      for (let i = 1 + w; i <= 100; i += 2) b.answer(SUCCESS, i * 1000, 201);
      for (let i = 0; i < 50; i++) b.lateness(500);
    });
    agg.sample({ elapsedMs: 1000, sent: 110, completed: 100, unitsAcknowledged: 100, live: tick1 });
    // Tick 2 (1 s more): 10 sold-out, 5 rejected, 3 errors without an answer, all at 200 ms; lateness 80 ms.
    const tick2 = twoWorkers((b, w) => {
      for (let i = 1 + w; i <= 100; i += 2) b.answer(SUCCESS, i * 1000, 201);
      for (let i = 0; i < 50; i++) b.lateness(500);
      if (w === 0) {
        for (let i = 0; i < 10; i++) b.answer(SOLD_OUT, 200_000, 409);
        for (let i = 0; i < 5; i++) b.answer(REJECTED, 200_000, 429);
        for (let i = 0; i < 3; i++) b.failure(ERROR);
        for (let i = 0; i < 20; i++) b.lateness(80_000);
      }
    });
    const snap = agg.sample({ elapsedMs: 2000, sent: 130, completed: 118, unitsAcknowledged: 100, live: tick2 });
    const [a, b] = snap.points;
    expect(a.successPerSec).toBe(100);
    expect(a.sentPerSec).toBe(110);
    expect(a.inFlight).toBe(10);
    // p50 of 1..100 ms is 50 ms, p99 is 99 ms: read as the bin's upper edge, within one bin (~9 %).
    expect(a.p50!).toBeGreaterThanOrEqual(50);
    expect(a.p50!).toBeLessThan(50 * 1.095);
    expect(a.p99!).toBeGreaterThanOrEqual(99);
    expect(a.p99!).toBeLessThan(99 * 1.095);
    expect(a.statusPerSec).toEqual({ '2xx': 100 });
    expect(a.latenessP99!).toBeLessThan(1);
    expect(snap.generatorBehind).toBe(true); // tick 2: 20 of 120 sends 80 ms late, limit 25 ms
    expect(b.soldOutPerSec).toBe(10);
    expect(b.rejectedPerSec).toBe(5);
    expect(b.errorPerSec).toBe(3);
    expect(b.statusPerSec).toEqual({ '2xx': 0, '4xx': 15 });
    expect(b.latenessMax!).toBeGreaterThanOrEqual(80);
    expect(snap.totals).toMatchObject({ successes: 100, soldOuts: 10, rejected: 5, errors: 3, unitsSold: 100, stock: 1000 });
  });

  it('counts open connections, their churn per second, and units sold per SKU, over the workers', () => {
    const skus = [{ id: 'phone', stock: 10 }, { id: 'case', stock: 40 }];
    const agg = new LiveAggregator({ stock: 50, latenessLimitMs: 25, skus });
    // Tick 1: each worker opens 4 connections (the warm-up) and sells 3 phones and 1 case.
    const tick1 = twoWorkers((b) => {
      for (let i = 0; i < 4; i++) b.connection(true);
      b.sold(0, 3);
      b.sold(1, 1);
    });
    agg.sample({ elapsedMs: 1000, sent: 8, completed: 8, unitsAcknowledged: 8, live: tick1 });
    // Tick 2 (0.5 s): worker 0's target closed 3 connections, 2 of them opened again; 2 more cases sold.
    const tick2 = twoWorkers((b, w) => {
      for (let i = 0; i < 4; i++) b.connection(true);
      b.sold(0, 3);
      b.sold(1, 1);
      if (w === 0) {
        for (let i = 0; i < 3; i++) b.connection(false);
        for (let i = 0; i < 2; i++) b.connection(true);
        b.sold(1, 2);
      }
    });
    const snap = agg.sample({ elapsedMs: 1500, sent: 10, completed: 10, unitsAcknowledged: 10, live: tick2 });
    const [a, b] = snap.points;
    expect(a.connectionsOpen).toBe(8);
    expect(a.connectsPerSec).toBe(8);
    expect(a.disconnectsPerSec).toBe(0);
    expect(a.soldBySku).toEqual([6, 2]);
    expect(b.connectionsOpen).toBe(7);
    expect(b.connectsPerSec).toBe(4);
    expect(b.disconnectsPerSec).toBe(6);
    expect(b.soldBySku).toEqual([6, 4]);
    expect(snap.totals).toMatchObject({ connects: 10, disconnects: 3 });
    expect(snap.skus).toEqual(skus);
  });

  it('gives the first SKUs a slot each and the rest one together, as the workers count them', () => {
    const many = Array.from({ length: LIVE_SKUS + 5 }, (_, i) => ({ id: `s${i}`, stock: 2 }));
    const slots = liveSkus(many);
    expect(slots).toHaveLength(LIVE_SKUS);
    expect(slots.at(-1)).toEqual({ id: OTHER_SKUS, stock: 2 * 6 });
    const bins = new LiveBins();
    bins.sold(LIVE_SKUS - 2, 1);
    bins.sold(LIVE_SKUS - 1, 1);
    bins.sold(LIVE_SKUS + 4, 2);
    const agg = new LiveAggregator({ stock: null, latenessLimitMs: 25, skus: many });
    const p = agg.sample({ elapsedMs: 1000, sent: 4, completed: 4, unitsAcknowledged: 4, live: bins.values }).points[0];
    expect(p.soldBySku.slice(-2)).toEqual([1, 3]);
  });

  it('says the time left against the cap, or the sell-out the selling rate points to when sooner', () => {
    const agg = new LiveAggregator({ stock: 1000, latenessLimitMs: 25, capMs: 60_000 });
    expect(agg.sample({ elapsedMs: 1000, sent: 0, completed: 0, unitsAcknowledged: 0 }).remainingBy).toBe('cap');
    agg.sample({ elapsedMs: 2000, sent: 100, completed: 100, unitsAcknowledged: 100 });
    const s = agg.sample({ elapsedMs: 3000, sent: 200, completed: 200, unitsAcknowledged: 200 });
    // 100 units a second on average over the last ticks, 800 left.
    expect(s.remainingBy).toBe('sell-out');
    expect(s.remainingMs).toBeGreaterThan(5000);
    expect(s.remainingMs).toBeLessThan(12_000);
    expect(s.generatorBehind).toBe(false);
    expect(agg.finish().done).toBe(true);
  });
});
