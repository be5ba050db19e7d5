// Headless Chromium (Debian's, through playwright-core) for the page tests: report.html, compare,
// plan.html and the live dashboard. One way to open a page: every request that is not the page's own
// origin is refused and counted, every console error or warning is kept, so a test can say "opens
// offline, no console error". Skips where /usr/bin/chromium is missing, fails then in CI (servers.ts).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Availability } from './servers.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Where pages and screenshots the tests write go. */
export const HTML_OUT = new URL('../../test-output/html/', import.meta.url).pathname;
/** Screenshots for the docs, written only when FLASHSALE_DOCS_SCREENSHOTS=1. */
export const DOCS_IMG = new URL('../../docs/img/', import.meta.url).pathname;
export const docsScreenshots = process.env.FLASHSALE_DOCS_SCREENSHOTS === '1';

export function chromiumAvailable(): Availability {
  return existsSync(CHROMIUM_PATH) ? { ok: true, reason: '' } : { ok: false, reason: `${CHROMIUM_PATH} not found (apt-get install chromium)` };
}

export async function launchBrowser(): Promise<Browser> {
  await mkdir(HTML_OUT, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export interface Opened {
  page: Page;
  consoleErrors: string[];
  foreignRequests: string[];
}

/** Opens a file:// or http://127.0.0.1 page; anything from elsewhere is refused and listed. */
export async function openPage(browser: Browser, url: string, viewport = { width: 1280, height: 900 }): Promise<Opened> {
  const page = await browser.newPage({ viewport });
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];
  const own = url.startsWith('file:') ? 'file:' : new URL(url).origin;
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(own)) return route.continue();
    foreignRequests.push(u);
    return route.abort();
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, consoleErrors, foreignRequests };
}

// The tests are compiled without the DOM library; these are the few browser shapes they touch.
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray }; drawImage(from: CanvasLike, x: number, y: number): void };
}
export type BrowserGlobal = { document: { querySelector(selector: string): CanvasLike | null; createElement(tag: 'canvas'): CanvasLike }; broken?: boolean };

/** Pixels of the chart's canvas within a small distance of `hex` (a series colour). */
export async function pixelsOfColor(page: Page, chart: string, hex: string): Promise<{ painted: number; matching: number }> {
  return page.evaluate(({ chart, hex }) => {
    const canvas = (globalThis as unknown as BrowserGlobal).document.querySelector(`[data-chart="${chart}"] canvas`);
    if (!canvas) return { painted: -1, matching: -1 };
    // Read from a copy: Chromium warns (a console warning, which the tests count) when one canvas is
    // read back several times, as a live chart watched during a run is.
    const copy = (globalThis as unknown as BrowserGlobal).document.createElement('canvas');
    copy.width = canvas.width;
    copy.height = canvas.height;
    const ctx = copy.getContext('2d');
    ctx.drawImage(canvas, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
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
