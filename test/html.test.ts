// report.html opened in headless Chromium from a file:// URL: nothing fetched from anywhere, no
// console error, every chart drawn, the numbers shown equal result.json's.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentilesMs } from '../src/common/histogram.ts';
import { buildReportHtml, readResult, writeRunOutputs } from '../src/report/index.ts';
import { reportCharts } from '../src/report/html/report-charts.ts';
import { buildCompareHtml } from '../src/report/html/compare-page.ts';
import { compareRows } from '../src/report/compare.ts';
import type { RunResult } from '../src/contract/result.ts';
import { fakeRunResult } from './helpers/fake-result.ts';
import { chromiumAvailable, DOCS_IMG, docsScreenshots, HTML_OUT as OUT, launchBrowser, openPage, pixelsOfColor, type BrowserGlobal, type Opened } from './helpers/browser.ts';
import { requireOrSkip } from './helpers/servers.ts';

const chromium = chromiumAvailable();
requireOrSkip('chromium', chromium);

let browser: Browser;

beforeAll(async () => {
  if (chromium.ok) browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

const open = (path: string): Promise<Opened> => openPage(browser, pathToFileURL(path).href);

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

describe.skipIf(!chromium.ok)('report.html in headless Chromium', () => {
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

  it('draws every chart: a canvas per data-chart with each series colour painted', async () => {
    const charts = reportCharts(result);
    expect(charts.map((c) => c.name)).toEqual([
      'spectrum', 'latency-over-time', 'outcome-mix', 'throughput', 'status-codes', 'latency-by-outcome',
      'latency-distribution', 'in-flight', 'connections', 'connection-churn', 'lateness', 'sell-through', 'sku-sell-out', 'stock-remaining',
    ]);
    for (const chart of charts) {
      const px = await pixelsOfColor(opened.page, chart.name, chart.series[0].color);
      expect(px.painted, `${chart.name} has a canvas with pixels`).toBeGreaterThan(1000);
      // Every series with data shows (a colour shared by two series counts once).
      for (const [i, s] of chart.series.entries()) {
        if (!chart.data[i + 1].some((v) => v !== null && v > 0)) continue;
        expect((await pixelsOfColor(opened.page, chart.name, s.color)).matching, `${chart.name} draws ${s.label}`).toBeGreaterThan(10);
      }
    }
  });

  it('charts what a flash sale needs: rejected answers, status codes, the lateness limit, thresholds as lines', () => {
    const byName = new Map(reportCharts(result).map((c) => [c.name, c]));
    expect(byName.get('outcome-mix')!.series.map((s) => s.label)).toEqual(['success', 'sold out', 'rejected', 'error']);
    expect(byName.get('status-codes')!.series.map((s) => s.label)).toEqual(expect.arrayContaining(['201', '409', '503']));
    expect(byName.get('lateness')!.limits).toEqual([{ y: result.generator.limits!.latenessMs, label: expect.stringContaining('limit') as string }]);
    // The scenario's p(99)<250 on reserve, on every latency chart, and latency on a log axis.
    for (const name of ['spectrum', 'latency-over-time', 'latency-by-outcome']) {
      expect(byName.get(name)!.limits, name).toEqual([{ y: 250, label: 'p(99)<250 ms (reserve)' }]);
      expect(byName.get(name)!.logY, name).toBe(true);
    }
    // p50, p90, p99 each drawn, not hidden under max.
    expect(byName.get('latency-over-time')!.series.map((s) => s.label)).toEqual(['max', 'p50', 'p90', 'p99']);
    // Sent is drawn last, on top of successful.
    expect(byName.get('throughput')!.series.at(-1)!.label).toBe('sent');
  });

  it('draws the threshold line in red on the latency charts', async () => {
    for (const name of ['spectrum', 'latency-over-time']) {
      expect((await pixelsOfColor(opened.page, name, '#b91c1c')).matching, name).toBeGreaterThan(50);
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
    if (docsScreenshots) {
      await mkdir(DOCS_IMG, { recursive: true });
      await opened.page.setViewportSize({ width: 1100, height: 900 });
      await opened.page.locator('.grid').first().screenshot({ path: join(DOCS_IMG, 'report-charts.png'), type: 'png', scale: 'css' });
    }
  });
});

describe('the connection charts', () => {
  it('draw the result\'s connection series: open at the end of each interval, opened and closed per second', () => {
    const fake = fakeRunResult({ seed: 7 });
    const s = fake.intervals;
    const byName = new Map(reportCharts(fake).map((c) => [c.name, c]));
    const open = byName.get('connections')!;
    expect(open.data[1]).toEqual(s.connectionsOpen);
    expect(Math.max(...s.connectionsOpen!)).toBeGreaterThan(0);
    const churn = byName.get('connection-churn')!;
    expect(churn.series.map((x) => x.label)).toEqual(['opened', 'closed']);
    expect(churn.data[1]).toEqual(s.connects!.map((n) => (n * 1000) / s.periodMs));
    expect(churn.data[2]).toEqual(s.disconnects!.map((n) => (n * 1000) / s.periodMs));
  });
});

describe.skipIf(!chromium.ok)('a result written before the connection series', () => {
  it('still reads and renders, with the connection charts left out and no console error', async () => {
    const old = fakeRunResult({ seed: 7 });
    for (const key of ['connectionsOpen', 'connects', 'disconnects'] as const) delete old.intervals[key];
    const dir = join(OUT, 'before-connections');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'result.json'), JSON.stringify(old));
    const read = await readResult(join(dir, 'result.json'));
    const names = reportCharts(read).map((c) => c.name);
    expect(names).not.toContain('connections');
    expect(names).not.toContain('connection-churn');
    expect(names).toContain('in-flight');
    const path = join(dir, 'report.html');
    await writeFile(path, buildReportHtml(read));
    const opened = await open(path);
    expect(opened.consoleErrors).toEqual([]);
    expect(await opened.page.locator('[data-chart="connections"]').count()).toBe(0);
    expect((await pixelsOfColor(opened.page, 'in-flight', '#0891b2')).matching).toBeGreaterThan(10);
  });

  it('is refused when a connection series is not as long as the others', async () => {
    const bad = fakeRunResult({ seed: 7 });
    bad.intervals.connects = bad.intervals.connects!.slice(1);
    const path = join(OUT, 'short-connects.json');
    await writeFile(path, JSON.stringify(bad));
    await expect(readResult(path)).rejects.toThrow(/intervals\.connects has \d+ buckets, intervals\.sent has \d+/);
  });
});

describe.skipIf(!chromium.ok)('markers', () => {
  it('draws an event line and shades its window on every time chart', async () => {
    const fake = fakeRunResult({ seed: 7 });
    const path = join(OUT, 'report-markers.html');
    await writeFile(path, buildReportHtml(fake, { markers: [{ atMs: 300, label: 'fault: kill the service', untilMs: 900 }] }));
    const opened = await open(path);
    expect(opened.consoleErrors).toEqual([]);
    const charts = reportCharts(fake, { markers: [{ atMs: 300, label: 'fault: kill the service', untilMs: 900 }] });
    const timed = charts.filter((c) => c.xLabel === 'seconds from start');
    expect(timed.length).toBeGreaterThan(6);
    for (const c of timed) expect(c.markers, c.name).toContainEqual({ x: 0.3, label: 'fault: kill the service', untilX: 0.9 });
    // The window's tint: orange at 10 % on white.
    expect((await pixelsOfColor(opened.page, 'in-flight', '#fdf3ed')).matching).toBeGreaterThan(200);
  });
});

describe("the result's own faults", () => {
  it('are drawn on every time chart without being passed in, so a report rebuilt from result.json shows them', () => {
    const fake = fakeRunResult({ seed: 7 });
    const base = { kind: 'kill-service', spec: { at: '0.3s' }, problem: null, plannedMs: 300, inEffectMs: 310, healStartMs: 800, healedEarly: false, detail: {} };
    fake.faults = [
      { ...base, index: 0, description: 'kill -9 the service at 0.3s', status: 'healed', hitMs: 300, healedMs: 900 },
      { ...base, index: 1, description: 'reset connections at 5s', status: 'not_reached', hitMs: null, inEffectMs: null, healStartMs: null, healedMs: null },
    ];
    const timed = reportCharts(fake).filter((c) => c.xLabel === 'seconds from start');
    expect(timed.length).toBeGreaterThan(6);
    for (const c of timed) {
      expect(c.markers, c.name).toContainEqual({ x: 0.3, label: 'kill -9 the service at 0.3s', untilX: 0.9 });
      expect(c.markers?.some((m) => m.label.startsWith('reset connections')), c.name).toBe(false); // never hit: nothing to draw
    }
  });
});

describe.skipIf(!chromium.ok)('the comparison page in headless Chromium', () => {
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

describe.skipIf(!chromium.ok)('the verdict box', () => {
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
    // B's column is amber (inconclusive), not red (a regression).
    expect(await opened.page.locator('td.unsure-col').count()).toBeGreaterThan(10);
    expect(await opened.page.locator('th.unsure-col').textContent()).toContain('not judged');
  });
});

describe.skipIf(!chromium.ok)('a run that sent nothing', () => {
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
