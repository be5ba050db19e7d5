// The engine's tally: counts by step × outcome, failure kinds, orders, progress words, and the
// LoadResult it assembles with the recorder's histograms.
import { describe, expect, it } from 'vitest';
import { ERROR, PAY, RESERVE, SOLD_OUT, SUCCESS } from '../src/contract/vocabulary.ts';
import { LoadRecorder } from '../src/measure/recorder.ts';
import { P_COMPLETED, P_ERRORS, P_SENT, P_SOLD_OUTS, P_UNITS, PROGRESS_FIELDS } from '../src/load/shared.ts';
import { Tally } from '../src/load/tally.ts';

describe('tally', () => {
  it('counts answers per step and outcome, names only the steps that saw a request', () => {
    const t = new Tally();
    t.sent(12.5);
    t.sent(13);
    t.outcome(RESERVE, SUCCESS);
    t.outcome(RESERVE, SOLD_OUT);
    t.outcome(PAY, ERROR);
    t.kind('http_503');
    t.kind('http_503');
    t.kind('timeout');
    expect(t.firstSendMs).toBe(12.5);
    expect(t.counts.requestsSent).toBe(2);
    expect(t.counts.byOutcome).toEqual({ success: 1, sold_out: 1, rejected: 0, error: 1 });
    expect(t.byStep()).toEqual({ reserve: { success: 1, sold_out: 1, rejected: 0, error: 0 }, pay: { success: 0, sold_out: 0, rejected: 0, error: 1 } });
    expect({ ...t.counts.errorsByKind }).toEqual({ http_503: 2, timeout: 1 });
  });

  it('keeps acknowledged orders and their units, and writes the progress words', () => {
    const progress = new Float64Array(PROGRESS_FIELDS.length);
    const t = new Tally(progress);
    t.sent(1);
    t.outcome(PAY, SUCCESS);
    t.acknowledged({ orderId: 'o1', userId: 'u1', sku: 'phone', qty: 2 }, 40);
    t.outcome(PAY, SOLD_OUT);
    t.flushProgress();
    expect(t.lastAckMs).toBe(40);
    expect(t.counts.unitsAcknowledged).toBe(2);
    expect([progress[P_SENT], progress[P_COMPLETED], progress[P_UNITS], progress[P_ERRORS], progress[P_SOLD_OUTS]]).toEqual([1, 2, 2, 0, 1]);
  });

  it('assembles the LoadResult with the recorder and judges the generator at the default scale', () => {
    const t = new Tally();
    const recorder = new LoadRecorder();
    recorder.recordLateness(100);
    recorder.recordAnswer(PAY, SUCCESS, 2000, 1500, 5, 1);
    t.sent(0);
    t.outcome(PAY, SUCCESS);
    t.acknowledged({ orderId: 'o1', userId: 'u1', sku: 'phone', qty: 1 }, 5);
    const r = t.result({ t0EpochMs: 1000, endMs: 250, stopReason: 'sold_out', recorder, eventLoopDelayMs: { p50: 0, p99: 1, max: 2 } });
    expect(r).toMatchObject({ t0EpochMs: 1000, durationMs: 250, firstSendMs: 0, lastAckMs: 5, stopReason: 'sold_out' });
    expect(r.counts.byStep).toEqual({ pay: { success: 1, sold_out: 0, rejected: 0, error: 0 } });
    expect(Object.keys(r.latency)).toEqual(['pay']);
    expect(r.generator.generatorBound).toBe(false);
    expect(r.generator.limits?.scaleMs).toBe(1000);
    expect(r.intervals.sent.length).toBe(r.intervals.completed.length);
  });
});
