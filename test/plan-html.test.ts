// plan.html opened in headless Chromium from a file:// URL: nothing fetched from anywhere, no console
// error, every chart drawn, and the figures shown are plan.json's.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlanHtml } from '../src/plan/plan-html.ts';
import { runPlan } from '../src/plan/run-plan.ts';
import { simulatedPlanOptions } from './helpers/plan-sim.ts';
import { chromiumAvailable, HTML_OUT as OUT, launchBrowser, openPage } from './helpers/browser.ts';
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

describe.skipIf(!chromium.ok)('plan.html in a browser', () => {
  for (const [name, threads] of [['plan', []], ['plan-scaling', [1, 2, 4, 8]]] as const) {
    it(`${name}: offline, no console error, every chart drawn, figures as plan.json has them`, async () => {
      const report = await runPlan(simulatedPlanOptions({ serviceThreads: [...threads] }));
      const file = join(OUT, `${name}.html`);
      await writeFile(file, buildPlanHtml(report));
      const { page, consoleErrors: errors, foreignRequests: foreign } = await openPage(browser, pathToFileURL(file).href);
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
