// plan.html: the answer, throughput and latency against offered load, the table of steps and (with
// levels) the scalability curve. Built on the report's page shell (uPlot inlined, no network), so it
// opens offline like report.html.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { alignPoints, chartPanel, count, escapeHtml, htmlValue, ms, PALETTE, rate, renderPage, type ChartSpec } from './adapter.ts';
import { KEEP_UP_SHARE, type MeasuredStep } from './judge.ts';
import type { LevelReport, PlanReport } from './report-types.ts';
import { uslThroughput } from './usl.ts';

export const PLAN_HTML_FILE = 'plan.html';

const conclusive = (steps: MeasuredStep[]) => steps.filter((s) => s.verdict !== 'inconclusive');
/** One point per rate (the last measurement of a rate measured twice), in order of rate. */
function byRate(steps: MeasuredStep[], pick: (s: MeasuredStep) => number | null | undefined): Array<[number, number]> {
  const m = new Map<number, number>();
  for (const s of steps) {
    const v = pick(s);
    if (v !== null && v !== undefined) m.set(s.offeredRate, v);
  }
  return [...m.entries()].sort((a, b) => a[0] - b[0]);
}

function levelCharts(l: LevelReport, key: string, suffix: string): ChartSpec[] {
  const steps = conclusive(l.steps);
  const marker = l.sustainableRate === null ? undefined : { x: l.sustainableRate, label: `sustainable ${rate(l.sustainableRate)}/s` };
  const offered = byRate(steps, (s) => s.offeredRate);
  return [
    {
      name: `throughput${suffix}`,
      title: `Throughput against offered load${key ? ` · ${l.label}` : ''}`,
      explain:
        'x: the arrival rate offered in each step; y: buyers answered per second. While the target keeps up the two lines lie on each other; where the answered line bends away, the target has reached its limit. Steps the generator could not deliver are left out.',
      xLabel: 'offered (arrivals/s)',
      yLabel: 'per second',
      series: [
        { label: 'answered', color: PALETTE[0] },
        { label: 'offered', color: PALETTE[5], dash: true },
      ],
      data: alignPoints([byRate(steps, (s) => s.achievedRate), offered]),
      marker,
    },
    {
      name: `latency${suffix}`,
      title: `Latency against offered load${key ? ` · ${l.label}` : ''}`,
      explain:
        'Corrected latency (solid, from when each request should have gone out) and uncorrected (dashed, from when it did) at each step. The knee is where the corrected p99 starts to climb for good.',
      xLabel: 'offered (arrivals/s)',
      yLabel: 'latency (ms)',
      series: [
        { label: 'p50 corrected', color: PALETTE[0] },
        { label: 'p99 corrected', color: PALETTE[1] },
        { label: 'p50 uncorrected', color: PALETTE[0], dash: true },
        { label: 'p99 uncorrected', color: PALETTE[1], dash: true },
      ],
      data: alignPoints([
        byRate(steps, (s) => s.latency.corrected?.p50),
        byRate(steps, (s) => s.latency.corrected?.p99),
        byRate(steps, (s) => s.latency.uncorrected?.p50),
        byRate(steps, (s) => s.latency.uncorrected?.p99),
      ]),
      marker: l.knee ? { x: l.knee.rate, label: `knee ${rate(l.knee.rate)}/s` } : marker,
    },
  ];
}

function scalingChart(report: PlanReport): ChartSpec | null {
  const fit = report.usl;
  if (!fit) return null;
  const measured = report.levels.filter((l) => l.n !== null && l.sustainableRate !== null).map((l) => [l.n!, l.sustainableRate!] as [number, number]); // both filtered non-null just before
  const maxN = Math.max(...measured.map((p) => p[0]), fit.peak ? Math.min(fit.peak.n * 1.5, 4 * Math.max(...measured.map((p) => p[0]))) : 0);
  const curve: Array<[number, number]> = [];
  for (let i = 0; i <= 60; i++) {
    const n = 1 + ((maxN - 1) * i) / 60;
    curve.push([Number(n.toFixed(3)), uslThroughput(n, fit)]);
  }
  const unit = report.scaling === 'threads' ? 'service threads' : 'instances';
  return {
    name: 'scaling',
    title: `Sustainable rate by ${unit}`,
    explain: `Measured sustainable rate at each level (points) and the Universal Scalability Law fitted to them (line): σ ${fit.sigma.toFixed(3)}, κ ${fit.kappa.toExponential(2)}.${fit.peak ? ` The model peaks at N* = ${fit.peak.n.toFixed(1)}.` : ''}`,
    xLabel: unit,
    yLabel: 'arrivals/s',
    series: [
      { label: 'measured', color: PALETTE[1] },
      { label: 'USL fit', color: PALETTE[0], dash: true },
    ],
    data: alignPoints([measured, curve]),
    marker: fit.peak ? { x: fit.peak.n, label: `N* ${fit.peak.n.toFixed(1)}` } : undefined,
    wide: true,
  };
}

function stepTable(l: LevelReport, key: string): string {
  const cell = (name: string, v: number | undefined) => (v === undefined ? '–' : htmlValue(`${key}${name}`, v, ms(v)));
  const rows = l.steps.map((s) => {
    const c = s.latency.corrected;
    const u = s.latency.uncorrected;
    const cls = s.verdict === 'pass' ? 'ok' : s.verdict === 'fail' ? 'bad' : 'skip';
    const k = `steps.${s.index}.`;
    return `<tr><td class="num">${s.index + 1}${s.retry ? ' (again)' : ''}</td><td>${escapeHtml(s.phase)}</td>
<td class="num">${htmlValue(`${key}${k}offeredRate`, s.offeredRate, rate(s.offeredRate))}</td>
<td class="num">${htmlValue(`${key}${k}achievedRate`, s.achievedRate, rate(s.achievedRate))}</td>
<td class="num">${cell(`${k}corrected.p50`, c?.p50)}</td><td class="num">${cell(`${k}corrected.p99`, c?.p99)}</td>
<td class="num">${cell(`${k}uncorrected.p50`, u?.p50)}</td><td class="num">${cell(`${k}uncorrected.p99`, u?.p99)}</td>
<td class="num">${count(s.errors)}</td><td class="${cls}">${escapeHtml(s.verdict)}</td><td>${escapeHtml(s.reasons.join('; '))}</td></tr>`;
  });
  return `<table><thead><tr><th class="num">step</th><th>phase</th><th class="num">offered/s</th><th class="num">answered/s</th>
<th class="num">p50 ms</th><th class="num">p99 ms</th><th class="num">p50 unc. ms</th><th class="num">p99 unc. ms</th><th class="num">errors</th><th>verdict</th><th>why</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
<p class="explain">Latency in ms over every request of the step: corrected from when it should have left (what a buyer waited), uncorrected from when it did (the service time). A step the generator could not deliver is inconclusive: it is held neither for nor against the target.</p>`;
}

function levelSection(l: LevelReport, report: PlanReport, key: string, suffix: string): { html: string; charts: ChartSpec[] } {
  const charts = levelCharts(l, key, suffix);
  const precision = l.stoppedBy === 'precision' ? ` (within ±${(report.settings.precision * 100).toFixed(0)}%)` : '';
  const html = `${report.scaling === 'none' ? '' : `<h2>${escapeHtml(l.label)}</h2>`}
<div class="lede${l.sustainableRate === null || l.atLeast ? ' failed' : ''}">${escapeHtml(l.message + precision)}.${l.advice ? ` ${escapeHtml(l.advice)}.` : ''}</div>
<div class="cards">
<div class="card"><div class="label">Sustainable rate</div><div class="value">${htmlValue(`${key}sustainableRate`, l.sustainableRate, l.sustainableRate === null ? 'none' : `${l.atLeast ? '≥ ' : ''}${rate(l.sustainableRate)}/s`)}</div><div class="note">arrivals per second</div></div>
<div class="card"><div class="label">Fails at</div><div class="value">${htmlValue(`${key}failedRate`, l.failedRate, l.failedRate === null ? '–' : `${rate(l.failedRate)}/s`)}</div></div>
<div class="card"><div class="label">Knee</div><div class="value">${htmlValue(`${key}knee`, l.knee?.rate ?? null, l.knee ? `${rate(l.knee.rate)}/s` : 'none seen')}</div><div class="note">${l.knee ? `p99 ${ms(l.knee.p99Ms)} ms; climbs from ${rate(l.knee.climbedAt)}/s` : 'p99 never stayed above 2× its low-load value'}</div></div>
<div class="card"><div class="label">Steps</div><div class="value">${count(l.steps.length)}</div><div class="note">stopped by: ${escapeHtml(l.stoppedBy)}</div></div>
</div>
<div class="grid">${charts.map(chartPanel).join('\n')}</div>
<h3 class="table-title">Every step</h3>
${stepTable(l, key)}`;
  return { html, charts };
}

export function buildPlanHtml(report: PlanReport): string {
  const sections = report.levels.map((l, i) => (report.levels.length > 1 ? levelSection(l, report, `levels.${i}.`, `-${i}`) : levelSection(l, report, '', '')));
  const charts = sections.flatMap((s) => s.charts);
  const scaling = scalingChart(report);
  if (scaling) charts.push(scaling);
  const fit = report.usl;
  // A USL fit needs two or more levels, and so does the scaling chart: with a fit, there is a chart.
  const uslHtml = fit
    ? `<h2>Scalability</h2>
<div class="cards">
<div class="card"><div class="label">σ contention</div><div class="value">${htmlValue('usl.sigma', fit.sigma, fit.sigma.toFixed(4))}</div></div>
<div class="card"><div class="label">κ coherency</div><div class="value">${htmlValue('usl.kappa', fit.kappa, fit.kappa.toExponential(2))}</div></div>
<div class="card"><div class="label">λ one ${report.scaling === 'threads' ? 'thread' : 'instance'}</div><div class="value">${htmlValue('usl.lambda', fit.lambda, `${rate(fit.lambda)}/s`)}</div></div>
<div class="card"><div class="label">Predicted peak</div><div class="value">${htmlValue('usl.peak', fit.peak?.n ?? null, fit.peak ? `N* ${fit.peak.n.toFixed(1)}` : 'none')}</div><div class="note">${fit.peak ? `${rate(fit.peak.x)}/s` : 'κ = 0'}</div></div>
<div class="card"><div class="label">Fit error</div><div class="value">${htmlValue('usl.relativeError', fit.relativeError, `${(fit.relativeError * 100).toFixed(1)}%`)}</div><div class="note">RMS ${rate(fit.rmse)}/s</div></div>
</div>
${fit.warnings.map((w) => `<p class="bad">warning: ${escapeHtml(w)}</p>`).join('\n')}
<div class="grid">${chartPanel(scaling!)}</div>`
    : '';
  const objectives = report.objectives.list.map((o) => `<li><code>${escapeHtml(`${o.metric} ${o.expression}`)}</code> (${escapeHtml(o.source)})</li>`).join('');
  const ignored = report.objectives.ignored.map((o) => `<li><code>${escapeHtml(`${o.metric} ${o.expression}`)}</code>: not judged per step (${escapeHtml(o.why)})</li>`).join('');
  const t = report.target;
  const body = `<main>
<header>
<h1>Capacity plan: ${escapeHtml(report.scenario.name)}</h1>
<p class="sub">${escapeHtml(t.builtIn ? 'built-in service' : t.urls.join(', '))} · ${escapeHtml(report.startedAt)} · steps of ${escapeHtml(String(report.settings.stepMs / 1000))} s after ${escapeHtml(String(report.settings.warmupMs / 1000))} s of warm-up</p>
</header>
<h2>Objectives</h2>
<ul>${objectives}<li>keep up: answer at least ${KEEP_UP_SHARE * 100}% of the offered rate</li>${ignored}</ul>
${sections.map((s) => s.html).join('\n')}
${uslHtml}
<h2>Environment</h2>
<pre>${escapeHtml(JSON.stringify(report.environment, null, 2))}</pre>
<footer>Written by flashsale plan; every latency comes from the steps' HdrHistograms (plan.json keeps them).</footer>
</main>`;
  return renderPage({ title: `flashsale plan · ${report.scenario.name}`, body, charts });
}

export async function writePlanHtml(report: PlanReport, dir: string): Promise<string> {
  const path = join(dir, PLAN_HTML_FILE);
  await writeFile(path, buildPlanHtml(report));
  return path;
}
