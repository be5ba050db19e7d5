// report.html: one self-contained page that explains a run to someone who has never seen the tool.
import type { RunResult } from '../../contract/result.ts';
import { count, duration, ms, rate, thresholdValue } from '../../common/format.ts';
import { hasCorrectedLatency, percentilesOf, stepPercentiles, type Percentiles } from '../latency.ts';
import { chartPanel, escapeHtml, renderPage, value } from './page.ts';
import { reportCharts, type ReportChartOptions } from './report-charts.ts';
import { VERDICT_WORDS } from '../summary.ts';

function card(label: string, body: string, note = '', words = false): string {
  return `<div class="card"><div class="label">${escapeHtml(label)}</div><div class="value${words ? ' words' : ''}">${body}</div>${note ? `<div class="note">${escapeHtml(note)}</div>` : ''}</div>`;
}

function status(passed: boolean, skipped = false): string {
  if (skipped) return '<span class="skip">– skipped</span>';
  return passed ? '<span class="ok">✓ pass</span>' : '<span class="bad">✗ fail</span>';
}

/** What each verdict means, in a sentence, for the box at the top of the page. */
const VERDICT_MEANING: Record<RunResult['verdict']['status'], string> = {
  passed: 'The audit held, every threshold passed and the generator kept its schedule.',
  thresholds_crossed: 'The target crossed one or more thresholds (the reasons below).',
  audit_failed: 'The audit found an invariant broken: the target sold or recorded something wrong.',
  inconclusive: 'The load generator could not keep its schedule, so the target was not tested as the scenario asks; this run neither passes nor fails it. Add load workers or machines, or run on a quieter machine.',
  interrupted: 'The run was stopped (Ctrl-C or SIGTERM) before it ended; what was measured is kept, not judged.',
};

function lede(result: RunResult): string {
  const s = result.stock;
  const parts: string[] = [];
  parts.push(s.sellOutMs === null
    ? `${count(s.sold)} of ${count(s.initial)} units sold (${s.soldFrom === 'inventory' ? 'by the target\'s inventory' : 'acknowledged to buyers'}); the rest were left when the run ended (${result.stopReason.replace('_', ' ')}).`
    : `${count(s.initial)} units sold out in ${duration(s.sellOutMs)}.`);
  if (s.oversold > 0) parts.push(`The service OVERSOLD ${count(s.oversold)} units.`);
  if (!result.audit) parts.push('No audit: the target has no inventory route to check against.');
  else if (result.audit.passed) parts.push('The audit passed: nothing oversold, no acknowledged order lost, limits held.');
  else parts.push(`The audit FAILED: ${result.audit.checks.filter((c) => !c.passed && !c.skipped).map((c) => c.title).join('; ')}.`);
  if (result.thresholds.length) parts.push(`${result.thresholds.filter((t) => t.pass).length} of ${result.thresholds.length} thresholds passed.`);
  if (result.generator.generatorBound) parts.push("Part of the latency is the load generator's own (see below).");
  return parts.join(' ');
}

function verdictBox(result: RunResult): string {
  const v = result.verdict;
  const w = VERDICT_WORDS[v.status];
  const reasons = v.reasons.length ? `<ul class="reasons">${v.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>` : '';
  return `<div class="lede verdict-${v.status}" data-value="verdict" data-raw="${escapeHtml(JSON.stringify(v.status))}"><b>${w.mark} ${escapeHtml(w.word)}</b>${v.status === 'passed' ? '' : ` <span class="exit">(exit ${v.exitCode})</span>`}. ${escapeHtml(VERDICT_MEANING[v.status])}
<p>${escapeHtml(lede(result))}</p>${reasons}</div>`;
}

function headline(result: RunResult): string {
  const c = result.counts;
  const s = result.stock;
  const secs = result.durationMs / 1000;
  const perSec = (n: number) => (secs > 0 ? n / secs : 0);
  return `<div class="cards">
${card('Sell-out time', s.sellOutMs === null ? value('sellOutMs', null, 'not sold out') : value('sellOutMs', s.sellOutMs, duration(s.sellOutMs)), 'first request → last unit acknowledged')}
${card('Units sold', `${value('sold', s.sold, count(s.sold))} <small>of ${value('stock', s.initial, count(s.initial))}</small>`, `${s.soldFrom === 'inventory' ? 'by the inventory' : 'acknowledged'}; ${count(s.acknowledged)} acknowledged${s.ledger === null ? '' : `, ${count(s.ledger)} in the ledger`}; ${s.oversold ? `${count(s.oversold)} oversold!` : 'none oversold'}`)}
${card('Successful buyers', value('buyers.succeeded', c.buyers.succeeded, count(c.buyers.succeeded)), `of ${count(c.buyers.started)} who tried`)}
${card('Sold-out answers', value('soldOutAnswers', c.byOutcome.sold_out, count(c.byOutcome.sold_out)), 'honest "no stock left"')}
${card('Errors', value('errors', c.byOutcome.error, count(c.byOutcome.error)), `${count(c.byOutcome.rejected)} other refusals${c.cutByStop ? `; ${count(c.cutByStop)} cut by the stop (not errors)` : ''}`)}
${card('Retries', value('retries', c.retries, count(c.retries)))}
${card('Requests sent', value('requestsSent', c.requestsSent, count(c.requestsSent)), `${rate(perSec(c.requestsSent))} per second`)}
${card('Requests answered', value('requestsAnswered', c.requestsAnswered, count(c.requestsAnswered)), `${rate(perSec(c.requestsAnswered))} per second`)}
${card('Run time', value('durationMs', result.durationMs, duration(result.durationMs)), `ended: ${result.stopReason.replace('_', ' ')}`)}
${card('Generator', result.generator.generatorBound ? '<span class="unsure">generator-bound</span>' : '<span class="ok">kept schedule</span>', result.generator.reason ?? `event-loop delay p99 ${ms(result.generator.eventLoopDelayMs.p99)} ms`, true)}
</div>`;
}

const COLS = ['p50', 'p90', 'p99', 'p999', 'max'] as const;

/** One row of the latency table: `lead` rows carry the step's name, the others are its secondary lines. */
function latencyRow(step: string, kind: 'corrected' | 'uncorrected', p: Percentiles | null, lead: boolean, label: string = kind): string {
  const cells = COLS.map((k) => `<td class="num">${p ? value(`latency.${step}.${kind}.${k}`, p[k], ms(p[k])) : '–'}</td>`).join('');
  return `<tr${lead ? '' : ' class="secondary"'}><td>${lead ? `<b>${escapeHtml(step)}</b>` : ''}</td><td>${label}</td>${cells}<td class="num">${p ? count(p.count) : 0}</td></tr>`;
}

function latencyTable(result: RunResult): string {
  // A k6 result has uncorrected latency only: one row per step, named for what it is.
  const corrected = hasCorrectedLatency(result);
  const rows = stepPercentiles(result).flatMap((r) =>
    corrected ? [latencyRow(r.step, 'corrected', r.corrected, true), latencyRow(r.step, 'uncorrected', r.uncorrected, false)] : [latencyRow(r.step, 'uncorrected', r.uncorrected, true, 'sent (k6)')],
  );
  const lateness = percentilesOf(result.generator.lateness);
  const explain = corrected
    ? `<b>Corrected</b> latency is timed from the moment each request was scheduled to leave, so time spent waiting behind a slow service counts, as it does for a buyer (no "coordinated omission"). <b>Uncorrected</b> is timed from when it actually left: the service time alone. A large gap between them means requests queued.${lateness ? ` The generator sent requests ${ms(lateness.p99)} ms late at p99.` : ''}`
    : 'Measured by <b>k6</b>, which times each request from when it was sent: this is <b>uncorrected</b> latency, the service time alone. Time a buyer would have spent waiting behind a slow service before k6 could send (coordinated omission) is not in it, so it can look better than a buyer\'s wait; there is no corrected latency for this run.';
  return `<table>
<thead><tr><th>step</th><th>timed from</th><th class="num">p50 ms</th><th class="num">p90 ms</th><th class="num">p99 ms</th><th class="num">p99.9 ms</th><th class="num">max ms</th><th class="num">requests</th></tr></thead>
<tbody>${rows.join('\n') || '<tr><td colspan="8">no latency recorded</td></tr>'}</tbody>
</table>
<p class="explain">${explain}</p>`;
}

function auditTable(result: RunResult): string {
  if (!result.audit) return '<p class="explain">Not run: the target exposes no inventory route (GET /api/v1/inventory/:sku) to reconcile against.</p>';
  const rows = result.audit.checks.map((c) => `<tr><td>${status(c.passed, c.skipped)}</td><td>${escapeHtml(c.title)}</td><td>${escapeHtml(c.detail)}${c.offendingCount ? `<div class="offending">${c.offendingCount} offending: ${escapeHtml(c.offending.join(', '))}${c.offendingCount > c.offending.length ? ', …' : ''}</div>` : ''}</td></tr>`);
  return `<table><thead><tr><th>result</th><th>check</th><th>detail</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
<p class="explain">After the run, the buyers' view (acknowledged orders) is reconciled with the service's ledger and stock counters.</p>`;
}

function inventoryTable(result: RunResult): string {
  const inv = result.stock.inventory;
  if (!inv.length) return '';
  const rows = inv.map((s) => `<tr><td><code>${escapeHtml(s.sku)}</code></td><td class="num">${count(s.initial)}</td><td class="num">${count(s.sold)}</td><td class="num">${count(s.reserved)}</td><td class="num">${count(s.available)}</td><td>${s.sold + s.reserved + s.available === s.initial ? '<span class="ok">✓</span>' : '<span class="bad">✗ does not add up</span>'}</td></tr>`);
  return `<h3 class="table-title">Inventory after the run, as the service reported it</h3>
<table><thead><tr><th>SKU</th><th class="num">stock</th><th class="num">sold</th><th class="num">reserved</th><th class="num">available</th><th>sold + reserved + available = stock</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function thresholdStatus(t: RunResult['thresholds'][number]): string {
  if (t.status === 'inconclusive') return '<span class="unsure">? inconclusive</span>';
  return status(t.pass);
}

function thresholdTable(result: RunResult): string {
  if (!result.thresholds.length) return '<p class="explain">No thresholds.</p>';
  const rows = result.thresholds.map((t, i) => `<tr><td>${thresholdStatus(t)}</td><td><code>${escapeHtml(t.metric)}</code>${t.source === 'default' ? ' <small>(default)</small>' : ''}</td><td><code>${escapeHtml(t.expression)}</code></td><td class="num">${t.actual === null ? 'no data' : value(`threshold.${i}.actual`, t.actual, thresholdValue(t.metric, t.actual))}</td><td>${t.note ? escapeHtml(t.note) : ''}</td></tr>`);
  return `<table><thead><tr><th>result</th><th>metric</th><th>condition</th><th class="num">actual</th><th>note</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
<p class="explain">Pass/fail conditions in k6's syntax; latency in ms. A crossed threshold makes <code>flashsale run</code> exit with 99. <i>(default)</i> marks flashsale's defaults, in force when the scenario says nothing about that metric: a sale with no order, or too many errors or refusals, never passes.</p>`;
}

function errorTable(result: RunResult): string {
  const entries = Object.entries(result.counts.errorsByKind).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return '<p class="explain">No errors or refusals.</p>';
  return `<table><thead><tr><th>kind</th><th class="num">count</th></tr></thead><tbody>${entries.map(([k, n]) => `<tr><td><code>${escapeHtml(k)}</code></td><td class="num">${count(n)}</td></tr>`).join('')}</tbody></table>`;
}

function environmentTable(result: RunResult): string {
  const e = result.environment;
  const rows: Array<[string, string]> = [
    ['started', result.startedAt], ['ended', result.endedAt],
    ['target', result.target.stores ? `built-in service, ${result.target.stores.processes} process(es) × ${result.target.stores.threadsPerProcess} thread(s) on ${result.target.stores.stockStore} and ${result.target.stores.ledger} (${result.target.url})` : result.target.builtIn ? `built-in service, ${result.target.serviceThreads ?? '?'} threads (${result.target.url})` : result.target.url],
    ['node', e.node], ['platform', `${e.platform} ${e.arch}`], ['CPUs', `${e.cpus} × ${e.cpuModel}`],
    ['memory', `${(e.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB`], ['flashsale', e.flashsaleVersion], ['git commit', e.gitCommit ?? '–'],
  ];
  if (result.mergedFrom) rows.push(['merged from', result.mergedFrom.join(', ')]);
  return `<table><tbody>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</tbody></table>`;
}

export function buildReportHtml(result: RunResult, options: ReportChartOptions = {}): string {
  const charts = reportCharts(result, options);
  const body = `<main>
<header>
<h1>Flash sale: ${escapeHtml(result.scenario.name)}</h1>
<p class="sub">${escapeHtml(result.scenario.description)}</p>
<p class="sub">${escapeHtml(result.startedAt)} · ${escapeHtml(result.target.builtIn ? 'built-in service' : `${result.target.url} (${result.target.from === 'flag' ? '--target' : "the scenario's target.url"})`)}${result.mergedFrom ? ` · merged from ${result.mergedFrom.length} runs` : ''}</p>
</header>
${verdictBox(result)}
${(result.warnings ?? []).map((w) => `<p class="warning">${escapeHtml(w)}</p>`).join('\n')}
<h2>Headline numbers</h2>
${headline(result)}
<h2>Latency</h2>
${latencyTable(result)}
<h2>Charts</h2>
<div class="grid">
${charts.map(chartPanel).join('\n')}
</div>
<h2>Audit</h2>
${auditTable(result)}
${inventoryTable(result)}
<h2>Thresholds</h2>
${thresholdTable(result)}
<h2>Failures by kind</h2>
${errorTable(result)}
<h2>Scenario</h2>
<pre>${escapeHtml(JSON.stringify(result.scenario.definition, null, 2))}</pre>
<h2>Environment</h2>
${environmentTable(result)}
<footer>Written by flashsale ${escapeHtml(result.environment.flashsaleVersion)}. result.json beside this page holds every histogram (HdrHistogram, compressed base64), so runs can be merged and compared exactly; the .hgrm files open in HdrHistogram's plotter.</footer>
</main>`;
  return renderPage({ title: `flashsale · ${result.scenario.name}`, body, charts });
}
