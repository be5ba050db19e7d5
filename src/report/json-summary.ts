// The object `flashsale run --json` prints (issue 5): the headline numbers of a run, latency in ms.
import type { Step } from '../contract/load-plan.ts';
import type { FaultRecordResult, RunResult } from '../contract/result.ts';
import { stepPercentiles, type Percentiles } from './latency.ts';
import { knownLostOrders } from '../audit/audit.ts';

export type LatencyMs = Omit<Percentiles, 'mean'>;

type MsRange = NonNullable<NonNullable<FaultRecordResult['impact']>['outageMs']>;

/** One fault as the summary's faults section shows it (docs/faults.md), times in ms from the sale's
 * opening. Only what the record holds: the during-it figures are null when no impact was computed. */
export interface JsonFault {
  index: number;
  kind: string;
  description: string;
  spec: FaultRecordResult['spec'];
  status: FaultRecordResult['status'];
  /** false: the run ended before its moment (not_reached). */
  reached: boolean;
  /** Its heal ended (status healed); an applied fault had nothing to undo. */
  healed: boolean;
  healedEarly: boolean;
  problem: string | null;
  plannedMs: number;
  hitMs: number | null;
  healedMs: number | null;
  /** From its hit to the first success after it: how long buyers could not buy (100 ms bucket range). */
  outageMs: MsRange | null;
  /** From its end to the first success after it. */
  recoveryMs: MsRange | null;
  completed: number | null;
  successes: number | null;
  errors: number | null;
  errorsByKind: Record<string, number> | null;
  retries: number | null;
}

export interface JsonSummary {
  scenario: string;
  /** passed | thresholds_crossed | audit_failed | inconclusive | interrupted (also in verdict.status). */
  status: RunResult['verdict']['status'];
  target: { url: string; builtIn: boolean; from: RunResult['target']['from'] };
  stock: number;
  /** Units sold by soldFrom (the inventory when the target has one); acknowledged and ledger are the other views. */
  sold: number;
  soldFrom: RunResult['stock']['soldFrom'];
  acknowledged: number;
  ledger: number | null;
  oversold: number;
  lostOrders: number | null;
  sellOutMs: number | null;
  durationMs: number;
  stopReason: RunResult['stopReason'];
  requestsSent: number;
  requestsAnswered: number;
  requestsPerSecSent: number;
  requestsPerSecAnswered: number;
  retries: number;
  cutByStop: number;
  outcomes: RunResult['counts']['byOutcome'];
  errorsByKind: Record<string, number>;
  buyers: RunResult['counts']['buyers'];
  generatorBound: boolean;
  generatorReason: string | null;
  generatorLateShare: number | null;
  /** Share of the machine's CPU other processes used during the load (null: unknown). */
  machineOthersCpuShare: number | null;
  /** committedUnacknowledged: orders in the ledger no buyer heard about (an answer cut, e.g. by a fault;
   * legal); null when the ledger could not be read. */
  audit: { passed: boolean | null; failed: string[]; committedUnacknowledged: number | null };
  thresholds: Array<Pick<RunResult['thresholds'][number], 'metric' | 'expression' | 'actual' | 'pass' | 'status' | 'source' | 'note'>>;
  latency: Partial<Record<Step, { corrected: LatencyMs | null; uncorrected: LatencyMs | null }>>;
  verdict: RunResult['verdict'];
  warnings?: string[];
  /** Absent when the scenario had no faults. */
  faults?: JsonFault[];
  mergedFrom?: string[];
}

function jsonFault(f: FaultRecordResult): JsonFault {
  const i = f.impact ?? null;
  return {
    index: f.index,
    kind: f.kind,
    description: f.description,
    spec: f.spec,
    status: f.status,
    reached: f.status !== 'not_reached',
    healed: f.status === 'healed',
    healedEarly: f.healedEarly,
    problem: f.problem,
    plannedMs: f.plannedMs,
    hitMs: f.hitMs,
    healedMs: f.healedMs,
    outageMs: i?.outageMs ?? null,
    recoveryMs: i?.recoveryMs ?? null,
    completed: i ? i.completed : null,
    successes: i ? i.successes : null,
    errors: i ? i.errors : null,
    errorsByKind: i?.errorsByKind ?? null,
    retries: i?.retries ?? null,
  };
}

function latencyMs(p: Percentiles | null): LatencyMs | null {
  return p && { p50: p.p50, p90: p.p90, p99: p.p99, p999: p.p999, max: p.max, count: p.count };
}

export function jsonSummary(result: RunResult): JsonSummary {
  const seconds = result.durationMs / 1000;
  const perSec = (n: number) => (seconds > 0 ? Math.round((n / seconds) * 10) / 10 : 0);
  const latency: JsonSummary['latency'] = {};
  for (const row of stepPercentiles(result)) {
    latency[row.step] = { corrected: latencyMs(row.corrected), uncorrected: latencyMs(row.uncorrected) };
  }
  return {
    scenario: result.scenario.name,
    status: result.verdict.status,
    target: { url: result.target.url, builtIn: result.target.builtIn, from: result.target.from },
    stock: result.stock.initial,
    sold: result.stock.sold,
    soldFrom: result.stock.soldFrom,
    acknowledged: result.stock.acknowledged,
    ledger: result.stock.ledger,
    oversold: result.stock.oversold,
    lostOrders: knownLostOrders(result.audit),
    sellOutMs: result.stock.sellOutMs,
    durationMs: result.durationMs,
    stopReason: result.stopReason,
    requestsSent: result.counts.requestsSent,
    requestsAnswered: result.counts.requestsAnswered,
    requestsPerSecSent: perSec(result.counts.requestsSent),
    requestsPerSecAnswered: perSec(result.counts.requestsAnswered),
    retries: result.counts.retries,
    cutByStop: result.counts.cutByStop,
    outcomes: result.counts.byOutcome,
    errorsByKind: result.counts.errorsByKind,
    buyers: result.counts.buyers,
    generatorBound: result.generator.generatorBound,
    generatorReason: result.generator.reason,
    generatorLateShare: result.generator.lateShare ?? null,
    machineOthersCpuShare: result.machine?.othersCpuShare ?? null,
    audit: {
      passed: result.audit ? result.audit.passed : null,
      failed: result.audit ? result.audit.checks.filter((c) => !c.passed && !c.skipped).map((c) => c.id) : [],
      committedUnacknowledged: result.audit?.committedUnacknowledged ?? null,
    },
    thresholds: result.thresholds.map((t) => ({ metric: t.metric, expression: t.expression, actual: t.actual, pass: t.pass, status: t.status, source: t.source, note: t.note })),
    latency,
    verdict: result.verdict,
    ...(result.warnings?.length ? { warnings: result.warnings } : {}),
    ...(result.faults?.length ? { faults: result.faults.map(jsonFault) } : {}),
    ...(result.mergedFrom ? { mergedFrom: result.mergedFrom } : {}),
  };
}
