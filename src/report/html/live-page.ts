// The live dashboard of `flashsale run --dashboard`: the report's time charts drawn from a LiveSnapshot
// (src/contract/live.ts) while the run goes, refreshed by server-sent events, and a link to the final
// report when it ends. The page and the figures come from the one local server (src/cli/dashboard.ts).
import type { LivePoint, LiveSnapshot } from '../../contract/live.ts';
import { count, duration, ms, rate } from '../../common/format.ts';
import { PALETTE, type ChartSpec } from './chart-spec.ts';
import { chartPanel, escapeHtml, renderPage } from './page.ts';
import { OUTCOME_COLORS, SKU_LINES } from './report-charts.ts';

const STATUS_COLORS: Record<string, string> = { '1xx': '#6b7280', '2xx': '#16a34a', '3xx': '#0891b2', '4xx': '#ea580c', '5xx': '#dc2626' };

function col(points: LivePoint[], pick: (p: LivePoint) => number | null): Array<number | null> {
  return points.map(pick);
}

const positive = (v: number | null) => (v === null || v <= 0 ? null : v);

/** Sell-out by SKU so far: the share of each SKU's stock sold at each tick, the best sellers one line
 * each and the rest together, as report.html draws it from the result. */
function skuSellOut(s: LiveSnapshot, x: number[]): ChartSpec | null {
  const pts = s.points;
  const last = pts.at(-1);
  // Drawn from the first page on (the page only updates charts it has), empty until the first tick.
  if (s.skus.length === 0) return null;
  // Up to SKU_LINES SKUs keep the scenario's order, so the lines do not swap places as they sell.
  const listed = s.skus.map((sku, i) => ({ ...sku, i, sold: last?.soldBySku[i] ?? 0 }));
  const ranked = listed.length <= SKU_LINES ? listed : listed.sort((a, b) => b.sold - a.sold);
  const shown = ranked.slice(0, SKU_LINES);
  const rest = ranked.slice(SKU_LINES);
  const share = (units: number, stock: number) => (stock > 0 ? units / stock : null);
  const series: ChartSpec['series'] = shown.map((r, k) => ({ label: r.id, color: PALETTE[k % PALETTE.length] }));
  const data: ChartSpec['data'] = [x, ...shown.map((r) => col(pts, (p) => share(p.soldBySku[r.i] ?? 0, r.stock)))];
  if (rest.length) {
    const stock = rest.reduce((n, r) => n + r.stock, 0);
    series.push({ label: `${rest.length} more SKUs`, color: '#9ca3af', dash: true });
    data.push(col(pts, (p) => share(rest.reduce((n, r) => n + (p.soldBySku[r.i] ?? 0), 0), stock)));
  }
  return {
    name: 'sku-sell-out', title: 'Sell-out by SKU', yUnit: 'share',
    explain: `Share of each SKU's stock sold so far (the ${shown.length} best sellers${rest.length ? ', the rest together' : ''}). 100% is sold out.`,
    xLabel: 'seconds from start', yLabel: 'share of stock sold',
    series, data,
  };
}

/** The charts of the live page, from what the run has measured so far. `limits`: latency thresholds. */
export function liveCharts(s: LiveSnapshot, limits: ChartSpec['limits'] = []): ChartSpec[] {
  const pts = s.points;
  const x = pts.map((p) => p.t);
  const classes = [...new Set(pts.flatMap((p) => Object.keys(p.statusPerSec)))].sort();
  const stock = s.totals.stock;
  const charts: Array<ChartSpec | null> = [
    {
      name: 'latency-over-time', title: 'Latency over time (live)', wide: true, logY: true, yUnit: 'ms',
      explain: 'Corrected latency of the answers in each tick, log scale; approximate (log bins, within ~9 %): the report has the exact figures.',
      xLabel: 'seconds from start', yLabel: 'latency (ms)',
      series: [{ label: 'p50', color: PALETTE[0] }, { label: 'p90', color: PALETTE[2] }, { label: 'p99', color: PALETTE[4] }],
      data: [x, col(pts, (p) => positive(p.p50)), col(pts, (p) => positive(p.p90)), col(pts, (p) => positive(p.p99))],
      limits,
    },
    {
      name: 'outcome-mix', title: 'Outcomes per second', explain: 'Success, sold out, rejected (refused for another reason) and error (5xx, timeouts, dropped connections).',
      xLabel: 'seconds from start', yLabel: 'answers / s',
      series: [
        { label: 'success', color: OUTCOME_COLORS.success }, { label: 'sold out', color: OUTCOME_COLORS.sold_out },
        { label: 'rejected', color: OUTCOME_COLORS.rejected }, { label: 'error', color: OUTCOME_COLORS.error },
      ],
      data: [x, col(pts, (p) => p.successPerSec), col(pts, (p) => p.soldOutPerSec), col(pts, (p) => p.rejectedPerSec), col(pts, (p) => p.errorPerSec)],
    },
    {
      name: 'throughput', title: 'Requests per second', explain: 'Sent (dashed, on top) against completed: sent above completed means requests are piling up.',
      xLabel: 'seconds from start', yLabel: 'requests / s',
      series: [{ label: 'completed', color: PALETTE[3] }, { label: 'sent', color: PALETTE[0], dash: true }],
      data: [x, col(pts, (p) => p.completedPerSec), col(pts, (p) => p.sentPerSec)],
    },
    {
      name: 'status-codes', title: 'HTTP status classes', explain: 'HTTP answers per second by status class; failures without an answer are errors in the outcomes chart.',
      xLabel: 'seconds from start', yLabel: 'answers / s',
      series: classes.map((c) => ({ label: c, color: STATUS_COLORS[c] ?? '#6b7280' })),
      data: [x, ...classes.map((c) => col(pts, (p) => p.statusPerSec[c] ?? 0))],
    },
    {
      name: 'in-flight', title: 'Requests in flight', explain: 'Sent and not yet answered: how many buyers are waiting at once.',
      xLabel: 'seconds from start', yLabel: 'requests',
      series: [{ label: 'in flight', color: PALETTE[5], fill: true }],
      data: [x, col(pts, (p) => p.inFlight)],
    },
    {
      name: 'connections', title: 'Open connections', explain: 'TCP connections the generator holds open to the target. With keep-alive it stays at the pool size; dips are connections the target closed.',
      xLabel: 'seconds from start', yLabel: 'connections',
      series: [{ label: 'open', color: PALETTE[0], fill: true }],
      data: [x, col(pts, (p) => p.connectionsOpen)],
    },
    {
      name: 'connection-churn', title: 'Connections opened and closed', explain: 'TCP connections opened and closed (by either side) per second. A steady stream of both is a target closing keep-alive connections under load.',
      xLabel: 'seconds from start', yLabel: 'connections / s',
      series: [{ label: 'opened', color: PALETTE[2] }, { label: 'closed', color: PALETTE[1], dash: true }],
      data: [x, col(pts, (p) => p.connectsPerSec), col(pts, (p) => p.disconnectsPerSec)],
    },
    {
      name: 'lateness', title: "Generator's send lateness", yUnit: 'ms',
      explain: `p99 and worst lateness of the requests sent in each tick. Above the limit (${ms(s.latenessLimitMs)} ms) the generator, not the target, sets the pace.`,
      xLabel: 'seconds from start', yLabel: 'lateness (ms)',
      series: [{ label: 'worst', color: '#9ca3af', dash: true }, { label: 'p99', color: PALETTE[4], fill: true }],
      data: [x, col(pts, (p) => p.latenessMax), col(pts, (p) => p.latenessP99)],
      limits: [{ y: s.latenessLimitMs, label: `limit ${ms(s.latenessLimitMs)} ms` }],
    },
    {
      name: 'sell-through', title: 'Units sold', explain: 'Units acknowledged as sold so far; the dashed line is the stock.',
      xLabel: 'seconds from start', yLabel: 'units',
      series: [{ label: 'sold', color: PALETTE[2], fill: true }, ...(stock === null ? [] : [{ label: 'stock', color: '#6b7280', dash: true }])],
      data: [x, col(pts, (p) => p.unitsSold), ...(stock === null ? [] : [x.map(() => stock)])],
    },
    skuSellOut(s, x),
  ];
  return charts.filter((c): c is ChartSpec => c !== null);
}

/** The figures above the charts, by data-live key (the page's script fills them from each event). */
export function liveFigures(s: LiveSnapshot): Record<string, string> {
  const last = s.points.at(-1);
  const lastP99 = s.points.findLast((p) => p.p99 !== null)?.p99;
  const left = s.totals.stock === null ? null : Math.max(0, s.totals.stock - s.totals.unitsSold);
  return {
    elapsed: duration(s.elapsedMs),
    remaining: s.remainingMs === null || s.done ? '–' : `${duration(s.remainingMs)} ${s.remainingBy === 'cap' ? '(to the cap)' : '(to sell-out)'}`,
    rate: last ? `${rate(last.sentPerSec)} req/s` : '–',
    sold: `${count(s.totals.unitsSold)}${s.totals.stock === null ? '' : ` of ${count(s.totals.stock)}`}`,
    left: left === null ? '–' : count(left),
    p99: lastP99 == null ? '–' : `${ms(lastP99)} ms`,
    errors: count(s.totals.errors + s.totals.rejected),
    connections: last ? `${count(last.connectionsOpen)} open, ${count(s.totals.disconnects)} closed` : '–',
    state: s.done ? 'finished' : s.generatorBehind ? 'GENERATOR BEHIND' : 'running',
  };
}

const FIGURES: Array<[string, string]> = [
  ['state', 'state'], ['elapsed', 'elapsed'], ['remaining', 'remaining'], ['rate', 'sending'],
  ['sold', 'units sold'], ['left', 'stock left'], ['p99', 'p99 now'], ['errors', 'refused + errors'],
  ['connections', 'connections'],
];

// Runs in the browser: one EventSource on /events; each message is {figures, charts, done}.
const LIVE_SCRIPT = `(function () {
  'use strict';
  var source = new EventSource('/events');
  var state = document.querySelector('[data-live="state"]');
  source.onmessage = function (e) {
    var msg = JSON.parse(e.data);
    Object.keys(msg.figures).forEach(function (k) {
      var el = document.querySelector('[data-live="' + k + '"]');
      if (el) el.textContent = msg.figures[k];
    });
    state.className = msg.done ? 'ok' : msg.behind ? 'bad' : '';
    window.flashsaleCharts.update(msg.charts);
    document.body.setAttribute('data-ticks', String(Number(document.body.getAttribute('data-ticks') || 0) + 1));
    if (msg.done) {
      // Stay connected: the server keeps /report up while a page watches, and closes when it goes.
      source.onerror = function () { source.close(); };
      document.getElementById('final').hidden = false;
    }
  };
})();`;

export function buildLivePage(s: LiveSnapshot, title: string, limits: ChartSpec['limits'] = []): string {
  const charts = liveCharts(s, limits);
  const figures = liveFigures(s);
  const cards = FIGURES.map(([key, label]) => `<div class="card"><div class="label">${escapeHtml(label)}</div><div class="value words live-status" data-live="${key}">${escapeHtml(figures[key])}</div></div>`);
  const body = `<main>
<header>
<h1>Live: ${escapeHtml(title)}</h1>
<p class="sub">Updated every tick from this machine's flashsale; nothing leaves it. Prometheus figures at <a href="/metrics">/metrics</a>.</p>
</header>
<p id="final" class="lede" hidden>The run is over: <a href="/report">the full report</a> (exact figures, audit, thresholds).</p>
<div class="cards">${cards.join('\n')}</div>
<h2>Charts</h2>
<div class="grid">
${charts.map(chartPanel).join('\n')}
</div>
<footer>Live figures are approximate (log bins); the report written at the end is exact.</footer>
</main>`;
  return renderPage({ title: `flashsale live · ${title}`, body, charts, live: { script: LIVE_SCRIPT } });
}

/** One server-sent event's data. */
export function liveEvent(s: LiveSnapshot, limits: ChartSpec['limits'] = []): string {
  return JSON.stringify({ figures: liveFigures(s), charts: liveCharts(s, limits), done: s.done, behind: s.generatorBehind });
}
