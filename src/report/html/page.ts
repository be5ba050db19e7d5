// The shell every flashsale HTML page shares: uPlot and its CSS inlined, the chart data embedded as
// JSON, a Content-Security-Policy that forbids loading anything from anywhere, so the file opens
// offline and can be mailed or archived as one file.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ChartSpec } from './chart-spec.ts';

const require = createRequire(import.meta.url);

let assets: { uplotJs: string; uplotCss: string; client: string; css: string } | undefined;

function loadAssets(): NonNullable<typeof assets> {
  assets ??= {
    uplotJs: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    client: readFileSync(new URL('./charts.client.js', import.meta.url), 'utf8'),
    css: readFileSync(new URL('./page.css', import.meta.url), 'utf8'),
  };
  return assets;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** A number the test (and a curious reader) can find: data-value names it, data-raw is exact. */
export function value(key: string, raw: number | null, text: string): string {
  return `<span data-value="${escapeHtml(key)}" data-raw="${raw === null ? 'null' : raw}">${escapeHtml(text)}</span>`;
}

/** JSON safe inside <script>: no "</script>" or "<!--" can end or alter the element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Inline code must not contain its own closing tag. */
function inlineScript(code: string): string {
  return code.replace(/<\/script/gi, '<\\/script');
}

// Inline scripts and styles only; no fetch, no image, no font from anywhere.
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";
// The live dashboard also reads its own server's event stream, and nothing else.
const LIVE_CSP = `${CSP}; connect-src 'self'`;

export function chartPanel(chart: ChartSpec): string {
  return `<section class="panel${chart.wide ? ' wide' : ''}">
  <h3>${escapeHtml(chart.title)}</h3>
  <div class="chart" data-chart="${escapeHtml(chart.name)}"></div>
  <p class="explain">${escapeHtml(chart.explain)}</p>
</section>`;
}

export function renderPage(options: { title: string; body: string; charts: ChartSpec[]; live?: { script: string } }): string {
  const a = loadAssets();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${options.live ? LIVE_CSP : CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<style>${a.uplotCss}</style>
<style>${a.css}</style>
</head>
<body>
${options.body}
<script type="application/json" id="flashsale-charts">${scriptJson(options.charts)}</script>
<script>${inlineScript(a.uplotJs)}</script>
<script>${inlineScript(a.client)}</script>${options.live ? `
<script>${inlineScript(options.live.script)}</script>` : ''}
</body>
</html>
`;
}
