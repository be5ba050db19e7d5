// The judge and a run's faults (src/judge/faults.ts, through the one judge in src/judge/judge.ts):
// errors during a fault are expected and do not fail the run; loss or oversell fails it (exit 3) fault
// or not; a fault that did not happen as asked (failed, heal failed, never hit) is named and makes the
// run inconclusive (exit 4). The loads are the fake crowd's (test/helpers/fake-result.ts), judged with
// a real audit.
import { describe, expect, it } from 'vitest';
import { countsOutsideFaults, faultProblems } from '../src/judge/faults.ts';
import { judge } from '../src/judge/judge.ts';
import type { Counts, IntervalSeries, LoadResult } from '../src/contract/result.ts';
import type { FaultRecord } from '../src/faults/index.ts';
import { buildLoadResult, fakeEvents } from './helpers/fake-result.ts';
import { faultRecord, unreachedRecord } from './helpers/fault-record.ts';

describe('the judge and faults', () => {
  it('names every fault that did not happen as asked', () => {
    expect(faultProblems([faultRecord({})])).toEqual([]);
    expect(faultProblems([faultRecord({ status: 'failed', problem: 'no Toxiproxy', hitMs: 1000, inEffectMs: null })])[0]).toMatch(/faults\[0\] .* could not be injected: no Toxiproxy/);
    expect(faultProblems([faultRecord({ status: 'heal_failed', problem: 'port taken' })])[0]).toMatch(/heal failed: port taken/);
    expect(faultProblems([faultRecord({ status: 'not_reached', hitMs: null })])[0]).toMatch(/never hit: the run ended before 1,000 ms/);
  });

  it('counts answers outside the faults’ windows only (the default error rate)', () => {
    const zeros = () => new Array<number>(40).fill(0);
    const series: IntervalSeries = { periodMs: 100, sent: zeros(), completed: zeros(), successes: zeros(), soldOuts: zeros(), errors: zeros(), stockTaken: zeros(), latency: new Array<string>(40).fill('') };
    for (let b = 0; b < 40; b++) {
      const inside = b >= 10 && b < 25;
      series.completed[b] = 10;
      series.errors[b] = inside ? 10 : 0;
      series.successes[b] = inside ? 0 : 10;
    }
    const counts = { byOutcome: { success: 250, sold_out: 0, rejected: 0, error: 150 } } as Counts; // only byOutcome is read
    const outside = countsOutsideFaults(counts, series, [faultRecord({ hitMs: 1000, healedMs: 2500 })])!;
    expect(outside.counts.byOutcome).toEqual({ success: 250, sold_out: 0, rejected: 0, error: 0 });
    expect(outside.excluded).toBe(150);
    expect(countsOutsideFaults(counts, series, [faultRecord({ status: 'not_reached', hitMs: null, inEffectMs: null, healedMs: null })])).toBeNull();
  });
});

/** A sale of 400 phones to 600 buyers without errors, then 100 errors in each 100 ms bucket from 500 to
 * 1,200 ms (700 in all: about half of all answers), as a kill of the service would give. */
function saleWithOutage(): LoadResult {
  const load = buildLoadResult(fakeEvents({ seed: 3, buyers: 600, stock: 400, journey: 'checkout', errorRate: 0 }));
  for (let b = 5; b < 12; b++) {
    load.intervals.errors[b] += 100;
    load.intervals.completed[b] += 100;
  }
  load.counts.byOutcome.error += 700;
  return load;
}

/** The outage's fault: hit at 500 ms, healed at 1,200 ms. */
const OUTAGE_FAULT = faultRecord({ plannedMs: 500, hitMs: 500, inEffectMs: 530, healStartMs: 1000, healedMs: 1200 });

/** Judged as `flashsale run` would, with a real audit of what the target says (by default: the
 * acknowledged orders, all in the ledger, the inventory in agreement). */
function judged(load: LoadResult, faults: FaultRecord[], opts: { stock?: number; ledgerDrops?: number } = {}) {
  const sold = load.orders.reduce((n, o) => n + o.qty, 0);
  const stock = opts.stock ?? 400;
  const ledgerOrders = load.orders.slice(opts.ledgerDrops ?? 0);
  const inventory = [{ sku: 'redmi-1s', initial: stock, available: Math.max(0, stock - sold), reserved: 0, sold }];
  return judge({
    load,
    initialUnits: stock,
    audit: { inputs: { inventory, ledgerOrders, unavailable: {} }, perUserLimit: 1, initialStock: new Map([['redmi-1s', stock]]) },
    thresholds: {},
    faults,
  });
}

describe('the verdict with faults', () => {
  it('does not fail the run for errors during a fault: the default error rate counts answers outside it', () => {
    const load = saleWithOutage();
    const without = judged(load, []);
    expect(without.verdict.status).toBe('thresholds_crossed'); // the same errors with no fault to explain them
    expect(without.thresholds.find((t) => t.metric === 'http_req_failed')!.pass).toBe(false);
    const withFault = judged(load, [OUTAGE_FAULT]);
    const failed = withFault.thresholds.find((t) => t.metric === 'http_req_failed')!;
    expect(failed).toMatchObject({ pass: true, status: 'passed', actual: 0 });
    expect(failed.note).toMatch(/counted outside the faults' windows \([\d,]+ answers during them not counted\)/);
    expect(withFault.audit!.passed).toBe(true);
    expect(withFault.verdict).toMatchObject({ status: 'passed', exitCode: 0 });
  });

  it('fails the run for lost orders during a fault (audit_failed, exit 3)', () => {
    const v = judged(saleWithOutage(), [OUTAGE_FAULT], { ledgerDrops: 2 });
    expect(v.audit!.lostOrders).toBe(2);
    expect(v.verdict).toMatchObject({ status: 'audit_failed', exitCode: 3, passed: false });
    expect(v.verdict.reasons.join('\n')).toMatch(/audit: Every acknowledged order is in the ledger/);
  });

  it('fails the run for an oversell during a fault (audit_failed, exit 3)', () => {
    const load = saleWithOutage();
    const sold = load.orders.reduce((n, o) => n + o.qty, 0);
    const v = judged(load, [OUTAGE_FAULT], { stock: sold - 5 });
    expect(v.audit!.oversold).toBe(5);
    expect(v.verdict).toMatchObject({ status: 'audit_failed', exitCode: 3, passed: false });
    expect(v.verdict.reasons.join('\n')).toMatch(/audit: Units sold ≤ stock: 5 units oversold/);
  });

  it('reports a fault that never hit: inconclusive (exit 4), and it excuses no error', () => {
    const unreached = unreachedRecord({ plannedMs: 9000 });
    const clean = buildLoadResult(fakeEvents({ seed: 3, buyers: 600, stock: 400, journey: 'checkout', errorRate: 0 }));
    const v = judged(clean, [unreached]);
    expect(v.verdict).toMatchObject({ status: 'inconclusive', exitCode: 4, passed: false });
    expect(v.verdict.reasons).toContain('fault: faults[0] (kill -9 the service at 1s, restart it after 1s) never hit: the run ended before 9,000 ms; the run did not test what was asked');
    expect(judged(saleWithOutage(), [unreached]).verdict.status).toBe('thresholds_crossed');
  });
});
