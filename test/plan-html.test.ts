// plan.html opened in headless Chromium from a file:// URL: nothing fetched from anywhere, no console
// error, every chart drawn, and the figures shown are plan.json's.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlanHtml } from '../src/plan/plan-html.ts';
import { runPlan } from '../src/plan/run-plan.ts';
import { simulatedPlanOptions } from './helpers/plan-sim.ts';

const OUT = new URL('../test-output/html/', import.meta.url).pathname;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser: Browser;
beforeAll(async () => {
  await mkdir(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
});

describe('plan.html in a browser', () => {
  for (const [name, threads] of [['plan', []], ['plan-scaling', [1, 2, 4, 8]]] as const) {
    it(`${name}: offline, no console error, every chart drawn, figures as plan.json has them`, async () => {
      const report = await runPlan(simulatedPlanOptions({ serviceThreads: [...threads] }));
      const file = join(OUT, `${name}.html`);
      await writeFile(file, buildPlanHtml(report));
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      const foreign: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        foreign.push(url);
        return route.abort();
      });
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      const charts = await page.locator('[data-chart]').count();
      const canvases = await page.locator('[data-chart] canvas').count();
      expect(charts).toBe(report.levels.length * 2 + (report.usl ? 1 : 0));
      expect(canvases).toBe(charts);
      const key = report.levels.length > 1 ? 'levels.0.' : '';
      const shown = await page.locator(`[data-value="${key}sustainableRate"]`).getAttribute('data-raw');
      expect(Number(shown)).toBe(report.levels[0].sustainableRate);
      if (report.usl) expect(Number(await page.locator('[data-value="usl.sigma"]').getAttribute('data-raw'))).toBe(report.usl.sigma);
      await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
      expect(errors).toEqual([]);
      expect(foreign).toEqual([]);
      await page.close();
    });
  }
});
