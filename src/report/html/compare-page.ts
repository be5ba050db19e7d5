// The comparison page of `flashsale compare --html`: the table of both runs with the change, and the
// charts where a difference shows best (percentile spectrum, sell-through, throughput, p99 over time).
import type { RunResult } from '../../contract/result.ts';
import { STEPS } from '../../contract/vocabulary.ts';
import { compareRows, formatChange, judgement, render, unjudgedNote, type CompareRow } from '../compare.ts';
import { hasCorrectedLatency, percentilesOf, spectrum } from '../latency.ts';
import { alignPoints, PALETTE, type ChartSpec } from './chart-spec.ts';
import { chartPanel, escapeHtml, renderPage, value } from './page.ts';

const A_COLORS = [PALETTE[0], PALETTE[2], PALETTE[5]];
const B_COLORS = [PALETTE[1], PALETTE[4], PALETTE[3]];

function timeSeries(r: RunResult, pick: (r: RunResult) => Array<number | null>): Array<[number, number]> {
  const { periodMs } = r.intervals;
  return pick(r).flatMap((v, i) => (v === null ? [] : [[((i + 1) * periodMs) / 1000, v] as [number, number]])); // a point is an [x, y] pair, not a number[]
}

function cumulative(series: number[]): number[] {
  let sum = 0;
  return series.map((n) => (sum += n));
}

function compareCharts(a: RunResult, b: RunResult): ChartSpec[] {
  const steps = STEPS.filter((s) => a.latency[s] || b.latency[s]);
  const spectrumSeries: ChartSpec['series'] = [];
  const lists: Array<Array<[number, number]>> = [];
  // A k6 run has no corrected latency (hasCorrectedLatency): with one on either side, both spectra are the
  // uncorrected ones, so like is set against like.
  const k6 = !hasCorrectedLatency(a) || !hasCorrectedLatency(b);
  const kind = k6 ? 'uncorrected' : 'corrected';
  steps.forEach((step, i) => {
    spectrumSeries.push({ label: `${step} A`, color: A_COLORS[i % 3] }, { label: `${step} B`, color: B_COLORS[i % 3], dash: true });
    lists.push(spectrum(a.latency[step]?.all[kind] ?? ''), spectrum(b.latency[step]?.all[kind] ?? ''));
  });
  // The interval series holds each run's own kind: no uncorrected series exists for a native run.
  const overTime = (r: RunResult) => (hasCorrectedLatency(r) ? 'corrected' : 'uncorrected (k6)');
  const overTimeExplain =
    overTime(a) === overTime(b)
      ? `${overTime(a) === 'corrected' ? 'Corrected' : 'Uncorrected (k6)'} p99 of the requests finished in each interval, all steps together.`
      : `p99 of the requests finished in each interval, all steps together: A ${overTime(a)}, B ${overTime(b)}, so not like for like.`;
  const perSec = (r: RunResult, s: number[]) => s.map((n) => (n * 1000) / r.intervals.periodMs);
  const two = (name: string, title: string, explain: string, yLabel: string, pick: (r: RunResult) => Array<number | null>): ChartSpec => ({
    name, title, explain, xLabel: 'seconds from start', yLabel,
    series: [{ label: 'A', color: A_COLORS[0] }, { label: 'B', color: B_COLORS[0], dash: true }],
    data: alignPoints([timeSeries(a, pick), timeSeries(b, pick)]),
  });
  return [
    {
      name: 'spectrum', title: `Latency by percentile, ${kind}`, wide: true, percentileAxis: true,
      explain: k6
        ? 'Each step\'s uncorrected latency (timed from when the request actually went out) at every percentile; A solid, B dashed: a run measured by k6 has no corrected latency, so both sides show the uncorrected one. Lower is better; the right side is the rare slow requests.'
        : 'Each step\'s corrected latency (timed from when the request should have gone out) at every percentile; A solid, B dashed. Lower is better; the right side is the rare slow requests.',
      xLabel: 'percentile', yLabel: 'latency (ms)', series: spectrumSeries, data: alignPoints(lists),
    },
    two('sell-through', 'Units sold', 'Cumulative units acknowledged as sold. The steeper curve sold out sooner.', 'units', (r) => cumulative(r.intervals.stockTaken)),
    two('throughput', 'Requests answered per second', 'Answers that came back, whatever they said.', 'requests / s', (r) => perSec(r, r.intervals.completed)),
    { ...two('latency-over-time', 'p99 latency over time', overTimeExplain, 'latency (ms)', (r) => r.intervals.latency.map((e) => percentilesOf(e)?.p99 ?? null)), wide: true },
  ];
}

function cell(key: string, row: CompareRow, side: 'a' | 'b'): string {
  if (row.kind === 'text') return escapeHtml(row[side]);
  const v = row[side];
  return v === null ? '–' : value(`${side}.${key}`, v, render(row.unit, v));
}

/** A side whose run was not judged (inconclusive, interrupted) is shaded amber, column and all: its
 * figures are not the target's, so no change against them reads as a regression. */
function unsure(r: RunResult): boolean {
  return r.verdict.status === 'inconclusive' || r.verdict.status === 'interrupted';
}

function table(rows: CompareRow[], comparable: boolean, shade: { a: boolean; b: boolean } = { a: false, b: false }): string {
  const col = (side: 'a' | 'b') => (shade[side] ? ' unsure-col' : '');
  let group = '';
  const body = rows.map((r) => {
    const head = r.group !== group ? `<tr><th colspan="5">${escapeHtml((group = r.group))}</th></tr>` : '';
    const change = r.kind === 'number' ? formatChange(r) : { abs: r.a === r.b ? '' : 'changed', pct: '' };
    const j = r.kind === 'number' ? judgement(r, comparable) : null;
    const cls = j === 'better' ? ' class="num ok"' : j === 'worse' ? ' class="num bad"' : ' class="num"';
    return `${head}<tr><td>${escapeHtml(r.label)}</td><td class="num${col('a')}">${cell(r.key, r, 'a')}</td><td class="num${col('b')}">${cell(r.key, r, 'b')}</td><td${cls}>${escapeHtml(change.abs)}</td><td${cls}>${escapeHtml(change.pct)}</td></tr>`;
  });
  return `<table class="compare"><thead><tr><th></th><th class="num${col('a')}">A${shade.a ? ' (not judged)' : ''}</th><th class="num${col('b')}">B${shade.b ? ' (not judged)' : ''}</th><th class="num">change</th><th class="num">%</th></tr></thead><tbody>${body.join('\n')}</tbody></table>
<p class="explain">change = B − A, % relative to A; green where B is better, red where it is worse (changes under 1% are left uncoloured as noise).</p>`;
}

export function buildCompareHtml(a: RunResult, b: RunResult, names: [string, string]): string {
  const charts = compareCharts(a, b);
  const note = unjudgedNote(a, b);
  const label = (r: RunResult) => (unsure(r) ? ` <b class="unsure">${r.verdict.status}</b>` : '');
  const body = `<main>
<header>
<h1>Comparison: ${escapeHtml(a.scenario.name)}${a.scenario.name === b.scenario.name ? '' : ` vs ${escapeHtml(b.scenario.name)}`}</h1>
<p class="sub">A: ${escapeHtml(names[0])} (${escapeHtml(a.startedAt)})${label(a)}</p>
<p class="sub">B: ${escapeHtml(names[1])} (${escapeHtml(b.startedAt)})${label(b)}</p>
</header>
${note ? `<p class="lede verdict-inconclusive" data-value="unjudged">${escapeHtml(note)}</p>` : ''}
<h2>Side by side</h2>
${table(compareRows(a, b), note === null, { a: unsure(a), b: unsure(b) })}
<h2>Charts</h2>
<div class="grid">
${charts.map(chartPanel).join('\n')}
</div>
<footer>Written by flashsale from two result.json files; every figure comes from their HdrHistograms.</footer>
</main>`;
  return renderPage({ title: `flashsale compare · ${a.scenario.name}`, body, charts });
}
