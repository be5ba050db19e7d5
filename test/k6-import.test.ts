// `flashsale import k6`: k6's raw JSON output read exactly into a result (every point in the
// histograms: the same p50/p99/max as computed from the raw values), plain or gzip, several files
// adding up to one; dropped_iterations make the run inconclusive; bad input is named file:line, exit 2.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { cliInProcess as cli } from './helpers/cli.ts';
import { fakeK6Lines, type FakeK6Options } from './helpers/k6-output.ts';
import { K6_LATENCY_NOTE, readK6Output } from '../src/measure/k6-output.ts';
import { createLatencyHistogram, decodeHistogram, encodeHistogram, percentilesMs } from '../src/common/histogram.ts';
import type { RunResult } from '../src/contract/result.ts';
import { formatSummary } from '../src/report/summary.ts';
import { buildReportHtml } from '../src/report/html/report-page.ts';

const dir = mkdtempSync(join(tmpdir(), 'flashsale-k6-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, o: FakeK6Options, gzip = false): { path: string; values: number[] } {
  const values: number[] = [];
  const text = [...fakeK6Lines(o, (p) => p.status !== 0 && values.push(p.ms))].join('\n') + '\n';
  const path = join(dir, name);
  writeFileSync(path, gzip ? gzipSync(text) : text);
  return { path, values };
}

const SCENARIO = join(dir, 'k6-sale.json');
writeFileSync(
  SCENARIO,
  JSON.stringify({
    name: 'k6-sale',
    description: 'a sale k6 ran',
    sale: { skus: [{ id: 'phone', stock: 200 }], perUserLimit: 1 },
    buyers: { population: 100_000, arrival: { executor: 'constant-arrival-rate', rate: 1000, timeUnit: '1s', duration: '2s' }, journey: 'checkout' },
    thresholds: { http_req_duration: ['p(99)<1000'] },
  }),
);

describe('reading k6 output', () => {
  it("holds every point: p50/p99/max equal those of k6's raw values", async () => {
    const { path, values } = write('one.json', { requests: 5000, stock: 200, seed: 5 });
    const r = await readK6Output([path]);
    const direct = createLatencyHistogram();
    for (const v of values) direct.recordValue(Math.round(v * 1000));
    const mine = percentilesMs(r.load.latency.checkout!.all.uncorrected);
    // Through the same encoding (a decoded histogram reports the top of its highest bucket as max).
    const raw = percentilesMs(encodeHistogram(direct));
    expect(mine).toEqual(raw);
    expect(mine.count).toBe(values.length);
    // The raw values themselves, within the histogram's 3 significant digits (k6's summary rounds further).
    const sorted = [...values].sort((a, b) => a - b);
    expect(Math.abs(mine.max - sorted.at(-1)!) / sorted.at(-1)!).toBeLessThan(0.002);
    expect(Math.abs(mine.p50 - sorted[Math.ceil(0.5 * sorted.length) - 1]) / sorted[Math.ceil(0.5 * sorted.length) - 1]).toBeLessThan(0.002);
    expect(r.load.counts.requestsSent).toBe(5000);
    expect(r.load.counts.requestsAnswered).toBe(values.length);
    expect(r.load.counts.byOutcome.success).toBe(200);
    expect(r.load.orders).toHaveLength(200);
    expect(r.load.counts.buyers.started).toBe(5000);
    // The interval series count every request once, though points arrived out of order.
    expect(r.load.intervals.completed.reduce((a, b) => a + b, 0)).toBe(5000);
    expect(r.load.intervals.sent.reduce((a, b) => a + b, 0)).toBe(5000);
    expect(percentilesMs(r.load.intervals.latency.filter(Boolean).reduce((h, e) => (h.add(decodeHistogram(e)), h), createLatencyHistogram())).count).toBe(values.length);
  });

  it('reads gzip as plain, and several runner files as one', async () => {
    const whole = await readK6Output([write('w.json', { requests: 3000, stock: 100, seed: 9 }).path]);
    const gz = await readK6Output([write('w.json.gz', { requests: 3000, stock: 100, seed: 9 }, true).path]);
    expect(gz.load).toEqual(whole.load);
    const a = write('a.json', { requests: 2000, stock: 100, seed: 3 });
    const b = write('b.json.gz', { requests: 1000, stock: 0, seed: 4, startEpochMs: Date.UTC(2026, 0, 1, 12) + 500 }, true);
    const both = await readK6Output([a.path, b.path]);
    expect(both.load.counts.requestsSent).toBe(3000);
    expect(percentilesMs(both.load.latency.checkout!.all.uncorrected).count).toBe(a.values.length + b.values.length);
  });

  it('names a malformed line by file and line', async () => {
    const { path } = write('bad.json', { requests: 50, stock: 5 });
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.splice(9, 0, '{"type":"Point","data":');
    writeFileSync(path, lines.join('\n'));
    await expect(readK6Output([path])).rejects.toThrow(`${path}:10: not JSON`);
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '');
    await expect(readK6Output([empty])).rejects.toThrow(/is empty/);
    const foreign = join(dir, 'foreign.json');
    writeFileSync(foreign, `${JSON.stringify({ type: 'Point', metric: 'flashsale_req_duration', data: { time: '2026-01-01T00:00:00Z', value: 1, tags: { step: 'browse', outcome: 'success' } } })}\n`);
    await expect(readK6Output([foreign])).rejects.toThrow(`${foreign}:1: flashsale_req_duration without a known step`);
  });
});

describe('flashsale import k6', () => {
  it('builds a judged result that says its latency is uncorrected only', async () => {
    const { path } = write('cli.json.gz', { requests: 2000, stock: 200, seed: 12 }, true);
    const out = join(dir, 'out-ok');
    const r = await cli('import', 'k6', path, '--scenario', SCENARIO, '--out', out, '--json', '--quiet');
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as RunResult;
    expect(result.engine).toBe('k6');
    expect(result.warnings).toContain(`${K6_LATENCY_NOTE}.`);
    expect(result.thresholds.find((t) => t.metric === 'http_req_duration')?.status).toBe('passed');
    expect(result.stock.acknowledged).toBe(200);
    expect(r.err).not.toMatch(/unexpected/);

    // The reports show k6's one latency under its own name, not a "corrected" row holding it.
    const text = formatSummary(result);
    expect(text).toMatch(/checkout\s+uncorrected\s+[\d.]+\s/);
    expect(text).not.toMatch(/checkout\s+corrected/);
    expect(text).toContain('measured by k6, from when each request went out');
    const html = buildReportHtml(result);
    expect(html).toContain('<td>sent (k6)</td>');
    expect(html).not.toContain('<td>corrected</td>');
    expect(html).toContain('there is no corrected latency for this run');
    expect(html).toContain('checkout uncorrected (k6)');
    expect(html).not.toContain('checkout corrected');
    expect(html).toContain('Uncorrected latency (measured by k6');
  });

  it('is inconclusive when k6 dropped iterations', async () => {
    const { path } = write('dropped.json', { requests: 2000, stock: 200, seed: 13, dropped: 40 });
    const out = join(dir, 'out-dropped');
    const r = await cli('import', 'k6', path, '--scenario', SCENARIO, '--out', out, '--json', '--quiet');
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as RunResult;
    expect(result.counts.buyers.dropped).toBe(40);
    expect(result.verdict.status).toBe('inconclusive');
    expect(result.generator.reason).toMatch(/k6 dropped 40 iterations/);
    expect(r.code).toBe(4);
  });

  it('refuses bad input with exit 2, naming file:line', async () => {
    const bad = join(dir, 'garbage.json');
    writeFileSync(bad, 'hello\n');
    const r = await cli('import', 'k6', bad, '--scenario', SCENARIO, '--out', join(dir, 'out-bad'));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}:1: not JSON`);
    expect((await cli('import', 'k6', join(dir, 'missing.json'), '--scenario', SCENARIO)).code).toBe(2);
  });
});
