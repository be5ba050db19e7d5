// `flashsale compare`: both runs side by side, the change right in sign and size, bad input exit 2.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliInProcess as cli } from './helpers/cli.ts';
import { percentilesMs } from '../src/common/histogram.ts';
import { change, compareRows, judgement, type NumberRow } from '../src/report/compare.ts';
import { formatCompare } from '../src/report/compare-text.ts';
import { buildCompareHtml } from '../src/report/html/compare-page.ts';
import { resultJsonText } from '../src/report/outputs/result-json.ts';
import { fakeRunResult } from './helpers/fake-result.ts';

// A: a calm sale; B: the same crowd against a slower service; C: B again, but its generator fell behind.
const a = fakeRunResult({ seed: 41 });
const b = fakeRunResult({ seed: 41, baseServiceUs: 3000 });
const c = fakeRunResult({ seed: 41, baseServiceUs: 3000, generatorBound: true });

function row(key: string): NumberRow {
  const r = compareRows(a, b).find((x) => x.key === key);
  if (!r || r.kind !== 'number') throw new Error(`no number row ${key}`);
  return r;
}

describe('compareRows', () => {
  it('puts both runs’ figures side by side with B − A and the change relative to A', () => {
    const p99 = row('latency.reserve.corrected.p99');
    expect(p99.a).toBe(percentilesMs(a.latency.reserve!.all.corrected).p99);
    expect(p99.b).toBe(percentilesMs(b.latency.reserve!.all.corrected).p99);
    const c = change(p99);
    expect(c.abs).toBeCloseTo(p99.b! - p99.a!, 9);
    expect(c.pct).toBeCloseTo((p99.b! - p99.a!) / p99.a!, 9);
    expect(judgement(p99)).toBe('worse');
    expect(row('sellOutMs')).toMatchObject({ a: a.stock.sellOutMs, b: b.stock.sellOutMs });
    expect(row('sold')).toMatchObject({ a: a.stock.sold, b: b.stock.sold });
    expect(judgement(row('sold'))).toBe('same');
    expect(row('rate.answered').a).toBeCloseTo(a.counts.requestsAnswered / (a.durationMs / 1000), 9);
  });

  it('covers every step’s percentiles, corrected and uncorrected, and the verdicts', () => {
    const keys = compareRows(a, b).map((r) => r.key);
    for (const step of ['reserve', 'pay']) {
      for (const kind of ['corrected', 'uncorrected']) {
        for (const p of ['p50', 'p90', 'p99', 'p999', 'max']) expect(keys).toContain(`latency.${step}.${kind}.${p}`);
      }
    }
    expect(keys).toEqual(expect.arrayContaining(['audit', 'thresholds', 'verdict', 'generator']));
  });

  it('sets no k6 result against another run on corrected latency (k6 has none), only on uncorrected, and names each run’s generator', () => {
    const k6 = { ...b, engine: 'k6' as const };
    const rows = compareRows(a, k6);
    const corrected = rows.find((x) => x.key === 'latency.reserve.corrected.p99') as NumberRow;
    expect(corrected.a).toBe(percentilesMs(a.latency.reserve!.all.corrected).p99);
    expect(corrected.b).toBeNull();
    expect(judgement(corrected)).toBeNull();
    const uncorrected = rows.find((x) => x.key === 'latency.reserve.uncorrected.p99') as NumberRow;
    expect(uncorrected.b).toBe(percentilesMs(b.latency.reserve!.all.uncorrected).p99);
    expect(rows.find((x) => x.key === 'engine')).toMatchObject({ a: 'flashsale', b: 'k6 (uncorrected latency only)' });
    // The page's spectra are then both uncorrected; p99 over time says it is not like for like.
    const html = buildCompareHtml(a, k6, ['a.json', 'k6.json']);
    expect(html).toContain('Latency by percentile, uncorrected');
    expect(html).toContain('A corrected, B uncorrected (k6), so not like for like');
    expect(buildCompareHtml(a, b, ['a.json', 'b.json'])).toContain('Latency by percentile, corrected');
  });

  it('has no change where a side has no data', () => {
    const unsold = fakeRunResult({ seed: 41, buyers: 300, stock: 5000 });
    const r = compareRows(a, unsold).find((x) => x.key === 'sellOutMs') as NumberRow;
    expect(r.b).toBeNull();
    expect(change(r)).toEqual({ abs: null, pct: null });
  });
});

describe('formatCompare', () => {
  it('prints A, B, the signed change and % per row, coloured only when asked', () => {
    const text = formatCompare(a, b, ['a.json', 'b.json']);
    expect(text).toContain('A: a.json');
    expect(text).toContain('B: b.json');
    // eslint-disable-next-line no-control-regex -- looking for ANSI escapes
    expect(text).not.toMatch(/\x1b\[/);
    const p99 = row('latency.reserve.corrected.p99');
    const line = text.split('\n').filter((l) => l.includes('reserve latency, corrected') || l.trim().startsWith('p99 ')).slice(0, 2)[1];
    expect(line).toMatch(/p99\s+[\d.]+ ms\s+[\d.]+ ms\s+\+[\d.]+ ms\s+\+[\d.]+%/);
    expect(line).toContain(`+${((p99.b! - p99.a!) / p99.a! * 100).toFixed(1)}%`);
    expect(text).toMatch(/verdict\s+✓ passed\s+✓ passed/);
    // eslint-disable-next-line no-control-regex -- looking for ANSI escapes
    expect(formatCompare(a, b, ['a', 'b'], { color: true })).toMatch(/\x1b\[31m/);
  });

  it('labels an inconclusive run as inconclusive, and marks no change better or worse against it', () => {
    const text = formatCompare(a, c, ['a.json', 'c.json'], { color: true });
    expect(text).toContain('B: c.json  [INCONCLUSIVE]');
    expect(text).toMatch(/B is inconclusive \(its load generator could not keep its schedule/);
    expect(text).toMatch(/changes are shown but not marked better or worse/);
    // No red and no green anywhere: its slower figures are not a regression of the target.
    // eslint-disable-next-line no-control-regex -- looking for ANSI escapes
    expect(text).not.toMatch(/\x1b\[3[12]m/);
    const plain = formatCompare(a, c, ['a.json', 'c.json']);
    expect(plain).toMatch(/kept schedule \(changed\)\n\s+A: yes\n\s+B: no: load worker event loop stalled/);
    expect(plain).toMatch(/verdict\s+✓ passed\s+\? inconclusive \(exit 4\)/);
    expect(judgement(row('latency.reserve.corrected.p99'), false)).toBeNull();
  });
});

describe('flashsale compare', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flashsale-compare-'));
    await writeFile(join(dir, 'a.json'), resultJsonText(a));
    await writeFile(join(dir, 'b.json'), resultJsonText(b));
    await writeFile(join(dir, 'c.json'), resultJsonText(c));
    await writeFile(join(dir, 'bad.json'), '{"schemaVersion": 1');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints the table, or JSON, and writes the comparison page', async () => {
    const html = join(dir, 'cmp', 'compare.html');
    const r = await cli('compare', join(dir, 'a.json'), join(dir, 'b.json'), '--html', html, '--no-color');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/sell-out time/);
    expect(await readFile(html, 'utf8')).toContain('data-chart="spectrum"');
    const j = await cli('compare', join(dir, 'a.json'), join(dir, 'b.json'), '--json');
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.out) as { rows: Array<{ key: string; a: number; b: number; abs: number }> };
    const sold = doc.rows.find((x) => x.key === 'sold')!;
    expect(sold).toMatchObject({ a: a.stock.sold, b: b.stock.sold, abs: b.stock.sold - a.stock.sold });
    const unsure = await cli('compare', join(dir, 'a.json'), join(dir, 'c.json'), '--json');
    expect(JSON.parse(unsure.out)).toMatchObject({ verdicts: { a: 'passed', b: 'inconclusive' }, judged: false });
  });

  it('exits 2 naming the file that is not JSON', async () => {
    const r = await cli('compare', join(dir, 'a.json'), join(dir, 'bad.json'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.json: is not valid JSON/);
  });
});
