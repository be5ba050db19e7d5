// The charts of report.html, built from a RunResult.
import { percentilesOf, spectrum, stepsOf } from '../latency.ts';
import type { RunResult } from '../../contract/result.ts';
import { alignPoints, PALETTE, type ChartSpec } from './chart-spec.ts';

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

function spectrumChart(result: RunResult): ChartSpec {
  const series: ChartSpec['series'] = [];
  const lists: Array<Array<[number, number]>> = [];
  stepsOf(result).forEach((step, i) => {
    const all = result.latency[step]!.all; // stepsOf lists only the steps with latency
    const color = PALETTE[i % PALETTE.length];
    series.push({ label: `${step} corrected`, color }, { label: `${step} uncorrected`, color, dash: true });
    lists.push(spectrum(all.corrected), spectrum(all.uncorrected));
  });
  return {
    name: 'spectrum',
    title: 'Latency by percentile',
    explain: 'How long the slowest x% of requests took. Read right for the rare slow ones: 99% means 1 request in 100 was slower. ' +
      'Solid: corrected, timed from when the request should have been sent, which is what a buyer waits; dashed: uncorrected, timed from when it actually left (service time only).',
    xLabel: 'percentile',
    yLabel: 'latency (ms)',
    percentileAxis: true,
    series,
    data: alignPoints(lists),
    wide: true,
  };
}

function latencyOverTime(result: RunResult, x: number[]): ChartSpec {
  const rows = result.intervals.latency.map((e) => percentilesOf(e));
  const pick = (k: 'p50' | 'p90' | 'p99' | 'max') => rows.map((p) => (p ? p[k] : null));
  return {
    name: 'latency-over-time',
    title: 'Latency over time',
    explain: `Corrected latency of every request finished in each ${result.intervals.periodMs} ms interval, all steps together. A climbing line means requests were queueing.`,
    xLabel: 'seconds from start',
    yLabel: 'latency (ms)',
    series: [
      { label: 'p50', color: PALETTE[0] },
      { label: 'p90', color: PALETTE[2] },
      { label: 'p99', color: PALETTE[4] },
      { label: 'max', color: PALETTE[1] },
    ],
    data: [x, pick('p50'), pick('p90'), pick('p99'), pick('max')],
  };
}

function throughput(result: RunResult, x: number[]): ChartSpec {
  const { periodMs, sent, completed, successes } = result.intervals;
  return {
    name: 'throughput',
    title: 'Requests per second',
    explain: 'Sent: requests the generator fired. Completed: requests that ended, with an answer of any kind or a failure (timeout, connection error). Successful: answers that reserved or bought a unit.',
    xLabel: 'seconds from start',
    yLabel: 'requests / s',
    series: [
      { label: 'sent', color: PALETTE[0] },
      { label: 'completed', color: PALETTE[3] },
      { label: 'successful', color: PALETTE[2] },
    ],
    data: [x, perSecond(sent, periodMs), perSecond(completed, periodMs), perSecond(successes, periodMs)],
  };
}

function sellOutMarker(result: RunResult): ChartSpec['marker'] {
  if (result.stock.sellOutMs === null) return undefined;
  const at = (result.firstSendMs ?? 0) + result.stock.sellOutMs;
  return { x: at / 1000, label: `sold out at ${(result.stock.sellOutMs / 1000).toFixed(2)} s` };
}

function sellThrough(result: RunResult, x: number[]): ChartSpec {
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
    marker: sellOutMarker(result),
  };
}

function stockRemaining(result: RunResult, x: number[]): ChartSpec {
  const sold = cumulative(result.intervals.stockTaken);
  return {
    name: 'stock-remaining',
    title: 'Stock remaining',
    explain: 'Units not yet acknowledged as sold, as the buyers saw it. Below zero would mean oversold.',
    xLabel: 'seconds from start',
    yLabel: 'units',
    series: [{ label: 'remaining', color: PALETTE[0], fill: true }],
    data: [x, sold.map((s) => result.stock.initial - s)],
    marker: sellOutMarker(result),
  };
}

function errors(result: RunResult, x: number[]): ChartSpec {
  const { periodMs, errors: errs, soldOuts } = result.intervals;
  return {
    name: 'errors',
    title: 'Sold-out answers and errors',
    explain: 'Sold out: the service said no stock is left, an honest no. Errors: everything else that was not a success: refusals (limit, declined payment, expired), 5xx, timeouts and dropped connections.',
    xLabel: 'seconds from start',
    yLabel: 'answers / s',
    series: [
      { label: 'sold out', color: PALETTE[3] },
      { label: 'errors', color: PALETTE[1] },
    ],
    data: [x, perSecond(soldOuts, periodMs), perSecond(errs, periodMs)],
    wide: true,
  };
}

export function reportCharts(result: RunResult): ChartSpec[] {
  const x = seconds(result);
  return [
    spectrumChart(result),
    latencyOverTime(result, x),
    throughput(result, x),
    sellThrough(result, x),
    stockRemaining(result, x),
    errors(result, x),
  ];
}
