// `flashsale compare`: two runs side by side, with the change in each figure, as rows that the
// terminal table and the HTML page both render.
import type { RunResult } from '../contract/result.ts';
import { STEPS } from '../contract/vocabulary.ts';
import { count, duration, ms, percent, rate, signed } from '../common/format.ts';
import { hasCorrectedLatency, percentilesOf, type Percentiles } from './latency.ts';
import { VERDICT_WORDS } from './summary.ts';

export type Unit = 'ms' | 'duration' | 'count' | 'rate';

export interface NumberRow {
  kind: 'number';
  /** Stable id, used as data-value in the HTML page. */
  key: string;
  group: string;
  label: string;
  unit: Unit;
  a: number | null;
  b: number | null;
  /** true: a fall is an improvement; false: a rise is; null: neither. */
  lowerIsBetter: boolean | null;
}

export interface TextRow {
  kind: 'text';
  key: string;
  group: string;
  label: string;
  a: string;
  b: string;
}

export type CompareRow = NumberRow | TextRow;

export function render(unit: Unit, v: number): string {
  switch (unit) {
    case 'ms':
      return `${ms(v)} ms`;
    case 'duration':
      return duration(v);
    case 'rate':
      return `${rate(v)}/s`;
    default:
      return count(v);
  }
}

export function change(row: NumberRow): { abs: number | null; pct: number | null } {
  if (row.a === null || row.b === null) return { abs: null, pct: null };
  return { abs: row.b - row.a, pct: row.a === 0 ? null : (row.b - row.a) / Math.abs(row.a) };
}

/** Changes smaller than this share of A are run-to-run noise, not worth a colour. */
export const NOISE = 0.01;

/** 'better' | 'worse' | 'same' (within NOISE) | null (no direction, a side without data, or runs whose
 * figures cannot be compared as the target's: `comparable` false, see unjudgedNote). */
export function judgement(row: NumberRow, comparable = true): 'better' | 'worse' | 'same' | null {
  const { abs, pct } = change(row);
  if (!comparable || abs === null || row.lowerIsBetter === null) return null;
  if (abs === 0 || (pct !== null && Math.abs(pct) < NOISE)) return 'same';
  return (abs < 0) === row.lowerIsBetter ? 'better' : 'worse';
}

export function formatChange(row: NumberRow): { abs: string; pct: string } {
  const { abs, pct } = change(row);
  return {
    abs: abs === null ? '–' : signed(abs, (v) => render(row.unit === 'duration' ? 'ms' : row.unit, v)),
    pct: pct === null ? '–' : signed(pct, percent),
  };
}

function perSec(r: RunResult, n: number): number | null {
  return r.durationMs > 0 ? n / (r.durationMs / 1000) : null;
}

const PCTS: Array<[keyof Percentiles, string]> = [['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99'], ['p999', 'p99.9'], ['max', 'max']];

/** A step's latency percentiles of one kind; none of a kind the result lacks (hasCorrectedLatency). */
function latencyOf(r: RunResult, step: (typeof STEPS)[number], kind: 'corrected' | 'uncorrected'): Percentiles | null {
  if (kind === 'corrected' && !hasCorrectedLatency(r)) return null;
  return percentilesOf(r.latency[step]?.all[kind] ?? '');
}

export function compareRows(a: RunResult, b: RunResult): CompareRow[] {
  const rows: CompareRow[] = [];
  const num = (key: string, group: string, label: string, unit: Unit, pick: (r: RunResult) => number | null, lowerIsBetter: boolean | null) =>
    rows.push({ kind: 'number', key, group, label, unit, a: pick(a), b: pick(b), lowerIsBetter });
  const text = (key: string, group: string, label: string, pick: (r: RunResult) => string) => rows.push({ kind: 'text', key, group, label, a: pick(a), b: pick(b) });

  text('scenario', 'run', 'scenario', (r) => r.scenario.name);
  text('target', 'run', 'target', (r) => (r.target.builtIn ? `built-in (${r.target.serviceThreads ?? '?'} threads)` : r.target.url));
  text('engine', 'run', 'load generator', (r) => (r.engine === 'k6' ? 'k6 (uncorrected latency only)' : 'flashsale'));
  num('durationMs', 'run', 'run time', 'duration', (r) => r.durationMs, null);

  num('sellOutMs', 'sale', 'sell-out time', 'duration', (r) => r.stock.sellOutMs, true);
  num('stock', 'sale', 'stock', 'count', (r) => r.stock.initial, null);
  num('sold', 'sale', 'units sold', 'count', (r) => r.stock.sold, false);
  num('oversold', 'sale', 'oversold', 'count', (r) => r.stock.oversold, true);
  num('buyers.succeeded', 'sale', 'successful buyers', 'count', (r) => r.counts.buyers.succeeded, false);
  num('soldOutAnswers', 'sale', 'sold-out answers', 'count', (r) => r.counts.byOutcome.sold_out, null);
  num('errors', 'sale', 'errors', 'count', (r) => r.counts.byOutcome.error, true);
  num('retries', 'sale', 'retries', 'count', (r) => r.counts.retries, true);

  num('rate.sent', 'throughput', 'requests sent', 'rate', (r) => perSec(r, r.counts.requestsSent), null);
  num('rate.answered', 'throughput', 'requests answered', 'rate', (r) => perSec(r, r.counts.requestsAnswered), false);
  num('rate.successful', 'throughput', 'successful answers', 'rate', (r) => perSec(r, r.counts.byOutcome.success), false);

  for (const step of STEPS.filter((s) => a.latency[s] || b.latency[s])) {
    for (const kind of ['corrected', 'uncorrected'] as const) {
      const pa = latencyOf(a, step, kind);
      const pb = latencyOf(b, step, kind);
      for (const [k, label] of PCTS) {
        rows.push({ kind: 'number', key: `latency.${step}.${kind}.${k}`, group: `${step} latency, ${kind}`, label, unit: 'ms', a: pa ? pa[k] : null, b: pb ? pb[k] : null, lowerIsBetter: true });
      }
    }
  }

  num('generator.lateness.p99', 'generator', 'send lateness p99', 'ms', (r) => percentilesOf(r.generator.lateness)?.p99 ?? null, true);
  text('generator', 'generator', 'kept schedule', (r) => (r.generator.generatorBound ? `no: ${r.generator.reason ?? 'generator-bound'}` : 'yes'));

  text('audit', 'verdict', 'audit', (r) => (r.audit === null ? 'not run' : r.audit.passed ? '✓ passed' : `✗ failed (${r.audit.checks.filter((c) => !c.passed && !c.skipped).map((c) => c.id).join(', ')})`));
  text('thresholds', 'verdict', 'thresholds', (r) => (r.thresholds.length ? `${r.thresholds.every((t) => t.pass) ? '✓' : '✗'} ${r.thresholds.filter((t) => t.pass).length} of ${r.thresholds.length} passed` : 'none'));
  text('verdict', 'verdict', 'verdict', verdictText);
  return rows;
}

/** "✓ passed", "? inconclusive (exit 4)", … as the summary's last line words it. */
export function verdictText(r: RunResult): string {
  const w = VERDICT_WORDS[r.verdict.status];
  return `${w.mark} ${w.word.toLowerCase()}${r.verdict.status === 'passed' ? '' : ` (exit ${r.verdict.exitCode})`}`;
}

/**
 * Why the changes between two runs cannot be read as the target getting better or worse, or null when
 * they can: an inconclusive run's figures are partly its generator's, an interrupted run's are partial.
 */
export function unjudgedNote(a: RunResult, b: RunResult): string | null {
  const why = (r: RunResult, name: string): string | null =>
    r.verdict.status === 'inconclusive'
      ? `${name} is inconclusive (its load generator could not keep its schedule, so its figures are partly the generator's)`
      : r.verdict.status === 'interrupted'
        ? `${name} was interrupted (its figures cover only part of the sale)`
        : null;
  const notes = [why(a, 'A'), why(b, 'B')].filter((n): n is string => n !== null);
  return notes.length ? `${notes.join('; ')}: changes are shown but not marked better or worse.` : null;
}
