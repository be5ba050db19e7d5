// The one judge (src/judge/judge.ts): measurements + audit inputs + thresholds + generator health +
// stop reason → stock views, thresholds (defaults included), generator judged at the scenario's scale,
// and the verdict with its exit code. `flashsale run` and `flashsale merge` both call it.
import { describe, expect, it } from 'vitest';
import type { AuditInputs } from '../src/audit/fetch.ts';
import { createLatencyHistogram, encodeHistogram } from '../src/common/histogram.ts';
import { formatSummary } from '../src/report/summary.ts';
import { judge, latencyScale, type JudgeInput } from '../src/judge/judge.ts';
import type { AckedOrder, LoadResult, RunResult } from '../src/contract/result.ts';
import { buildLoadResult, fakeEvents, toRunResult } from './helpers/fake-result.ts';

const base = buildLoadResult(fakeEvents({ seed: 21, buyers: 1500, stock: 400, journey: 'checkout', errorRate: 0, declineRate: 0 }));

function load(over: Partial<LoadResult> = {}): LoadResult {
  return { ...structuredClone(base), ...over };
}

/** What a correct target answers after the run: its inventory agrees with what was acknowledged. */
function inputs(l: LoadResult, over: Partial<AuditInputs> = {}): AuditInputs {
  const sold = l.orders.reduce((n, o) => n + o.qty, 0);
  return {
    inventory: [{ sku: 'redmi-1s', initial: 400, available: 400 - sold, reserved: 0, sold }],
    ledgerOrders: l.orders,
    unavailable: {},
    ...over,
  };
}

function judged(l: LoadResult, over: Partial<JudgeInput> = {}) {
  return judge({
    load: l,
    initialUnits: 400,
    audit: { inputs: inputs(l), perUserLimit: 1, initialStock: new Map([['redmi-1s', 400]]) },
    thresholds: {},
    ...over,
  });
}

describe('the verdict', () => {
  it('passes a sale that happened, judged by the defaults', () => {
    const j = judged(load());
    expect(j.verdict).toEqual({ status: 'passed', passed: true, exitCode: 0, reasons: [] });
    expect(j.thresholds.map((t) => [t.metric, t.expression, t.source, t.status])).toEqual([
      ['orders', 'count>0', 'default', 'passed'],
      ['http_req_failed', 'rate<0.05', 'default', 'passed'],
      ['http_req_rejected', 'rate<0.5', 'default', 'passed'],
    ]);
  });

  it('never passes a sale that did not happen: no order, every request an error', () => {
    const l = load({ orders: [], latency: {} });
    l.counts = { ...l.counts, byOutcome: { success: 0, sold_out: 0, rejected: 0, error: 900 }, byStep: {}, buyers: { ...l.counts.buyers, succeeded: 0 }, errorsByKind: { ECONNREFUSED: 900 } };
    const j = judged(l, { audit: { inputs: { inventory: null, ledgerOrders: null, unavailable: { inventory: 'GET failed' } }, perUserLimit: 1, initialStock: new Map([['redmi-1s', 400]]) } });
    expect(j.verdict).toMatchObject({ status: 'thresholds_crossed', exitCode: 99 });
    expect(j.verdict.reasons).toEqual([
      'threshold: orders count>0 (default): observed 0',
      'threshold: http_req_failed rate<0.05 (default): observed 1',
    ]);
  });

  it('lets the scenario replace a default by naming its metric, with any tags', () => {
    const j = judged(load(), { thresholds: { 'http_req_failed{step:checkout}': ['rate<0.5'] } });
    expect(j.thresholds.filter((t) => t.metric.startsWith('http_req_failed')).map((t) => [t.metric, t.source])).toEqual([['http_req_failed{step:checkout}', 'scenario']]);
  });

  it('ranks audit failed over interrupted over thresholds crossed over inconclusive', () => {
    const bound = { ...base.generator, eventLoopDelayMs: { p50: 1, p99: 400, max: 500 } };
    const lost: AckedOrder[] = base.orders.slice(1); // the ledger lost one acknowledged order
    const auditFails = { audit: { inputs: inputs(base, { ledgerOrders: lost }), perUserLimit: 1, initialStock: new Map([['redmi-1s', 400]]) } };
    const crossed = { thresholds: { orders: ['count>100000'] } }; // not about the schedule: the target's
    const all = judged(load({ stopReason: 'interrupted', generator: bound }), { ...auditFails, ...crossed });
    expect(all.verdict).toMatchObject({ status: 'audit_failed', exitCode: 3 });
    expect(all.verdict.reasons[0]).toMatch(/^audit: Every acknowledged order is in the ledger/);
    expect(judged(load({ stopReason: 'interrupted', generator: bound }), crossed).verdict).toMatchObject({ status: 'interrupted', exitCode: 105 });
    expect(judged(load({ generator: bound }), crossed).verdict).toMatchObject({ status: 'thresholds_crossed', exitCode: 99 });
    expect(judged(load({ generator: bound })).verdict).toMatchObject({ status: 'inconclusive', exitCode: 4 });
    // An interrupted run never reads as a plain pass, whatever it measured.
    expect(judged(load({ stopReason: 'interrupted' })).verdict).toMatchObject({ status: 'interrupted', passed: false });
  });
});

describe('requests cut by the stop', () => {
  it('are neither errors nor in http_req_failed', () => {
    const l = load();
    l.counts = { ...l.counts, cutByStop: 500, requestsSent: l.counts.requestsSent + 500 };
    const j = judged(l);
    expect(j.thresholds.find((t) => t.metric === 'http_req_failed')).toMatchObject({ actual: 0, status: 'passed' });
    expect(j.verdict.status).toBe('passed');
  });
});

describe('the generator, judged at the scenario’s scale', () => {
  it('takes the scale from the tightest latency threshold', () => {
    const j = judged(load(), { thresholds: { 'http_req_duration{step:checkout}': ['p(99)<800', 'p(50)<300'], sellout_ms: ['value<11900'] } });
    expect(j.generator.limits).toMatchObject({ scaleMs: 300, latenessMs: 30, scaleFrom: 'the threshold http_req_duration{step:checkout} p(50)<300' });
    expect(latencyScale(j.thresholds.filter((t) => t.metric === 'sellout_ms'))).toBeNull();
  });

  it('calls a latency threshold crossed by no more than the generator’s own part inconclusive, and one crossed by more the target’s', () => {
    // Requests left up to 150 ms late and the event loop stalled 30 ms: 180 ms of a corrected p99 can be the generator's.
    const late = createLatencyHistogram();
    late.recordValueWithCount(1_000, 900);
    late.recordValueWithCount(150_000, 100);
    const corrected = (p99Ms: number) => {
      const h = createLatencyHistogram();
      h.recordValueWithCount(2_000, 900);
      h.recordValueWithCount(p99Ms * 1000, 100);
      return { corrected: encodeHistogram(h), uncorrected: encodeHistogram(h) };
    };
    const generator = { ...base.generator, lateness: encodeHistogram(late), eventLoopDelayMs: { p50: 1, p99: 30, max: 40 } };
    const withLatency = (p99Ms: number) => load({ generator, latency: { checkout: { all: corrected(p99Ms), byOutcome: { success: corrected(p99Ms) } } } });
    const own = judged(withLatency(170), { thresholds: { http_req_duration: ['p(99)<100'] } });
    expect(own.thresholds[0]).toMatchObject({ status: 'inconclusive', pass: false });
    expect(own.thresholds[0].note).toMatch(/the generator itself sent requests 150\.\d ms late at the same p\(99\) and its event loop stalled up to 30\.0 ms/);
    expect(own.verdict.status).toBe('inconclusive');
    const target = judged(withLatency(900), { thresholds: { http_req_duration: ['p(99)<100'] } });
    expect(target.thresholds[0]).toMatchObject({ status: 'crossed' });
    expect(target.verdict.status).toBe('thresholds_crossed');
  });

  it('calls a timeout-only failure rate of a stalled generator inconclusive: its clock measured them', () => {
    const l = load({ generator: { ...base.generator, eventLoopDelayMs: { p50: 1, p99: 900, max: 2000 } } });
    l.counts = { ...l.counts, byOutcome: { ...l.counts.byOutcome, error: 400 }, errorsByKind: { timeout: 400 } };
    const j = judged(l);
    expect(j.thresholds.find((t) => t.metric === 'http_req_failed')).toMatchObject({ status: 'inconclusive' });
    expect(j.verdict.status).toBe('inconclusive');
    // The same errors as connection refusals are the target's: a failure.
    l.counts.errorsByKind = { ECONNREFUSED: 400 };
    expect(judged(l).verdict.status).toBe('thresholds_crossed');
  });
});

describe('a target that shares a busy machine (the built-in service)', () => {
  it('makes a time threshold it crossed inconclusive; others stay crossed; a quiet machine changes nothing', () => {
    const thresholds = { 'http_req_duration{step:checkout}': ['p(50)<0.001'], orders: ['count>100000'] };
    const busy = judged(load(), { thresholds, sharedMachine: { othersCpuShare: 0.4, cpus: 2 } });
    expect(busy.thresholds.map((t) => t.status)).toEqual(['inconclusive', 'crossed', 'passed', 'passed']);
    expect(busy.thresholds[0].note).toMatch(/other processes used 40% of this machine's CPU/);
    expect(busy.verdict.status).toBe('thresholds_crossed'); // the order count is the service's, busy or not
    const onlyTime = judged(load(), { thresholds: { 'http_req_duration{step:checkout}': ['p(50)<0.001'] }, sharedMachine: { othersCpuShare: 0.4, cpus: 2 } });
    expect(onlyTime.verdict).toMatchObject({ status: 'inconclusive', exitCode: 4 });
    const quiet = judged(load(), { thresholds: { 'http_req_duration{step:checkout}': ['p(50)<0.001'] }, sharedMachine: { othersCpuShare: 0.1, cpus: 2 } });
    expect(quiet.verdict.status).toBe('thresholds_crossed');
  });
});

describe('units sold, one definition per source', () => {
  // The target acknowledged 402 orders for 400 units; its inventory counts 392 sold and 8 available.
  function oversoldRun(): RunResult {
    const l = load();
    const extra: AckedOrder[] = [{ orderId: 'x-1', userId: 'late-1', sku: 'redmi-1s', qty: 1 }, { orderId: 'x-2', userId: 'late-2', sku: 'redmi-1s', qty: 1 }];
    l.orders = [...l.orders, ...extra];
    const j = judge({
      load: l,
      initialUnits: 400,
      audit: { inputs: { inventory: [{ sku: 'redmi-1s', initial: 400, available: 8, reserved: 0, sold: 392 }], ledgerOrders: null, unavailable: { ledger: 'no admin token' } }, perUserLimit: 1, initialStock: new Map([['redmi-1s', 400]]) },
      thresholds: {},
    });
    return { ...toRunResult(l), ...j };
  }

  it('keeps each view apart and labels it, so the summary never contradicts itself', () => {
    const r = oversoldRun();
    expect(r.stock).toMatchObject({ initial: 400, sold: 392, soldFrom: 'inventory', acknowledged: 402, ledger: null, oversold: 2 });
    const text = formatSummary(r);
    expect(text).toMatch(/sold, by the inventory\.+: 392\n/);
    expect(text).toMatch(/acknowledged to buyers\.+: 402  2 OVER STOCK\n/);
    expect(text).toMatch(/oversold\.+: 2 units \(the worst of the views above\)/);
    expect(text).toMatch(/not sold out \(8 units available, by the inventory\)/);
    expect(text).not.toMatch(/units left/);
    // 402 acknowledged, 392 counted: at least 10 acknowledged orders lost, and the run fails for it.
    expect(r.audit!.lostOrders).toBe(10);
    expect(r.verdict.status).toBe('audit_failed');
  });
});
