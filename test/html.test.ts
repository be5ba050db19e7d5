// report.html opened in headless Chromium from a file:// URL: nothing fetched from anywhere, no
// console error, every chart drawn, the numbers shown equal result.json's.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentilesMs } from '../src/shared/histogram.ts';
import { buildReportHtml, readResult, writeRunOutputs } from '../src/report/index.ts';
import { reportCharts } from '../src/report/html/report-charts.ts';
import { buildCompareHtml } from '../src/report/html/compare-page.ts';
import { compareRows } from '../src/report/compare.ts';
import type { RunResult } from '../src/contract/result.ts';
import { fakeRunResult } from './helpers/fake-result.ts';

const OUT = new URL('../test-output/html/', import.meta.url).pathname;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface Opened {
  page: Page;
  consoleErrors: string[];
  foreignRequests: string[];
}

let browser: Browser;

beforeAll(async () => {
  await mkdir(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
});

async function open(htmlPath: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    foreignRequests.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
  return { page, consoleErrors, foreignRequests };
}

// The test is compiled without the DOM library; these are the few browser shapes it touches.
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
type BrowserGlobal = { document: { querySelector(selector: string): CanvasLike | null }; broken?: boolean };

/** Pixels of the chart's canvas within a small distance of `hex` (a series colour). */
async function pixelsOfColor(page: Page, chart: string, hex: string): Promise<{ painted: number; matching: number }> {
  return page.evaluate(({ chart, hex }) => {
    const canvas = (globalThis as unknown as BrowserGlobal).document.querySelector(`[data-chart="${chart}"] canvas`);
    if (!canvas) return { painted: -1, matching: -1 };
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    let painted = 0;
    let matching = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 0) continue;
      painted++;
      if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 40 && data[i + 3] > 200) matching++;
    }
    return { painted, matching };
  }, { chart, hex });
}

/** "1,234", "12.3", "1.25 s", "850 ms" → ms or plain number. */
function parseShown(text: string): number {
  const n = Number(text.replace(/,/g, '').replace(/\s*(ms|s)$/, ''));
  return /\d s$/.test(text) ? n * 1000 : n;
}

/** Everything shown has about three significant digits; allow the rounding of what is displayed. */
function expectShown(text: string, exact: number): void {
  const shown = parseShown(text);
  expect(Math.abs(shown - exact), `${text} vs ${exact}`).toBeLessThanOrEqual(Math.max(0.0005, Math.abs(exact) * 0.006));
}

describe('report.html in headless Chromium', () => {
  let result: RunResult;
  let opened: Opened;

  beforeAll(async () => {
    const fake = fakeRunResult({ seed: 7 });
    // Text that would break a careless page: it must show as text, not run.
    fake.scenario.description = 'A "small" sale </script><script>window.broken = true</script> & <b>not bold</b>';
    await writeRunOutputs(fake, OUT);
    result = await readResult(join(OUT, 'result.json'));
    opened = await open(join(OUT, 'report.html'));
  });

  it('opens offline: no request leaves file://, no console error, injected text stays text', async () => {
    expect(opened.foreignRequests).toEqual([]);
    expect(opened.consoleErrors).toEqual([]);
    expect(await opened.page.evaluate(() => (globalThis as unknown as BrowserGlobal).broken)).toBeUndefined();
    expect(await opened.page.locator('header .sub').first().textContent()).toContain('</script><script>');
  });

  it('draws every chart: a canvas per data-chart with its series colour painted', async () => {
    const charts = reportCharts(result);
    expect(charts.map((c) => c.name)).toEqual(['spectrum', 'latency-over-time', 'throughput', 'sell-through', 'stock-remaining', 'errors']);
    for (const chart of charts) {
      const px = await pixelsOfColor(opened.page, chart.name, chart.series[0].color);
      expect(px.painted, `${chart.name} has a canvas with pixels`).toBeGreaterThan(1000);
      expect(px.matching, `${chart.name} draws ${chart.series[0].label}`).toBeGreaterThan(30);
    }
  });

  it('shows the numbers of result.json', async () => {
    const shown = async (key: string) => {
      const el = opened.page.locator(`[data-value="${key}"]`);
      return { raw: JSON.parse((await el.getAttribute('data-raw'))!) as number | null, text: (await el.textContent())!.trim() };
    };
    const sold = await shown('sold');
    expect(sold.raw).toBe(result.stock.sold);
    expectShown(sold.text, result.stock.sold);
    expect((await shown('stock')).raw).toBe(result.stock.initial);
    const sellOut = await shown('sellOutMs');
    expect(result.stock.sellOutMs).not.toBeNull();
    expect(sellOut.raw).toBe(result.stock.sellOutMs);
    expectShown(sellOut.text, result.stock.sellOutMs!);
    expect((await shown('requestsSent')).raw).toBe(result.counts.requestsSent);
    expect((await shown('buyers.succeeded')).raw).toBe(result.counts.buyers.succeeded);

    for (const step of ['reserve', 'pay'] as const) {
      for (const kind of ['corrected', 'uncorrected'] as const) {
        const expected = percentilesMs(result.latency[step]!.all[kind]);
        for (const p of ['p50', 'p90', 'p99', 'p999', 'max'] as const) {
          const v = await shown(`latency.${step}.${kind}.${p}`);
          expect(v.raw, `${step} ${kind} ${p}`).toBe(expected[p]);
          expectShown(v.text, expected[p]);
        }
      }
    }
  });

  it('writes a screenshot', async () => {
    const path = join(OUT, 'report.png');
    await opened.page.screenshot({ path, fullPage: true });
    expect((await stat(path)).size).toBeGreaterThan(50_000);
  });
});

describe('the comparison page in headless Chromium', () => {
  const a = fakeRunResult({ seed: 8 });
  const b = fakeRunResult({ seed: 8, baseServiceUs: 2500 });
  let opened: Opened;

  beforeAll(async () => {
    const path = join(OUT, 'compare.html');
    await writeFile(path, buildCompareHtml(a, b, ['runs/a/result.json', 'runs/b/result.json']));
    opened = await open(path);
  });

  it('opens offline with no console error and draws every chart', async () => {
    expect(opened.foreignRequests).toEqual([]);
    expect(opened.consoleErrors).toEqual([]);
    for (const [chart, color] of [['spectrum', '#2563eb'], ['sell-through', '#2563eb'], ['throughput', '#2563eb'], ['latency-over-time', '#2563eb']]) {
      const px = await pixelsOfColor(opened.page, chart, color);
      expect(px.matching, `${chart} draws run A`).toBeGreaterThan(30);
      const pxB = await pixelsOfColor(opened.page, chart, '#dc2626');
      expect(pxB.matching, `${chart} draws run B`).toBeGreaterThan(10);
    }
    await opened.page.screenshot({ path: join(OUT, 'compare.png'), fullPage: true });
  });

  it('shows both runs’ numbers', async () => {
    for (const row of compareRows(a, b)) {
      if (row.kind !== 'number') continue;
      for (const side of ['a', 'b'] as const) {
        const el = opened.page.locator(`[data-value="${side}.${row.key}"]`);
        if (row[side] === null) expect(await el.count()).toBe(0);
        else expect(JSON.parse((await el.getAttribute('data-raw'))!), `${side}.${row.key}`).toBe(row[side]);
      }
    }
  });
});

describe('the verdict box', () => {
  it('says the verdict in words, with its exit code and reasons, for a passed and an inconclusive run', async () => {
    for (const [name, fake, word, status] of [
      ['passed', fakeRunResult({ seed: 10 }), '✓ PASSED', 'passed'],
      ['inconclusive', fakeRunResult({ seed: 10, generatorBound: true }), '? INCONCLUSIVE', 'inconclusive'],
    ] as const) {
      const path = join(OUT, `verdict-${name}.html`);
      await writeFile(path, buildReportHtml(fake));
      const opened = await open(path);
      const box = opened.page.locator('[data-value="verdict"]');
      expect(JSON.parse((await box.getAttribute('data-raw'))!)).toBe(status);
      const text = (await box.textContent())!;
      expect(text).toContain(word);
      if (status === 'inconclusive') {
        expect(text).toContain('(exit 4)');
        expect(text).toMatch(/could not keep its schedule/);
        expect(await box.getAttribute('class')).toContain('verdict-inconclusive');
      }
      expect(opened.consoleErrors).toEqual([]);
    }
  });

  it('compare labels an inconclusive run and colours no change better or worse against it', async () => {
    const path = join(OUT, 'compare-inconclusive.html');
    await writeFile(path, buildCompareHtml(fakeRunResult({ seed: 8 }), fakeRunResult({ seed: 8, baseServiceUs: 2500, generatorBound: true }), ['a.json', 'b.json']));
    const opened = await open(path);
    expect(await opened.page.locator('[data-value="unjudged"]').textContent()).toMatch(/B is inconclusive/);
    expect(await opened.page.locator('header .sub').nth(1).textContent()).toContain('inconclusive');
    expect(await opened.page.locator('td.ok, td.bad').count()).toBe(0);
  });
});

describe('a run that sent nothing', () => {
  it('still renders every chart frame with no console error', async () => {
    const empty = fakeRunResult({ seed: 9, buyers: 50, stock: 10 });
    empty.latency = {};
    empty.intervals = { periodMs: 100, sent: [], completed: [], successes: [], soldOuts: [], errors: [], stockTaken: [], latency: [] };
    empty.generator.lateness = '';
    empty.stock = { ...empty.stock, sold: 0, sellOutMs: null };
    const path = join(OUT, 'empty.html');
    await writeFile(path, buildReportHtml(empty));
    const opened = await open(path);
    expect(opened.consoleErrors).toEqual([]);
    expect(opened.foreignRequests).toEqual([]);
    for (const chart of reportCharts(empty)) {
      expect((await pixelsOfColor(opened.page, chart.name, '#000000')).painted, chart.name).toBeGreaterThan(0);
    }
    expect(await opened.page.locator('[data-value="sellOutMs"]').textContent()).toBe('not sold out');
  });
});
