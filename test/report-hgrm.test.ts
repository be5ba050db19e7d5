// The HdrHistogram files: .hgrm percentile distributions (ms) parse back to the same percentiles the
// summary shows, and latency.hlog reads back with HdrHistogram's own log reader, interval for interval.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistogramLogReader } from 'hdr-histogram-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHistogram, percentilesMs } from '../src/common/histogram.ts';
import { writeRunOutputs } from '../src/report/index.ts';
import { hlogText } from '../src/report/outputs/hlog.ts';
import { jsonSummary } from '../src/report/json-summary.ts';
import { fakeRunResult } from './helpers/fake-result.ts';

interface Row {
  value: number;
  percentile: number;
  totalCount: number;
}

function parseHgrm(text: string): { rows: Row[]; mean: number; max: number; total: number } {
  const rows: Row[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+\.\d+)\s+(\d\.\d+)\s+(\d+)(\s+[\d.]+)?\s*$/.exec(line);
    if (m) rows.push({ value: Number(m[1]), percentile: Number(m[2]), totalCount: Number(m[3]) });
  }
  const footer = /#\[Mean\s+=\s+([\d.]+),.*\]\n#\[Max\s+=\s+([\d.]+), Total count\s+=\s+(\d+)\]/.exec(text)!;
  return { rows, mean: Number(footer[1]), max: Number(footer[2]), total: Number(footer[3]) };
}

const result = fakeRunResult({ seed: 21 });
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flashsale-hgrm-'));
  await writeRunOutputs(result, dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('.hgrm percentile distribution files', () => {
  for (const step of ['reserve', 'pay'] as const) {
    for (const kind of ['corrected', 'uncorrected'] as const) {
      it(`${step}.${kind}.hgrm matches percentilesMs`, async () => {
        const encoded = result.latency[step]!.all[kind];
        const expected = percentilesMs(encoded);
        const h = decodeHistogram(encoded);
        const hgrm = parseHgrm(await readFile(join(dir, `${step}.${kind}.hgrm`), 'utf8'));
        expect(hgrm.rows.length).toBeGreaterThan(20);
        // Every row is the histogram's value at that percentile, in ms.
        for (const row of hgrm.rows) {
          expect(row.value).toBeCloseTo(h.getValueAtPercentile(row.percentile * 100) / 1000, 3);
        }
        const at = (p: number) => hgrm.rows.find((r) => Math.abs(r.percentile - p) < 1e-12)!.value;
        expect(at(0.5)).toBeCloseTo(expected.p50, 3);
        expect(at(0.9)).toBeCloseTo(expected.p90, 3);
        // p99 and p99.9 fall between the rows either side of them.
        for (const [p, v] of [[0.99, expected.p99], [0.999, expected.p999]]) {
          const below = hgrm.rows.filter((r) => r.percentile < p).at(-1)!;
          const above = hgrm.rows.find((r) => r.percentile >= p)!;
          expect(v).toBeGreaterThanOrEqual(below.value);
          expect(v).toBeLessThanOrEqual(above.value);
        }
        expect(hgrm.rows.at(-1)).toMatchObject({ percentile: 1, totalCount: expected.count });
        expect(hgrm.rows.at(-1)!.value).toBeCloseTo(expected.max, 3);
        expect(hgrm.max).toBeCloseTo(expected.max, 3);
        expect(hgrm.mean).toBeCloseTo(expected.mean, 3);
        expect(hgrm.total).toBe(expected.count);
      });
    }
  }
});

describe('latency.hlog interval log', () => {
  it("reads back with HdrHistogram's HistogramLogReader: one histogram per non-empty interval, same counts", async () => {
    const text = await readFile(join(dir, 'latency.hlog'), 'utf8');
    expect(text).toMatch(/^#\[Histogram log format version 1\.3\]$/m);
    expect(text).toMatch(/^#\[StartTime: [\d.]+ /m);
    const reader = new HistogramLogReader(text);
    const expected = result.intervals.latency.filter((e) => e !== '').map((e) => decodeHistogram(e));
    const seen = [];
    for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) seen.push(h);
    expect(seen.map((h) => h.totalCount)).toEqual(expected.map((h) => h.totalCount));
    // Maxima at the histogram's resolution (3 significant digits): the engine's staged recording keeps
    // a bucket's lowest value as the max, HdrHistogram's reader reports the bucket's highest.
    seen.forEach((h, i) => expect(Math.abs(h.maxValue - expected[i].maxValue)).toBeLessThanOrEqual(expected[i].maxValue / 1000));
    // Every answered request is in exactly one interval (a failure without an answer has no latency).
    expect(seen.reduce((n, h) => n + h.totalCount, 0)).toBe(result.counts.requestsAnswered);
    // Interval timestamps are relative to the run's start, one period long.
    const firstLine = text.split('\n').find((l) => /^\d/.test(l))!;
    const [start, length] = firstLine.split(',').map(Number);
    expect(length).toBeCloseTo(result.intervals.periodMs / 1000, 3);
    expect(start).toBeCloseTo((result.intervals.latency.findIndex((e) => e !== '') * result.intervals.periodMs) / 1000, 3);
  });
});

describe('a k6 result (uncorrected latency only)', () => {
  const k6 = { ...result, engine: 'k6' as const };

  it('writes no corrected .hgrm, only the uncorrected ones', async () => {
    const out = await mkdtemp(join(tmpdir(), 'flashsale-hgrm-k6-'));
    try {
      const written = (await writeRunOutputs(k6, out)).map((p) => p.slice(out.length + 1));
      expect(written.filter((f) => f.endsWith('.hgrm'))).toEqual(expect.arrayContaining(['reserve.uncorrected.hgrm', 'pay.uncorrected.hgrm']));
      expect(written.filter((f) => f.includes('.corrected.'))).toEqual([]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('names its interval log uncorrected, and its JSON summary has no corrected figures', () => {
    expect(hlogText(k6)).toMatch(/^#\[flashsale uncorrected latency \(measured by k6\) of every step/m);
    expect(hlogText(result)).toMatch(/^#\[flashsale corrected latency of every step/m);
    const latency = jsonSummary(k6).latency;
    expect(latency.reserve?.corrected).toBeNull();
    expect(latency.reserve?.uncorrected?.count).toBeGreaterThan(0);
  });
});
