// The summary's faults section (docs/faults.md): per fault, what hit when and how it ended, what the
// crowd saw (errors by kind, the outage until the first success after it), and once for the run the
// orders lost and the orders committed that no buyer heard about. A pure function of result.json.
import type { FaultRecordResult, RunResult } from '../contract/result.ts';
import { count } from '../common/format.ts';

/** How the summary paints (summary.ts passes its own). */
export interface FaultPaint {
  ok: (s: string) => string;
  bad: (s: string) => string;
  unsure: (s: string) => string;
  dim: (s: string) => string;
  bold: (s: string) => string;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function range(r: { min: number; max: number } | null | undefined): string | null {
  if (!r) return null;
  return r.min === r.max ? seconds(r.min) : `${seconds(r.min)}–${seconds(r.max)}`;
}

const STATUS_WORDS: Record<FaultRecordResult['status'], string> = {
  healed: 'healed',
  applied: 'applied',
  failed: 'FAILED to inject',
  heal_failed: 'injected, heal FAILED',
  not_reached: 'never hit (the run ended first)',
};

function faultLine(f: FaultRecordResult, paint: FaultPaint): string[] {
  const good = f.status === 'healed' || f.status === 'applied';
  const mark = good ? paint.ok('⚡') : paint.unsure('?');
  const when = f.hitMs === null ? `planned ${seconds(f.plannedMs)}` : `hit ${seconds(f.hitMs)}${f.healedMs !== null ? `, healed ${seconds(f.healedMs)}${f.healedEarly ? ' (early: the run ended)' : ''}` : ''}`;
  const out = [`  ${mark} ${f.description} ${paint.dim(`— ${when}, ${STATUS_WORDS[f.status]}`)}`];
  if (f.problem) out.push(`      ${paint.unsure(f.problem)}`);
  const i = f.impact;
  if (i) {
    const outage = range(i.outageMs);
    const kinds = i.errorsByKind ? Object.entries(i.errorsByKind).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${count(n)}`).join(', ') : '';
    out.push(
      `      ${paint.dim(
        `outage ${outage ?? 'no success after it'}${range(i.recoveryMs) ? ` (recovery ${range(i.recoveryMs)} after it ended)` : ''}; during it ${count(i.completed)} answers, ${count(i.successes)} successes, ${count(i.errors)} errors${kinds ? ` (${kinds})` : ''}${i.retries !== null ? `, ${count(i.retries)} retries` : ''}`,
      )}`,
    );
  }
  return out;
}

/** The faults section: [] for a run without faults. */
export function faultLines(result: RunResult, paint: FaultPaint): string[] {
  const faults = result.faults ?? [];
  if (faults.length === 0) return [];
  const out = ['', paint.bold('  faults')];
  for (const f of faults) out.push(...faultLine(f, paint));
  const audit = result.audit;
  if (audit) {
    const lost = audit.lostOrders > 0 ? paint.bad(`${count(audit.lostOrders)} acknowledged order(s) lost`) : paint.ok('no acknowledged order lost');
    const cut = audit.committedUnacknowledged === undefined ? 'the ledger could not be read' : `${count(audit.committedUnacknowledged)} committed but never acknowledged (the answer was cut; legal)`;
    out.push(`  ${lost}; ${cut}`);
  }
  return out;
}
