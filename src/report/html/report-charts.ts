// The charts of report.html (and of the live dashboard, which draws the same specs from a result
// so far), built from a RunResult. Every number is computed here; the page only draws.
import { distribution, hasCorrectedLatency, percentilesOf, spectrum, stepsOf } from '../latency.ts';
import { OUTCOMES, type Outcome } from '../../contract/vocabulary.ts';
import type { RunResult } from '../../contract/result.ts';
import { mergeEncoded } from '../../common/histogram.ts';
import { alignPoints, PALETTE, type ChartSpec } from './chart-spec.ts';
import { faultMarkers } from './fault-markers.ts';

/** A moment of the run to mark on every time chart (a fault, a restart): ms from t0, and the end of
 * its window when it lasted. */
export interface ReportMarker {
  atMs: number;
  label: string;
  untilMs?: number;
}

export interface ReportChartOptions {
  markers?: ReportMarker[];
}

export const OUTCOME_COLORS: Record<Outcome, string> = { success: '#16a34a', sold_out: '#9333ea', rejected: '#ea580c', error: '#dc2626' };
const OUTCOME_LABELS: Record<Outcome, string> = { success: 'success', sold_out: 'sold out', rejected: 'rejected', error: 'error' };
const GREY = '#9ca3af';
/** SKUs drawn one line each; the rest are summed (here and on the live page). */
export const SKU_LINES = 8;

function seconds(result: RunResult): number[] {
  const { periodMs, sent } = result.intervals;
  return sent.map((_, i) => ((i + 1) * periodMs) / 1000);
}

function perSecond(series: number[], periodMs: number): number[] {
  return series.map((n) => (n * 1000) / periodMs);
}

function cumulative(series: number[]): number[] {
  let sum = 0;
  return series.map((n) => (sum += n));
}

/** Latency thresholds (http_req_duration…: p(99)<250, avg<100, …) as lines at their limit in ms. */
export function latencyLimits(result: Pick<RunResult, 'thresholds'>): NonNullable<ChartSpec['limits']> {
  return latencyLimitsOf(result.thresholds);
}

/** The same from a threshold list, e.g. a scenario's before the run (the live dashboard). */
export function latencyLimitsOf(thresholds: ReadonlyArray<{ metric: string; expression: string }>): NonNullable<ChartSpec['limits']> {
  const out: NonNullable<ChartSpec['limits']> = [];
  for (const t of thresholds) {
    if (!t.metric.startsWith('http_req_duration')) continue;
    const m = /^\s*([a-z]+(?:\([\d.]+\))?)\s*(<=?|>=?)\s*([\d.]+)\s*$/.exec(t.expression);
    if (!m) continue;
    const step = /step:([a-z]+)/.exec(t.metric)?.[1];
    out.push({ y: Number(m[3]), label: `${m[1]}${m[2]}${m[3]} ms${step ? ` (${step})` : ''}` });
  }
  return out;
}

function timeMarkers(result: RunResult, options: ReportChartOptions): NonNullable<ChartSpec['markers']> {
  const out: NonNullable<ChartSpec['markers']> = [];
  if (result.stock.sellOutMs !== null) {
    const at = (result.firstSendMs ?? 0) + result.stock.sellOutMs;
    out.push({ x: at / 1000, label: `sold out at ${(result.stock.sellOutMs / 1000).toFixed(2)} s` });
  }
  for (const m of [...faultMarkers(result.faults ?? []), ...(options.markers ?? [])]) out.push({ x: m.atMs / 1000, label: m.label, ...(m.untilMs === undefined ? {} : { untilX: m.untilMs / 1000 }) });
  return out;
}

/** Zero has no place on a log axis: a bucket with nothing in it is a gap, not a dive to 0. */
function positive(values: Array<number | null>): Array<number | null> {
  return values.map((v) => (v === null || v <= 0 ? null : v));
}

/** The latency the charts show, in words (hasCorrectedLatency: a k6 result's is uncorrected, said so). */
function latencyKind(result: RunResult): string {
  return hasCorrectedLatency(result) ? 'corrected latency' : 'uncorrected latency (measured by k6, from when each request was sent: a wait before sending is not in it)';
}

const capitalised = (s: string) => s[0].toUpperCase() + s.slice(1);

function spectrumChart(result: RunResult, limits: ChartSpec['limits']): ChartSpec {
  const series: ChartSpec['series'] = [];
  const lists: Array<Array<[number, number]>> = [];
  const k6 = !hasCorrectedLatency(result);
  stepsOf(result).forEach((step, i) => {
    const all = result.latency[step]!.all; // stepsOf lists only the steps with latency
    const color = PALETTE[i % PALETTE.length];
    if (k6) {
      series.push({ label: `${step} uncorrected (k6)`, color });
      lists.push(spectrum(all.uncorrected));
      return;
    }
    series.push({ label: `${step} corrected`, color }, { label: `${step} uncorrected`, color, dash: true });
    lists.push(spectrum(all.corrected), spectrum(all.uncorrected));
  });
  const data = alignPoints(lists);
  return {
    name: 'spectrum',
    title: 'Latency by percentile',
    explain: 'How long the slowest x% of requests took, on a log scale so the fast body and the slow tail both show. Read right for the rare slow ones: 99% means 1 request in 100 was slower. ' +
      (k6
        ? 'Measured by k6, which times each request from when it was sent: uncorrected latency only, so time a buyer would have waited before k6 could send is not in it. Horizontal lines: latency thresholds.'
        : 'Solid: corrected, timed from when the request should have been sent, which is what a buyer waits; dashed: uncorrected, timed from when it actually left (service time only). Horizontal lines: latency thresholds.'),
    xLabel: 'percentile',
    yLabel: 'latency (ms)',
    percentileAxis: true,
    logY: true,
    yUnit: 'ms',
    series,
    data: [data[0], ...data.slice(1).map(positive)],
    limits,
    wide: true,
  };
}

function latencyOverTime(result: RunResult, x: number[], limits: ChartSpec['limits'], markers: ChartSpec['markers']): ChartSpec {
  const rows = result.intervals.latency.map((e) => percentilesOf(e));
  const pick = (k: 'p50' | 'p90' | 'p99' | 'max') => positive(rows.map((p) => (p ? p[k] : null)));
  return {
    name: 'latency-over-time',
    title: 'Latency over time',
    explain: `${capitalised(latencyKind(result))} of the requests finished in each ${result.intervals.periodMs} ms interval, all steps together, log scale. A climbing p50 means every buyer was queueing; a climbing p99 alone, a slow few. Max (grey) is one request.`,
    xLabel: 'seconds from start',
    yLabel: 'latency (ms)',
    logY: true,
    yUnit: 'ms',
    series: [
      { label: 'max', color: GREY, dash: true },
      { label: 'p50', color: PALETTE[0] },
      { label: 'p90', color: PALETTE[2] },
      { label: 'p99', color: PALETTE[4] },
    ],
    data: [x, pick('max'), pick('p50'), pick('p90'), pick('p99')],
    limits,
    markers,
    wide: true,
  };
}

function outcomeMix(result: RunResult, x: number[], markers: ChartSpec['markers']): ChartSpec {
  const s = result.intervals;
  const p = s.periodMs;
  const rejected = s.rejected;
  const series: ChartSpec['series'] = [
    { label: 'success', color: OUTCOME_COLORS.success },
    { label: 'sold out', color: OUTCOME_COLORS.sold_out },
  ];
  const data: Array<Array<number | null>> = [x, perSecond(s.successes, p), perSecond(s.soldOuts, p)];
  if (rejected) {
    series.push({ label: 'rejected', color: OUTCOME_COLORS.rejected }, { label: 'error', color: OUTCOME_COLORS.error });
    data.push(perSecond(rejected, p), perSecond(s.errors.map((e, i) => e - (rejected[i] ?? 0)), p));
  } else {
    series.push({ label: 'rejected or error', color: OUTCOME_COLORS.error });
    data.push(perSecond(s.errors, p));
  }
  return {
    name: 'outcome-mix',
    title: 'Outcomes over time',
    explain: 'What each answer said, per second. Success: reserved or bought. Sold out: an honest "no stock left". Rejected: refused for another reason (per-user limit, declined payment, expired hold, 429). Error: 5xx, timeouts, dropped connections. In a healthy sale success gives way to sold out at the sell-out line, with little else.',
    xLabel: 'seconds from start',
    yLabel: 'answers / s',
    series,
    data,
    markers,
  };
}

function throughput(result: RunResult, x: number[], markers: ChartSpec['markers']): ChartSpec {
  const { periodMs, sent, completed, successes } = result.intervals;
  return {
    name: 'throughput',
    title: 'Requests per second',
    explain: 'Sent (dashed, drawn on top): requests the generator fired. Completed: requests that ended, with an answer of any kind or a failure. Successful: answers that reserved or bought a unit. Sent above completed means requests were piling up in flight.',
    xLabel: 'seconds from start',
    yLabel: 'requests / s',
    series: [
      { label: 'successful', color: PALETTE[2], fill: true },
      { label: 'completed', color: PALETTE[3] },
      { label: 'sent', color: PALETTE[0], dash: true },
    ],
    data: [x, perSecond(successes, periodMs), perSecond(completed, periodMs), perSecond(sent, periodMs)],
    markers,
  };
}

function statusCodes(result: RunResult, x: number[], markers: ChartSpec['markers']): ChartSpec | null {
  const codes = result.intervals.statusCodes;
  if (!codes) return null;
  const entries = Object.entries(codes).sort((a, b) => a[0].localeCompare(b[0]));
  const color = (code: string, i: number) => (code.startsWith('2') ? ['#16a34a', '#15803d', '#4ade80'][i % 3] : code.startsWith('5') ? ['#dc2626', '#991b1b', '#f87171'][i % 3] : PALETTE[(i + 3) % PALETTE.length]);
  return {
    name: 'status-codes',
    title: 'HTTP status codes',
    explain: 'HTTP answers per second by status code (green 2xx, red 5xx). Failures with no HTTP answer (timeouts, refused or reset connections) are not here; they are in the outcomes chart as errors.',
    xLabel: 'seconds from start',
    yLabel: 'answers / s',
    series: entries.map(([code], i) => ({ label: code, color: color(code, i) })),
    data: [x, ...entries.map(([, s]) => perSecond(s, result.intervals.periodMs))],
    markers,
  };
}

function latencyByOutcome(result: RunResult, limits: ChartSpec['limits']): ChartSpec {
  const steps = stepsOf(result).map((s) => result.latency[s]!); // stepsOf lists only the steps with latency
  const present = OUTCOMES.filter((o) => steps.some((s) => s.byOutcome[o]));
  const merged = present.map((o) => mergeEncoded(steps.map((s) => s.byOutcome[o]?.corrected ?? '')));
  const data = alignPoints(merged.map(spectrum));
  return {
    name: 'latency-by-outcome',
    title: 'Latency by outcome',
    explain: `${capitalised(latencyKind(result))} at every percentile, all steps together, one line per kind of answer, log scale. A fast "sold out" and a slow "success" is a service that says no cheaply; errors far slower than the rest are timeouts.`,
    xLabel: 'percentile',
    yLabel: 'latency (ms)',
    percentileAxis: true,
    logY: true,
    yUnit: 'ms',
    series: present.map((o) => ({ label: OUTCOME_LABELS[o], color: OUTCOME_COLORS[o] })),
    data: [data[0], ...data.slice(1).map(positive)],
    limits,
  };
}

function latencyDistribution(result: RunResult): ChartSpec {
  const steps = stepsOf(result);
  const lists = steps.map((s) => distribution(result.latency[s]!.all.corrected)); // stepsOf lists only the steps with latency
  return {
    name: 'latency-distribution',
    title: 'Response-time distribution',
    explain: `Share of requests by ${latencyKind(result)} (10 bins per decade, log scale). One hump is one way of being served; a second hump to the right is a second, slower path (queueing, a retry, a lock).`,
    xLabel: 'latency (ms)',
    yLabel: 'share of requests',
    logX: true,
    yUnit: 'share',
    series: steps.map((s, i) => ({ label: s, color: PALETTE[i % PALETTE.length], fill: true })),
    data: alignPoints(lists),
  };
}

function inFlight(result: RunResult, x: number[], markers: ChartSpec['markers']): ChartSpec {
  const sent = cumulative(result.intervals.sent);
  const done = cumulative(result.intervals.completed);
  return {
    name: 'in-flight',
    title: 'Requests in flight',
    explain: 'Requests sent and not yet answered at the end of each interval. It grows when the target answers slower than the crowd arrives; the height is how many buyers are waiting at once.',
    xLabel: 'seconds from start',
    yLabel: 'requests',
    series: [{ label: 'in flight', color: PALETTE[5], fill: true }],
    data: [x, sent.map((s, i) => Math.max(0, s - done[i]))],
    markers,
  };
}

function connectionsOpen(result: RunResult, x: number[], markers: ChartSpec['markers']): ChartSpec | null {
  const open = result.intervals.connectionsOpen;
  if (!open) return null;
  return {
    name: 'connections',
    title: 'Open connections',
    explain: 'TCP connections the generator held open to the target at the end of each interval. With keep-alive it stays at the pool size; dips are connections the target (or an error) closed, until the next request opens them again.',
    xLabel: 'seconds from start',
    yLabel: 'connections',
    series: [{ label: 'open', color: PALETTE[0], fill: true }],
    data: [x, open],
    markers,
  };
}

function connectionChurn(result: RunResult, x: number[], markers: ChartSpec['markers']): ChartSpec | null {
  const { connects, disconnects, periodMs } = result.intervals;
  if (!connects || !disconnects) return null;
  return {
    name: 'connection-churn',
    title: 'Connections opened and closed',
    explain: 'TCP connections opened and closed per second (closed by either side; the warm-up\'s opens count at the start). Near zero after the start is keep-alive working; a steady stream of both is a target closing connections under load, and every buyer then pays a new handshake.',
    xLabel: 'seconds from start',
    yLabel: 'connections / s',
    series: [
      { label: 'opened', color: PALETTE[2] },
      { label: 'closed', color: PALETTE[1], dash: true },
    ],
    data: [x, perSecond(connects, periodMs), perSecond(disconnects, periodMs)],
    markers,
  };
}

function lateness(result: RunResult, x: number[], markers: ChartSpec['markers']): ChartSpec | null {
  const late = result.intervals.latenessMaxMs;
  if (!late) return null;
  const limit = result.generator.limits?.latenessMs;
  return {
    name: 'lateness',
    title: "Generator's send lateness",
    explain: `How late the generator sent its requests (worst in each interval) against the schedule it promised. Above the limit line${limit === undefined ? '' : ` (${limit} ms)`} the generator, not the target, set the pace; enough of that makes a run inconclusive (exit 4).`,
    xLabel: 'seconds from start',
    yLabel: 'lateness (ms)',
    yUnit: 'ms',
    series: [{ label: 'worst lateness', color: PALETTE[4], fill: true }],
    data: [x, late],
    limits: limit === undefined ? [] : [{ y: limit, label: `limit ${limit} ms` }],
    markers,
  };
}

function sellThrough(result: RunResult, x: number[], markers: ChartSpec['markers']): ChartSpec {
  const sold = cumulative(result.intervals.stockTaken);
  return {
    name: 'sell-through',
    title: 'Units sold',
    explain: 'Units acknowledged as sold so far. The flat line is the stock; the sale is over when the curve meets it (marked).',
    xLabel: 'seconds from start',
    yLabel: 'units',
    series: [
      { label: 'sold', color: PALETTE[2], fill: true },
      { label: 'stock', color: '#6b7280', dash: true },
    ],
    data: [x, sold, x.map(() => result.stock.initial)],
    markers,
  };
}

function skuSellOut(result: RunResult, x: number[], markers: ChartSpec['markers']): ChartSpec | null {
  const bySku = result.intervals.soldBySku;
  if (!bySku || Object.keys(bySku).length === 0) return null;
  const initial = new Map(result.stock.inventory.map((s) => [s.sku, s.initial]));
  const ranked = Object.entries(bySku).map(([sku, s]) => ({ sku, s, total: s.reduce((a, b) => a + b, 0) })).sort((a, b) => b.total - a.total);
  const shown = ranked.slice(0, SKU_LINES);
  const rest = ranked.slice(SKU_LINES);
  const share = (sku: string, s: number[]) => {
    const stock = initial.get(sku);
    const c = cumulative(s);
    return stock ? c.map((v) => v / stock) : c.map(() => null);
  };
  const series: ChartSpec['series'] = shown.map((r, i) => ({ label: r.sku, color: PALETTE[i % PALETTE.length] }));
  const data: Array<Array<number | null>> = [x, ...shown.map((r) => share(r.sku, r.s))];
  if (rest.length) {
    const stock = rest.reduce((a, r) => a + (initial.get(r.sku) ?? 0), 0);
    const sum = cumulative(x.map((_, i) => rest.reduce((a, r) => a + (r.s[i] ?? 0), 0)));
    series.push({ label: `${rest.length} more SKUs`, color: GREY, dash: true });
    data.push(stock ? sum.map((v) => v / stock) : sum.map(() => null));
  }
  return {
    name: 'sku-sell-out',
    title: 'Sell-out by SKU',
    explain: `Share of each SKU's stock acknowledged as sold so far (the ${Math.min(SKU_LINES, ranked.length)} best sellers${rest.length ? ', the rest together' : ''}). 100% is sold out; a line that stops short is stock left.`,
    xLabel: 'seconds from start',
    yLabel: 'share of stock sold',
    yUnit: 'share',
    series,
    data,
    markers,
  };
}

function stockRemaining(result: RunResult, x: number[], markers: ChartSpec['markers']): ChartSpec {
  const sold = cumulative(result.intervals.stockTaken);
  return {
    name: 'stock-remaining',
    title: 'Stock remaining',
    explain: 'Units not yet acknowledged as sold, as the buyers saw it. Below zero would mean oversold.',
    xLabel: 'seconds from start',
    yLabel: 'units',
    series: [{ label: 'remaining', color: PALETTE[0], fill: true }],
    data: [x, sold.map((s) => result.stock.initial - s)],
    markers,
  };
}

export function reportCharts(result: RunResult, options: ReportChartOptions = {}): ChartSpec[] {
  const x = seconds(result);
  const limits = latencyLimits(result);
  const markers = timeMarkers(result, options);
  const charts: Array<ChartSpec | null> = [
    spectrumChart(result, limits),
    latencyOverTime(result, x, limits, markers),
    outcomeMix(result, x, markers),
    throughput(result, x, markers),
    statusCodes(result, x, markers),
    latencyByOutcome(result, limits),
    latencyDistribution(result),
    inFlight(result, x, markers),
    connectionsOpen(result, x, markers),
    connectionChurn(result, x, markers),
    lateness(result, x, markers),
    sellThrough(result, x, markers),
    skuSellOut(result, x, markers),
    stockRemaining(result, x, markers),
  ];
  return charts.filter((c): c is ChartSpec => c !== null);
}
