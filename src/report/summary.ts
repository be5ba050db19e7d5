// The end-of-run summary printed to the terminal, in the spirit of k6's: dotted labels, p99 and p99.9
// shown by default, corrected latency beside uncorrected, thresholds and audit checks ✓/✗.
import type { RunResult, ThresholdResult, Verdict } from '../contract/result.ts';
import { count, duration, ms, rate, thresholdValue } from '../common/format.ts';
import { hasCorrectedLatency, percentilesOf, stepPercentiles, type Percentiles } from './latency.ts';
import { faultLines } from './faults-summary.ts';

interface Paint {
  ok: (s: string) => string;
  bad: (s: string) => string;
  /** Neither good nor bad: could not be judged. */
  unsure: (s: string) => string;
  dim: (s: string) => string;
  bold: (s: string) => string;
}

const ansi = (code: number, reset: number) => (s: string) => `\x1b[${code}m${s}\x1b[${reset}m`;
const COLOR: Paint = { ok: ansi(32, 39), bad: ansi(31, 39), unsure: ansi(33, 39), dim: ansi(2, 22), bold: ansi(1, 22) };
const PLAIN: Paint = { ok: (s) => s, bad: (s) => s, unsure: (s) => s, dim: (s) => s, bold: (s) => s };

/** The verdict as the last line of a summary and the HTML report's box say it: mark, word, colour. */
export const VERDICT_WORDS: Record<Verdict['status'], { mark: string; word: string; tone: 'ok' | 'bad' | 'unsure' }> = {
  passed: { mark: '✓', word: 'PASSED', tone: 'ok' },
  thresholds_crossed: { mark: '✗', word: 'FAILED', tone: 'bad' },
  audit_failed: { mark: '✗', word: 'AUDIT FAILED', tone: 'bad' },
  inconclusive: { mark: '?', word: 'INCONCLUSIVE', tone: 'unsure' },
  interrupted: { mark: '■', word: 'INTERRUPTED', tone: 'unsure' },
};

const LABEL_WIDTH = 26;

function line(label: string, value: string, paint: Paint): string {
  return `  ${label}${paint.dim('.'.repeat(Math.max(2, LABEL_WIDTH - label.length)))}: ${value}`;
}

function mark(passed: boolean, paint: Paint): string {
  return passed ? paint.ok('✓') : paint.bad('✗');
}

function byKind(kinds: Record<string, number>): string {
  const entries = Object.entries(kinds).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  return entries.map(([k, n]) => `${k}: ${count(n)}`).join(', ');
}

const COLUMNS = ['p50', 'p90', 'p99', 'p99.9', 'max'] as const;

function latencyCells(p: Percentiles | null): string {
  if (!p) return 'no samples'.padStart(9);
  return [p.p50, p.p90, p.p99, p.p999, p.max].map((v) => ms(v).padStart(9)).join('') + count(p.count).padStart(11);
}

function latencyTable(result: RunResult, paint: Paint): string[] {
  const rows = stepPercentiles(result);
  if (rows.length === 0) return ['  no latency recorded'];
  const out = [paint.dim(`  ${'latency (ms)'.padEnd(24)}${COLUMNS.map((c) => c.padStart(9)).join('')}${'count'.padStart(11)}`)];
  if (!hasCorrectedLatency(result)) {
    for (const r of rows) out.push(`  ${r.step.padEnd(10)}${'uncorrected'.padEnd(14)}${latencyCells(r.uncorrected)}`);
    out.push(paint.dim('  measured by k6, from when each request went out (service time): no corrected latency, so a wait before sending (coordinated omission) is not in it'));
    return out;
  }
  for (const r of rows) {
    out.push(`  ${r.step.padEnd(10)}${'corrected'.padEnd(14)}${latencyCells(r.corrected)}`);
    out.push(`  ${''.padEnd(10)}${paint.dim('uncorrected'.padEnd(14))}${latencyCells(r.uncorrected)}`);
  }
  out.push(paint.dim('  corrected: from when each request should have gone out (what a buyer waits); uncorrected: from when it went out (service time)'));
  return out;
}

/** On the stores, each process in a few words: buying answers (2xx), restarts, deaths, troubles; null beyond 8 processes (too long for a line). */
function processesLine(stores: NonNullable<RunResult['target']['stores']>): string | null {
  const each = stores.perProcess;
  if (!each || each.length === 0 || each.length > 8) return null;
  return each
    .map((p) => {
      let answered = 0;
      let ok = 0;
      for (const l of p.lives) {
        for (const r of [l.served?.checkout, l.served?.reserve, l.served?.pay]) {
          answered += r?.answered ?? 0;
          ok += r?.ok ?? 0;
        }
      }
      const parts = [`#${p.index} ${count(answered)} answered (${count(ok)} ok)`];
      if (p.restartsByFaults > 0) parts.push(`restarted ${p.restartsByFaults}×`);
      const died = p.lives.filter((l) => l.ended?.by === 'unasked').length;
      if (died > 0) parts.push(`died ${died}×`);
      const troubles = p.troubles.filter((t) => t.kind !== 'healthy_again').length;
      if (troubles > 0) parts.push(`${troubles} trouble(s)`);
      return parts.join(', ');
    })
    .join('; ');
}

export function formatSummary(result: RunResult, options: { color?: boolean } = {}): string {
  const paint = options.color ? COLOR : PLAIN;
  const c = result.counts;
  const seconds = result.durationMs / 1000;
  const out: string[] = [];
  const stores = result.target.stores;
  const target = stores
    ? `built-in service, ${stores.processes} process(es) × ${stores.threadsPerProcess} thread(s) on ${stores.stockStore} and ${stores.ledger} (schema ${stores.schema}${stores.kept ? ', kept' : ''})`
    : result.target.builtIn
    ? `built-in service${result.target.serviceThreads ? ` (${result.target.serviceThreads} threads)` : ''}`
    : `${result.target.url} ${paint.dim(result.target.from === 'flag' ? '(from --target)' : "(the scenario's target.url)")}`;

  out.push('', `  ${paint.bold('flashsale')}  ${result.scenario.name}${result.mergedFrom ? paint.dim(`  (merged from ${result.mergedFrom.length} runs)`) : ''}`);
  out.push(line('target', target, paint));
  const each = stores ? processesLine(stores) : null;
  if (each) out.push(line('processes', each, paint));
  out.push(line('run', `${duration(result.durationMs)}, ended: ${result.stopReason.replace('_', ' ')}`, paint));

  if (result.warnings?.length) {
    out.push('');
    for (const w of result.warnings) out.push(`  ${paint.unsure('!')} ${w}`);
  }

  out.push('', paint.bold('  sale'));
  out.push(...saleLines(result, paint));
  out.push(line('successful buyers', `${count(c.buyers.succeeded)} of ${count(c.buyers.started)} started${c.buyers.dropped ? `, ${count(c.buyers.dropped)} dropped` : ''}`, paint));
  out.push(line('sold-out answers', count(c.byOutcome.sold_out), paint));
  out.push(line('rejected answers', count(c.byOutcome.rejected), paint));
  out.push(line('errors', count(c.byOutcome.error), paint));
  // errorsByKind covers refusals too (http_429, http_402): listed apart so the counts add up.
  if (Object.keys(c.errorsByKind).length) out.push(line('failures by kind', byKind(c.errorsByKind), paint));
  if (c.cutByStop) out.push(line('cut by the stop', `${count(c.cutByStop)} ${paint.dim('(in flight when the run stopped: not errors, not timed)')}`, paint));
  out.push(line('retries', count(c.retries), paint));

  out.push('', ...latencyTable(result, paint));

  out.push('', paint.bold('  load'));
  out.push(line('requests sent', `${count(c.requestsSent)}  ${rate(seconds > 0 ? c.requestsSent / seconds : 0)}/s`, paint));
  out.push(line('requests answered', `${count(c.requestsAnswered)}  ${rate(seconds > 0 ? c.requestsAnswered / seconds : 0)}/s`, paint));
  const g = result.generator;
  const lateness = percentilesOf(g.lateness);
  const judgedBy = g.limits && g.lateShare !== undefined ? `, ${(g.lateShare * 100).toFixed(1)}% over ${ms(g.limits.latenessMs)} ms (limit ${(g.limits.lateShare * 100).toFixed(0)}%)` : '';
  const health = `${lateness ? `send lateness p99 ${ms(lateness.p99)} ms${judgedBy}, ` : ''}event-loop delay p99 ${ms(g.eventLoopDelayMs.p99)} ms`;
  if (result.machine) {
    const share = `${Math.round(result.machine.othersCpuShare * 100)}%`;
    out.push(line('machine', `other processes used ${share} of the CPU (${result.machine.cpus} CPUs) during the load${result.target.builtIn ? paint.dim(' (the built-in service shares it)') : ''}`, paint));
  }
  out.push(line('generator', g.generatorBound
    ? `${paint.unsure('?')} generator-bound: ${g.reason ?? 'the generator set the pace'} ${paint.dim(`(${health})`)}`
    : `${mark(true, paint)} kept its schedule ${paint.dim(`(${health})`)}`, paint));

  out.push(...faultLines(result, paint));
  out.push('', paint.bold('  audit'));
  if (!result.audit) out.push(`  ${paint.dim('not run (the target exposes no inventory route)')}`);
  else {
    for (const check of result.audit.checks) {
      const status = check.skipped ? paint.dim('–') : mark(check.passed, paint);
      const offending = check.offendingCount ? ` ${paint.bad(`[${check.offendingCount}: ${check.offending.slice(0, 5).join(', ')}${check.offendingCount > 5 ? ', …' : ''}]`)}` : '';
      out.push(`  ${status} ${check.title}${paint.dim(` — ${check.detail}`)}${offending}`);
    }
  }

  if (result.thresholds.length) {
    out.push('', paint.bold('  thresholds'));
    for (const t of result.thresholds) {
      const actual = t.actual === null ? 'no data' : `actual ${thresholdValue(t.metric, t.actual)}`;
      const source = t.source === 'default' ? `  ${paint.dim('(default)')}` : '';
      const note = t.note ? `  ${paint.unsure(t.note)}` : '';
      out.push(`  ${thresholdMark(t, paint)} ${t.metric}  ${t.expression}  ${paint.dim(actual)}${source}${note}`);
    }
  }

  out.push('', verdictLine(result.verdict, paint), '');
  return out.join('\n');
}

function thresholdMark(t: ThresholdResult, paint: Paint): string {
  return t.status === 'passed' ? paint.ok('✓') : t.status === 'inconclusive' ? paint.unsure('?') : paint.bad('✗');
}

/** The last line: the verdict's word and its reasons, e.g. "? INCONCLUSIVE (exit 4): generator: …". */
export function verdictLine(v: Verdict, options: { color?: boolean } | Paint = {}): string {
  const paint = 'ok' in options ? options : options.color ? COLOR : PLAIN;
  const w = VERDICT_WORDS[v.status];
  const tone = paint[w.tone];
  return `  ${tone(w.mark)} ${paint.bold(tone(w.word))}${v.status === 'passed' ? '' : ` (exit ${v.exitCode})`}${v.reasons.length ? `: ${v.reasons.join('; ')}` : ''}`;
}

/** Units sold, one line per source (the target's inventory, the buyers' acknowledgements, the ledger). */
function saleLines(result: RunResult, paint: Paint): string[] {
  const s = result.stock;
  const out: string[] = [];
  const inv = s.inventory.length > 0;
  const available = s.inventory.reduce((n, i) => n + i.available, 0);
  const reserved = s.inventory.reduce((n, i) => n + i.reserved, 0);
  out.push(line('sell-out time', s.sellOutMs === null
    ? `not sold out (${inv ? `${count(available)} units available${reserved ? `, ${count(reserved)} reserved` : ''}, by the inventory` : `${count(Math.max(0, s.initial - s.acknowledged))} units not acknowledged as sold`})`
    : `${duration(s.sellOutMs)} ${paint.dim('(first request → last unit acknowledged)')}`, paint));
  const over = (n: number) => (n > s.initial ? paint.bad(`  ${count(n - s.initial)} OVER STOCK`) : '');
  out.push(line('stock', count(s.initial), paint));
  if (inv) out.push(line('sold, by the inventory', `${count(s.sold)}${over(s.sold)}`, paint));
  out.push(line('acknowledged to buyers', `${count(s.acknowledged)}${over(s.acknowledged)}`, paint));
  if (s.ledger !== null) out.push(line('in the ledger', `${count(s.ledger)}${over(s.ledger)}`, paint));
  if (s.oversold > 0) out.push(line('oversold', paint.bad(`${count(s.oversold)} units (the worst of the views above)`), paint));
  return out;
}
