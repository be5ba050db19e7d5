// The terminal view of a plan: one line per step as it is measured, then the table of every step,
// the answer, the knee, and the USL fit when there are levels.
import { count, ms, rate } from './adapter.ts';
import type { MeasuredStep } from './judge.ts';
import type { LevelReport, PlanReport } from './report-types.ts';
import type { UslFit } from './usl.ts';

const VERDICT = { pass: '✓ pass', fail: '✗ fail', inconclusive: '? inconclusive' } as const;

function pad(text: string, width: number, left = false): string {
  return left ? text.padEnd(width) : text.padStart(width);
}

function lat(v: number | undefined): string {
  return v === undefined ? '–' : ms(v);
}

/** One line for a step just measured (progress on stderr). */
export function stepLine(s: MeasuredStep): string {
  const c = s.latency.corrected;
  const why = s.verdict === 'pass' ? '' : `: ${s.reasons.join('; ')}`;
  return `step ${s.index + 1}${s.level !== null ? ` (level ${s.level})` : ''}: ${rate(s.offeredRate)}/s offered, ${rate(s.achievedRate)}/s answered, p99 ${lat(c?.p99)} ms → ${s.verdict}${why}`;
}

const HEAD = ['step', 'offered/s', 'achieved/s', 'p50', 'p99', 'p50 unc.', 'p99 unc.', 'errors', 'verdict'];
const WIDTHS = [5, 11, 11, 8, 8, 9, 9, 8, 0];

function stepRow(s: MeasuredStep): string {
  const c = s.latency.corrected;
  const u = s.latency.uncorrected;
  const cells = [
    String(s.index + 1) + (s.retry ? 'r' : ''),
    rate(s.offeredRate),
    rate(s.achievedRate),
    lat(c?.p50),
    lat(c?.p99),
    lat(u?.p50),
    lat(u?.p99),
    count(s.errors),
    VERDICT[s.verdict],
  ];
  return '  ' + cells.map((t, i) => (WIDTHS[i] ? pad(t, WIDTHS[i]) : ` ${t}`)).join(' ');
}

function levelText(l: LevelReport, precision: number): string[] {
  const lines: string[] = [];
  lines.push('  ' + HEAD.map((t, i) => (WIDTHS[i] ? pad(t, WIDTHS[i]) : ` ${t}`)).join(' '));
  lines.push('  ' + ' '.repeat(5) + ' '.repeat(25) + 'latency in ms: corrected (from the intended send), then uncorrected');
  for (const s of l.steps) lines.push(stepRow(s));
  lines.push('');
  const bracket = l.stoppedBy === 'precision' ? ` (±${(precision * 100).toFixed(0)}%)` : '';
  lines.push(`  sustainable rate.....: ${l.message}${bracket}`);
  if (l.advice) lines.push(`  ${' '.repeat(21)}  ${l.advice}`);
  lines.push(
    l.knee
      ? `  knee.................: ${rate(l.knee.rate)}/s (p99 ${ms(l.knee.p99Ms)} ms); from ${rate(l.knee.climbedAt)}/s the p99 stays above 2× its low-load ${ms(l.knee.baselineP99Ms)} ms (${ms(l.knee.climbedP99Ms)} ms)`
      : '  knee.................: none seen: the corrected p99 never stayed above 2× its low-load value',
  );
  return lines;
}

function uslText(fit: UslFit, unit: string): string[] {
  const lines = [
    `  USL fit..............: σ ${fit.sigma.toFixed(4)} (contention), κ ${fit.kappa.toExponential(2)} (coherency), λ ${rate(fit.lambda)}/s per ${unit}`,
    `  fit error............: ${rate(fit.rmse)}/s RMS (${(fit.relativeError * 100).toFixed(1)}% of the mean)${fit.r2 === null ? '' : `, R² ${fit.r2.toFixed(3)}`}`,
    fit.peak
      ? `  predicted peak.......: ${rate(fit.peak.x)}/s at N* = ${fit.peak.n.toFixed(1)} ${unit}s; past it, adding ${unit}s lowers throughput`
      : '  predicted peak.......: none (κ = 0): throughput keeps rising, each addition paying less',
  ];
  for (const w of fit.warnings) lines.push(`  warning..............: ${w}`);
  return lines;
}

export function formatPlan(report: PlanReport): string {
  const lines: string[] = [];
  const t = report.target;
  const threads = t.serviceThreads?.length ? ` (${t.serviceThreads.join(', ')} thread${t.serviceThreads.join() === '1' ? '' : 's'})` : '';
  const where = t.builtIn ? `built-in service${threads}` : t.urls.join(', ');
  lines.push(`  plan: ${report.scenario.name} → ${where}`);
  lines.push(`  objectives...........: ${report.objectives.list.map((o) => `${o.metric} ${o.expression} (${o.source})`).join(', ')}; and keep up with the offered rate`);
  for (const i of report.objectives.ignored) lines.push(`  not judged per step..: ${i.metric} ${i.expression} (${i.why})`);
  for (const l of report.levels) {
    lines.push('');
    if (report.scaling !== 'none') lines.push(`  ${l.label}`);
    lines.push(...levelText(l, report.settings.precision));
  }
  if (report.usl) {
    lines.push('');
    lines.push(...uslText(report.usl, report.scaling === 'threads' ? 'thread' : 'instance'));
  }
  return lines.join('\n');
}
