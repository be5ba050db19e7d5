import { describe, expect, it } from 'vitest';
import { createLatencyHistogram, encodeHistogram } from '../src/common/histogram.ts';
import { describeCrossed, evaluateThresholds } from '../src/thresholds/index.ts';
import type { ThresholdInputs } from '../src/thresholds/index.ts';
import type { AuditResult, EncodedLatency } from '../src/contract/result.ts';

/** Encodes latencies given in ms (stored as µs, as the engine does). */
function enc(ms: number[]): string {
  const h = createLatencyHistogram();
  for (const v of ms) h.recordValue(Math.round(v * 1000));
  return encodeHistogram(h);
}
function lat(corrected: number[], uncorrected: number[]): EncodedLatency {
  return { corrected: enc(corrected), uncorrected: enc(uncorrected) };
}

const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

// reserve: 90 successes at 10 ms (5 ms service time), 10 sold-outs at 100 ms (2 ms service time).
// pay: 50 successes at 40 ms, 1 error at 1000 ms.
const reserveOk = range(90, () => 10);
const reserveSoldOut = range(10, () => 100);
function run(over: Partial<ThresholdInputs> = {}): ThresholdInputs {
  return {
    durationMs: 10_000,
    latency: {
      reserve: {
        all: lat([...reserveOk, ...reserveSoldOut], [...range(90, () => 5), ...range(10, () => 2)]),
        byOutcome: { success: lat(reserveOk, range(90, () => 5)), sold_out: lat(reserveSoldOut, range(10, () => 2)) },
      },
      pay: {
        all: lat([...range(50, () => 40), 1000], [...range(50, () => 40), 1000]),
        byOutcome: { success: lat(range(50, () => 40), range(50, () => 40)), error: lat([1000], [1000]) },
      },
    },
    counts: {
      requestsSent: 151,
      requestsAnswered: 150,
      retries: 0,
      byOutcome: { success: 140, sold_out: 10, rejected: 0, error: 1 },
      byStep: { reserve: { success: 90, sold_out: 10, rejected: 0, error: 0 }, pay: { success: 50, sold_out: 0, rejected: 0, error: 1 } },
      errorsByKind: { timeout: 1 },
      buyers: { started: 100, succeeded: 50, soldOut: 10, rejected: 0, gaveUp: 1, dropped: 3 },
      unitsAcknowledged: 50,
      cutByStop: 0,
    },
    stock: { initial: 50, sold: 50, soldFrom: 'acknowledged', acknowledged: 50, ledger: null, oversold: 0, sellOutMs: 8_000, inventory: [] },
    audit: null,
    ...over,
  };
}

function actual(key: string, expr: string, r = run()): number | null {
  return evaluateThresholds({ [key]: [expr] }, r)[0].actual;
}

describe('evaluateThresholds', () => {
  it('reads corrected latency by default, per step and outcome, and the uncorrected variant', () => {
    expect(actual('http_req_duration{step:reserve}', 'p(50)<1')).toBeCloseTo(10, 1);
    expect(actual('http_req_duration{step:reserve}', 'max<1')).toBeCloseTo(100, 0);
    expect(actual('http_req_duration{step:reserve,outcome:sold_out}', 'min<1')).toBeCloseTo(100, 0);
    expect(actual('http_req_duration_uncorrected{step:reserve}', 'max<1')).toBeCloseTo(5, 1);
    expect(actual('http_req_duration{step:reserve}', 'avg<1')).toBeCloseTo(19, 0);
    expect(actual('http_req_duration{step:reserve}', 'med<1')).toBeCloseTo(10, 1);
  });

  it('merges every step when no step is named', () => {
    // 151 samples: the slowest is the 1,000 ms pay error.
    expect(actual('http_req_duration', 'max<1')).toBeCloseTo(1000, -1);
    expect(actual('http_req_duration', 'p(99.9)<1')).toBeCloseTo(1000, -1);
  });

  it('computes rates and counters from the counts', () => {
    expect(actual('http_req_failed', 'rate<1')).toBeCloseTo(1 / 151);
    expect(actual('checks', 'rate>0')).toBeCloseTo(150 / 151);
    expect(actual('checks{step:reserve}', 'rate>0')).toBe(1);
    expect(actual('http_req_failed{step:pay}', 'rate<1')).toBeCloseTo(1 / 51);
    expect(actual('http_reqs', 'count>0')).toBe(151);
    expect(actual('http_reqs', 'rate>0')).toBeCloseTo(15.1);
    expect(actual('dropped_iterations', 'count==0')).toBe(3);
    expect(actual('sellout_ms', 'value<1')).toBe(8000);
    expect(actual('sold_out_time', 'value<1')).toBe(8000);
  });

  it('passes and fails by the operator, and records abortOnFail', () => {
    const results = evaluateThresholds(
      {
        'http_req_duration{step:reserve}': ['p(90)<=10.1', { threshold: 'p(99)<50', abortOnFail: true }],
        dropped_iterations: ['count==3', 'count!=3'],
        sellout_ms: ['value<=11900'],
      },
      run(),
    );
    expect(results.map((r) => [r.expression, r.pass, r.abortOnFail])).toEqual([
      ['p(90)<=10.1', true, false],
      ['p(99)<50', false, true],
      ['count==3', true, false],
      ['count!=3', false, false],
      ['value<=11900', true, false],
    ]);
    const crossed = describeCrossed(results);
    expect(crossed).toHaveLength(2);
    expect(crossed[0]).toMatch(/^http_req_duration{step:reserve} p\(99\)<50: observed 100(\.\d+)?$/);
    expect(crossed[1]).toBe('dropped_iterations count!=3: observed 3');
  });

  it('fails a threshold that has no data: no sell-out, no audit, an empty step', () => {
    const r = run({ stock: { initial: 50, sold: 40, soldFrom: 'acknowledged', acknowledged: 40, ledger: null, oversold: 0, sellOutMs: null, inventory: [] } });
    const results = evaluateThresholds({ sellout_ms: ['value<11900'], lost_orders: ['count==0'], 'http_req_duration{step:checkout}': ['p(99)<100'] }, r);
    expect(results.map((x) => [x.actual, x.pass])).toEqual([
      [null, false],
      [null, false],
      [null, false],
    ]);
  });

  it('reads oversold and lost orders from the audit; lost orders unknown without the ledger unless the inventory shows some', () => {
    const check = (skipped: boolean) => ({ id: 'acked_orders_in_ledger' as const, title: '', passed: false, skipped, detail: '', offending: [], offendingCount: 0 });
    const audit: AuditResult = { passed: false, checks: [check(false)], oversold: 7, lostOrders: 2 };
    expect(actual('oversold', 'count==0', run({ audit }))).toBe(7);
    expect(actual('lost_orders', 'count==0', run({ audit }))).toBe(2);
    // No ledger: 2 lost is what the inventory proves at least (acked_counted_as_sold); 0 proves nothing.
    expect(actual('lost_orders', 'count==0', run({ audit: { ...audit, checks: [check(true)] } }))).toBe(2);
    expect(actual('lost_orders', 'count==0', run({ audit: { ...audit, lostOrders: 0, checks: [check(true)] } }))).toBeNull();
  });
});
