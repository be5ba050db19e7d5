// writeRunOutputs, the terminal summary and the --json object, on a realistic fake run.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentilesMs } from '../src/common/histogram.ts';
import { formatSummary, jsonSummary, readResult, writeRunOutputs } from '../src/report/index.ts';
import { resultIssues } from '../src/contract/result.ts';
import type { RunResult } from '../src/contract/result.ts';
import { fakeRunResult } from './helpers/fake-result.ts';

// eslint-disable-next-line no-control-regex -- looking for ANSI escapes
const ANSI = /\x1b\[[0-9;]*m/;

describe('writeRunOutputs', () => {
  let dir: string;
  let result: RunResult;
  let paths: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flashsale-report-'));
    result = fakeRunResult({ seed: 3 });
    paths = await writeRunOutputs(result, join(dir, 'nested', 'run'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes result.json, report.html, corrected and uncorrected .hgrm per step and latency.hlog, and returns their paths', async () => {
    expect(paths.map((p) => basename(p)).sort()).toEqual(
      ['latency.hlog', 'pay.corrected.hgrm', 'pay.uncorrected.hgrm', 'report.html', 'reserve.corrected.hgrm', 'reserve.uncorrected.hgrm', 'result.json'].sort(),
    );
    expect((await readdir(join(dir, 'nested', 'run'))).sort()).toEqual(paths.map((p) => basename(p)).sort());
  });

  it('writes a result.json that validates against schemas/result.schema.json and reads back unchanged', async () => {
    const doc = JSON.parse(await readFile(join(dir, 'nested', 'run', 'result.json'), 'utf8'));
    expect(resultIssues(doc)).toEqual([]);
    expect(await readResult(join(dir, 'nested', 'run', 'result.json'))).toEqual(result);
  });

  it('writes an HTML page with nothing to fetch from anywhere', async () => {
    const html = await readFile(join(dir, 'nested', 'run', 'report.html'), 'utf8');
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(\s*['"]?https?:/i);
    expect(html).toContain('Content-Security-Policy');
  });
});

describe('formatSummary', () => {
  const result = fakeRunResult({ seed: 4 });

  it('shows sale, latency with corrected beside uncorrected, load, generator, audit, thresholds and verdict', () => {
    const text = formatSummary(result);
    expect(text).not.toMatch(ANSI);
    expect(text).toMatch(/sell-out time\.+: \d+\.\d+ s/);
    expect(text).toMatch(new RegExp(`stock\\.+: ${result.stock.initial.toLocaleString('en-US')}\n`));
    expect(text).toMatch(new RegExp(`sold, by the inventory\\.+: ${result.stock.sold.toLocaleString('en-US')}\n`));
    expect(text).toMatch(new RegExp(`acknowledged to buyers\\.+: ${result.stock.acknowledged.toLocaleString('en-US')}\n`));
    expect(text).toMatch(/p50\s+p90\s+p99\s+p99\.9\s+max/);
    for (const step of ['reserve', 'pay'] as const) {
      const c = percentilesMs(result.latency[step]!.all.corrected);
      const line = text.split('\n').find((l) => l.trimStart().startsWith(step))!;
      expect(line).toContain('corrected');
      expect(line).toContain(c.count.toLocaleString('en-US'));
      const idx = text.split('\n').indexOf(line);
      expect(text.split('\n')[idx + 1]).toContain('uncorrected');
    }
    expect(text).toMatch(new RegExp(`errors\\.+: ${result.counts.byOutcome.error}\n`));
    expect(text).toMatch(/failures by kind\.+: .*http_503: \d+/);
    expect(text).toMatch(/requests sent\.+: [\d,]+ +[\d,.]+\/s/);
    expect(text).toMatch(/generator\.+: ✓ kept its schedule/);
    expect(text).toMatch(/✓ http_req_duration\{step:reserve\}  p\(99\)<250/);
    // The defaults are shown, marked as such.
    expect(text).toMatch(/✓ orders  count>0  actual [\d,]+  \(default\)/);
    expect(text.trimEnd().split('\n').at(-1)).toBe('  ✓ PASSED');
  });

  it('says when the generator set the pace and when the audit failed; colours only when asked', () => {
    const bad = fakeRunResult({ seed: 4, generatorBound: true, auditFails: true });
    const text = formatSummary(bad, { color: true });
    expect(text).toMatch(ANSI);
    const plain = formatSummary(bad);
    expect(plain).toMatch(/\? generator-bound: load worker event loop stalled/);
    expect(plain).toMatch(/✗ Every acknowledged order is in the ledger.*\[2: o-/);
    // The audit outranks the generator: the last line says so.
    expect(plain.trimEnd().split('\n').at(-1)).toMatch(/^  ✗ AUDIT FAILED \(exit 3\): audit: Every acknowledged order is in the ledger/);
    const unsure = formatSummary(fakeRunResult({ seed: 4, generatorBound: true }));
    expect(unsure.trimEnd().split('\n').at(-1)).toMatch(/^  \? INCONCLUSIVE \(exit 4\): generator: load worker event loop stalled/);
  });

  it('says "not sold out" and how many units were left when stock remained', () => {
    const r = fakeRunResult({ seed: 5, buyers: 500, stock: 2000 });
    expect(r.stock.sellOutMs).toBeNull();
    expect(formatSummary(r)).toMatch(/sell-out time\.+: not sold out \([\d,]+ units available, by the inventory\)/);
  });
});

describe('jsonSummary (flashsale run --json)', () => {
  it('has every field issue 5 asks for, latency in ms from the histograms', () => {
    const result = fakeRunResult({ seed: 6 });
    const j = jsonSummary(result);
    expect(j).toMatchObject({
      scenario: 'fake-sale',
      stock: result.stock.initial,
      sold: result.stock.sold,
      oversold: 0,
      lostOrders: 0,
      sellOutMs: result.stock.sellOutMs,
      requestsSent: result.counts.requestsSent,
      generatorBound: false,
      audit: { passed: true },
    });
    expect(j.thresholds.map((t) => t.pass)).toEqual(result.thresholds.map((t) => t.pass));
    for (const step of ['reserve', 'pay'] as const) {
      for (const kind of ['corrected', 'uncorrected'] as const) {
        const p = percentilesMs(result.latency[step]!.all[kind]);
        expect(j.latency[step]![kind]).toEqual({ p50: p.p50, p90: p.p90, p99: p.p99, p999: p.p999, max: p.max, count: p.count });
      }
    }
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });

  it('gives sellOutMs null when stock remained and lostOrders null without an audit', () => {
    const result = fakeRunResult({ seed: 6, buyers: 300, stock: 5000 });
    result.audit = null;
    const j = jsonSummary(result);
    expect(j.sellOutMs).toBeNull();
    expect(j.lostOrders).toBeNull();
    expect(j.audit.passed).toBeNull();
  });
});

describe('number formatting shared by summary, compare and HTML', () => {
  it('keeps about three significant digits of ms and reads durations like a person would', async () => {
    const f = await import('../src/common/format.ts');
    expect([0.4123, 4.123, 41.23, 412.3, 4123].map(f.ms)).toEqual(['0.412', '4.12', '41.2', '412', '4,123']);
    expect([850, 1250, 11_900, 125_000].map(f.duration)).toEqual(['850 ms', '1.25 s', '11.9 s', '2 min 5 s']);
    expect(f.signed(-40, f.count)).toBe('−40');
    expect(f.signed(0.1234, f.percent)).toBe('+12.3%');
    expect(f.rate(7560.4)).toBe('7,560');
  });
});
