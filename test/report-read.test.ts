// readResult refuses what it could misread, naming the file and the field; `flashsale report`
// rebuilds the page and exits 2 on bad input.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliInProcess as cli } from './helpers/cli.ts';
import { readResult } from '../src/report/index.ts';
import { parseResult } from '../src/report/read.ts';
import { resultJsonText } from '../src/report/outputs/result-json.ts';
import { resultIssues, resultJsonSchemaText } from '../src/contract/result.ts';
import { fakeRunResult } from './helpers/fake-result.ts';
import { ResultFileError } from '../src/errors.ts';

let dir: string;
const result = fakeRunResult({ seed: 11, buyers: 600, stock: 200 });

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function rejection(path: string): Promise<ResultFileError> {
  const err = await readResult(path).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ResultFileError);
  expect((err as ResultFileError).exitCode).toBe(2);
  expect((err as ResultFileError).message.startsWith(path)).toBe(true);
  return err as ResultFileError;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flashsale-read-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('readResult', () => {
  it('names a missing file', async () => {
    expect((await rejection(join(dir, 'nope.json'))).message).toMatch(/nope\.json: no such file/);
  });

  it('names a file that is not JSON', async () => {
    expect((await rejection(await write('text.json', 'hello'))).message).toMatch(/text\.json: is not valid JSON/);
  });

  it('names another schema version', async () => {
    const path = await write('v5.json', JSON.stringify({ ...result, schemaVersion: 5 }));
    expect((await rejection(path)).message).toMatch(/v5\.json: schemaVersion is 5; this flashsale reads schema versions 1 to 4/);
    const none = await write('none.json', JSON.stringify({ hello: 1 }));
    expect((await rejection(none)).message).toMatch(/schemaVersion is missing/);
  });

  it('reads a version-3 result as it is: version 4 only added optional fields and the target_down stop reason', async () => {
    const doc = JSON.parse(resultJsonText(result));
    doc.schemaVersion = 3;
    const read = await readResult(await write('v3.json', JSON.stringify(doc)));
    expect(read.schemaVersion).toBe(4);
    expect(read.stopReason).toBe(result.stopReason);
    expect(read.counts).toEqual(result.counts);
  });

  it('reads a version-1 result, upgrading it: verdict status, requests cut by the stop, stock views', async () => {
    const doc = JSON.parse(resultJsonText(result));
    // As flashsale wrote it before schema version 2.
    doc.schemaVersion = 1;
    delete doc.verdict.status;
    doc.verdict = { passed: false, exitCode: 99, reasons: ['threshold: x'] };
    delete doc.counts.cutByStop;
    delete doc.counts.byStep;
    doc.counts.errorsByKind.cut_by_stop = 4;
    doc.counts.byOutcome.error += 4;
    delete doc.target.from;
    for (const k of ['soldFrom', 'acknowledged', 'ledger']) delete doc.stock[k];
    for (const t of doc.thresholds) for (const k of ['source', 'status', 'note']) delete t[k];
    delete doc.generator.lateShare;
    delete doc.generator.limits;
    delete doc.machine;
    const read = await readResult(await write('v1.json', JSON.stringify(doc)));
    expect(read.schemaVersion).toBe(4);
    expect(read.verdict).toMatchObject({ status: 'thresholds_crossed', exitCode: 99 });
    expect(read.counts.cutByStop).toBe(4);
    expect(read.counts.errorsByKind.cut_by_stop).toBeUndefined();
    expect(read.counts.byOutcome.error).toBe(result.counts.byOutcome.error);
    expect(read.counts.byStep.reserve!.success).toBeGreaterThan(0);
    expect(read.target.from).toBe('built-in');
    expect(read.stock).toMatchObject({ soldFrom: 'inventory', acknowledged: result.stock.acknowledged, ledger: null });
    expect(read.thresholds.every((t) => t.source === 'scenario' && (t.status === 'passed') === t.pass)).toBe(true);
    // And it renders and compares like a new one.
    const r = await cli('report', join(dir, 'v1.json'), '--summary', '--out', join(dir, 'v1.html'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/✗ FAILED \(exit 99\): threshold: x/);
  });

  it('names the field of the wrong shape', async () => {
    const doc = JSON.parse(resultJsonText(result));
    doc.counts.byOutcome.sold_out = 'many';
    delete doc.stock.sellOutMs;
    doc.latency.reserve.byOutcome.teapot = { corrected: '', uncorrected: '' };
    const message = (await rejection(await write('shape.json', JSON.stringify(doc)))).message;
    expect(message).toMatch(/counts\.byOutcome\.sold_out: must be integer, found string/);
    expect(message).toMatch(/stock\.sellOutMs: is missing/);
    expect(message).toMatch(/latency\.reserve\.byOutcome\.teapot: is not a known field/);
  });

  it('names interval series of different lengths', async () => {
    const doc = JSON.parse(resultJsonText(result));
    doc.intervals.errors.pop();
    expect((await rejection(await write('series.json', JSON.stringify(doc)))).message).toMatch(/intervals\.errors has \d+ buckets, intervals\.sent has \d+/);
  });
});

describe('the result schema (src/contract/result.ts)', () => {
  it('is the one source of schemas/result.schema.json (regenerate: node src/contract/write-result-schema.ts)', () => {
    expect(readFileSync(new URL('../schemas/result.schema.json', import.meta.url), 'utf8')).toBe(resultJsonSchemaText());
  });

  it('names each wrong field with what was expected and what was found', () => {
    const doc = JSON.parse(resultJsonText(result));
    doc.schemaVersion = 5;
    doc.stopReason = 'bored';
    doc.durationMs = -1;
    doc.orders[0].qty = 'two';
    doc.audit = 'fine';
    doc.generator.reason = 7;
    doc.counts.byStep.teapot = { success: 0, sold_out: 0, rejected: 0, error: 0 };
    expect(resultIssues(doc)).toEqual([
      'durationMs: must be ≥ 0, found -1',
      'stopReason: must be one of "completed", "sold_out", "max_duration", "max_requests", "interrupted", "target_down", found "bored"',
      'counts.byStep.teapot: is not a known field',
      'generator.reason: must be string or null, found number',
      'orders[0].qty: must be integer, found string',
      'schemaVersion: must be one of 4, found 5',
      'audit: must be object or null, found string',
    ]);
    expect(resultIssues(null)).toEqual(['(root): must be object, found null']);
    expect(resultIssues(JSON.parse(resultJsonText(result)))).toEqual([]);
  });

  it('keeps fields it does not know (a later flashsale may add some) and returns the document as read', () => {
    const doc = { ...JSON.parse(resultJsonText(result)), comment: 'from the future' };
    expect(resultIssues(doc)).toEqual([]);
    expect(parseResult(doc, 'r.json')).toBe(doc);
  });
});

describe('flashsale report', () => {
  it('rebuilds report.html beside the result by default, or where --out says', async () => {
    const path = await write('result.json', resultJsonText(result));
    const r = await cli('report', path);
    expect(r.code).toBe(0);
    expect(r.out).toContain(join(dir, 'report.html'));
    expect((await readFile(join(dir, 'report.html'), 'utf8')).startsWith('<!doctype html>')).toBe(true);
    const custom = join(dir, 'out', 'page.html');
    const r2 = await cli('report', path, '--out', custom, '--summary', '--no-color');
    expect(r2.code).toBe(0);
    expect(r2.out).toMatch(/sell-out time/);
    expect((await stat(custom)).size).toBeGreaterThan(50_000);
  });

  it('exits 2 naming the file when it cannot read it', async () => {
    const r = await cli('report', join(dir, 'missing.json'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/missing\.json: no such file/);
  });
});
