// `flashsale merge`: a sale driven from two machines merges into exactly the run one machine would
// have recorded, histogram for histogram, count for count.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsHistogram } from 'hdr-histogram-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliInProcess as cli } from './helpers/cli.ts';
import { decodeHistogram, percentilesMs } from '../src/common/histogram.ts';
import { formatSummary, readResult } from '../src/report/index.ts';
import { mergeRunResults } from '../src/run/merge-runs.ts';
import { resultJsonText } from '../src/report/outputs/result-json.ts';
import { resultIssues } from '../src/contract/result.ts';
import type { EncodedLatency, LoadResult, RunResult } from '../src/contract/result.ts';
import { buildLoadResult, fakeEvents, toRunResult, type FakeOptions } from './helpers/fake-result.ts';

/** Every recorded value and its count: two histograms are the same if these are. */
function countsByValue(encoded: string): Array<[number, number]> {
  const it = (decodeHistogram(encoded) as unknown as JsHistogram).recordedValuesIterator;
  it.reset();
  const out: Array<[number, number]> = [];
  while (it.hasNext()) {
    const v = it.next();
    out.push([v.valueIteratedTo, v.countAtValueIteratedTo]);
  }
  return out;
}

function expectSameLatency(a: EncodedLatency | undefined, b: EncodedLatency | undefined, what: string): void {
  expect(a === undefined, what).toBe(b === undefined);
  if (!a || !b) return;
  expect(countsByValue(a.corrected), `${what} corrected`).toEqual(countsByValue(b.corrected));
  expect(countsByValue(a.uncorrected), `${what} uncorrected`).toEqual(countsByValue(b.uncorrected));
}

function expectSameLoad(merged: LoadResult, whole: LoadResult): void {
  expect(merged.t0EpochMs).toBe(whole.t0EpochMs);
  expect(merged.durationMs).toBeCloseTo(whole.durationMs, 6);
  expect(merged.firstSendMs).toBeCloseTo(whole.firstSendMs!, 6);
  expect(merged.lastAckMs).toBeCloseTo(whole.lastAckMs!, 6);
  expect(merged.counts).toEqual(whole.counts);
  expect(Object.keys(merged.latency).sort()).toEqual(Object.keys(whole.latency).sort());
  for (const step of ['reserve', 'pay'] as const) {
    expectSameLatency(merged.latency[step]!.all, whole.latency[step]!.all, `${step} all`);
    for (const outcome of ['success', 'sold_out', 'rejected', 'error'] as const) {
      expectSameLatency(merged.latency[step]!.byOutcome[outcome], whole.latency[step]!.byOutcome[outcome], `${step} ${outcome}`);
    }
  }
  const { latency: ml, ...mSeries } = merged.intervals;
  const { latency: wl, ...wSeries } = whole.intervals;
  expect(mSeries).toEqual(wSeries);
  expect(ml.length).toBe(wl.length);
  ml.forEach((e, i) => expect(countsByValue(e), `interval ${i}`).toEqual(countsByValue(wl[i])));
  expect(countsByValue(merged.generator.lateness)).toEqual(countsByValue(whole.generator.lateness));
  const byId = (o: { orderId: string }, p: { orderId: string }) => o.orderId.localeCompare(p.orderId);
  expect([...merged.orders].sort(byId)).toEqual([...whole.orders].sort(byId));
}

const OPTS: FakeOptions = { seed: 31, buyers: 2500, stock: 800 };
const THRESHOLDS = { 'http_req_duration{step:reserve}': ['p(99)<250'], 'http_req_duration{step:pay}': ['p(99.9)<1'] };

/** As `flashsale run` would have written it on one machine of a shared external target. */
function asRun(load: LoadResult, whole: LoadResult): RunResult {
  const r = toRunResult(load, OPTS);
  r.target = { url: 'https://shop.example/', builtIn: false, serviceThreads: null, from: 'flag' };
  r.scenario.definition = { ...(r.scenario.definition as object), thresholds: THRESHOLDS };
  // The server's inventory is the whole sale's, whichever machine asked.
  const sold = whole.counts.unitsAcknowledged;
  r.stock = { ...r.stock, sold, inventory: [{ sku: 'redmi-1s', initial: OPTS.stock!, available: OPTS.stock! - sold, reserved: 0, sold }] };
  return r;
}

describe('mergeRunResults', () => {
  const events = fakeEvents(OPTS);
  // Machine B's clock started 300 ms (three intervals) before machine A's.
  const whole = buildLoadResult(events, { index: 0, of: 1, t0ShiftMs: 300 });
  const partA = buildLoadResult(events, { index: 0, of: 2 });
  const partB = buildLoadResult(events, { index: 1, of: 2, t0ShiftMs: 300 });

  it('the two halves are real halves', () => {
    expect(partA.counts.requestsSent).toBeGreaterThan(1000);
    expect(partB.counts.requestsSent).toBeGreaterThan(1000);
    expect(partA.t0EpochMs - partB.t0EpochMs).toBe(300);
    // And the comparison used below can tell histograms apart.
    const wholeCounts = countsByValue(whole.latency.reserve!.all.corrected);
    expect(wholeCounts.length).toBeGreaterThan(100);
    expect(wholeCounts.reduce((n, [, c]) => n + c, 0)).toBe(decodeHistogram(whole.latency.reserve!.all.corrected).totalCount);
    expect(countsByValue(partA.latency.reserve!.all.corrected)).not.toEqual(wholeCounts);
  });

  it('merges two halves into the whole, histogram for histogram, aligned on t0', () => {
    const merged = mergeRunResults([{ file: 'a.json', result: asRun(partA, whole) }, { file: 'b.json', result: asRun(partB, whole) }]);
    expectSameLoad(merged, whole);
    expect(merged.mergedFrom).toEqual(['a.json', 'b.json']);
    expect(resultIssues(JSON.parse(resultJsonText(merged)))).toEqual([]);
  });

  it('recomputes stock, sell-out time and thresholds on the merged data', () => {
    const merged = mergeRunResults([{ file: 'a.json', result: asRun(partA, whole) }, { file: 'b.json', result: asRun(partB, whole) }]);
    const expected = asRun(whole, whole);
    expect(merged.stock.initial).toBe(OPTS.stock);
    expect(merged.stock.sold).toBe(whole.counts.unitsAcknowledged);
    expect(merged.stock.sellOutMs).toBeCloseTo(whole.lastAckMs! - whole.firstSendMs!, 6);
    expect(merged.stock.sellOutMs).toBeCloseTo(expected.stock.sellOutMs!, 6);
    const reserveP99 = percentilesMs(whole.latency.reserve!.all.corrected).p99;
    expect(merged.thresholds.find((t) => t.metric === 'http_req_duration{step:reserve}')).toMatchObject({ actual: reserveP99, pass: reserveP99 < 250 });
    const pay = merged.thresholds.find((t) => t.metric === 'http_req_duration{step:pay}')!;
    expect(pay.pass).toBe(false);
    expect(merged.verdict).toMatchObject({ passed: false, exitCode: 99 });
    expect(merged.audit!.passed).toBe(true);
  });

  it('catches an order id acknowledged on both machines for two different purchases', () => {
    const a = asRun(partA, whole);
    const b = asRun(partB, whole);
    b.orders.push({ ...a.orders[0], userId: 'someone-else' });
    const merged = mergeRunResults([{ file: 'a.json', result: a }, { file: 'b.json', result: b }]);
    const check = merged.audit!.checks.find((c) => c.id === 'unique_order_ids')!;
    expect(check.passed).toBe(false);
    expect(check.offending).toEqual([a.orders[0].orderId]);
    expect(merged.verdict.exitCode).toBe(3);
  });

  // Each machine alone stays within the stock and the server's counters say all is well: only the
  // merged acknowledged orders show that more units were sold than exist.
  it('catches an oversell that only the machines together show', () => {
    const a = asRun(partA, whole);
    const b = asRun(partB, whole);
    const extra = OPTS.stock! - whole.counts.unitsAcknowledged + 5;
    for (let i = 0; i < extra; i++) b.orders.push({ orderId: `extra-${i}`, userId: `late-${i}`, sku: 'redmi-1s', qty: 1 });
    expect(a.audit!.passed && b.audit!.passed).toBe(true);
    const merged = mergeRunResults([{ file: 'a.json', result: a }, { file: 'b.json', result: b }]);
    const check = merged.audit!.checks.find((c) => c.id === 'sold_within_stock')!;
    expect(check.passed).toBe(false);
    expect(check.offending).toEqual(['redmi-1s']);
    expect(merged.audit!.oversold).toBe(5);
    expect(merged.stock.oversold).toBe(5);
    expect(merged.verdict.exitCode).toBe(3);
  });

  it('warns, and says so in the merged result, when the runs do not overlap in time', () => {
    const a = asRun(partA, whole);
    const b = asRun(partB, whole);
    const together = mergeRunResults([{ file: 'a.json', result: a }, { file: 'b.json', result: b }]);
    expect(together.warnings).toBeUndefined();
    // B made five minutes after A ended: merged naively, the "sale" lasts over five minutes.
    const later = { ...b, t0EpochMs: a.t0EpochMs + a.durationMs + 300_000 };
    const apart = mergeRunResults([{ file: 'a.json', result: a }, { file: 'b.json', result: later }]);
    expect(apart.warnings).toEqual([
      expect.stringMatching(/^a\.json does not overlap any other run in time \(5 min 0 s apart\): the merged run time, rates and sell-out time span the gap/),
      expect.stringMatching(/^b\.json does not overlap any other run in time/),
    ]);
    expect(formatSummary(apart)).toMatch(/! a\.json does not overlap any other run in time/);
  });

  it('a merge with any k6 part is k6 (uncorrected latency only), and says so when mixed with native runs', () => {
    const a = asRun(partA, whole);
    const b = { ...asRun(partB, whole), engine: 'k6' as const };
    for (const order of [[a, b], [b, a]]) {
      const merged = mergeRunResults(order.map((result) => ({ file: result === b ? 'k6.json' : 'native.json', result })));
      expect(merged.engine).toBe('k6');
      expect(merged.warnings).toEqual([expect.stringMatching(/^k6\.json measured by k6 and merged with runs of flashsale's own engine: the merged result has uncorrected latency only/)]);
      expect(formatSummary(merged)).not.toMatch(/reserve\s+corrected/);
    }
    const allK6 = mergeRunResults([{ file: 'a.json', result: { ...a, engine: 'k6' as const } }, { file: 'b.json', result: b }]);
    expect(allK6.engine).toBe('k6');
    expect(allK6.warnings).toBeUndefined();
  });

  it('adds up separate sales when each machine ran its own built-in service', () => {
    const a = toRunResult(partA, OPTS);
    const b = toRunResult(partB, OPTS);
    const merged = mergeRunResults([{ file: 'a.json', result: a }, { file: 'b.json', result: b }]);
    expect(merged.stock.initial).toBe(2 * OPTS.stock!);
    expect(merged.stock.inventory).toHaveLength(2);
  });
});

describe('flashsale merge', () => {
  let dir: string;
  const events = fakeEvents(OPTS);
  const whole = buildLoadResult(events);


  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flashsale-merge-'));
    await writeFile(join(dir, 'a.json'), resultJsonText(asRun(buildLoadResult(events, { index: 0, of: 2 }), whole)));
    await writeFile(join(dir, 'b.json'), resultJsonText(asRun(buildLoadResult(events, { index: 1, of: 2 }), whole)));
    const other = asRun(buildLoadResult(events, { index: 1, of: 2 }), whole);
    other.scenario.name = 'another-sale';
    await writeFile(join(dir, 'other.json'), resultJsonText(other));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes a merged result.json that reads back and equals the whole', async () => {
    const out = join(dir, 'merged', 'merged.json');
    const r = await cli('merge', join(dir, 'a.json'), join(dir, 'b.json'), '--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/merged 2 runs into .*merged\.json/);
    const merged = await readResult(out);
    expectSameLoad(merged, whole);
  });

  it('warns on stderr when the runs were made apart in time', async () => {
    const b = asRun(buildLoadResult(events, { index: 1, of: 2 }), whole);
    b.t0EpochMs += 600_000;
    await writeFile(join(dir, 'later.json'), resultJsonText(b));
    const out = join(dir, 'apart.json');
    const r = await cli('merge', join(dir, 'a.json'), join(dir, 'later.json'), '--out', out);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: .*a\.json does not overlap any other run in time \(\d+ min \d+ s apart\)/);
    expect((await readResult(out)).warnings).toHaveLength(2);
  });

  it('exits 2 naming the file for another scenario, a missing file, or a single file', async () => {
    const r = await cli('merge', join(dir, 'a.json'), join(dir, 'other.json'), '--out', join(dir, 'x.json'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/other\.json: is scenario "another-sale"/);
    const missing = await cli('merge', join(dir, 'a.json'), join(dir, 'gone.json'), '--out', join(dir, 'x.json'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/gone\.json: no such file/);
    const one = await cli('merge', join(dir, 'a.json'), '--out', join(dir, 'x.json'));
    expect(one.code).toBe(2);
    expect(one.err).toMatch(/at least two/);
  });
});
