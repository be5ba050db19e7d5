// The object `flashsale run --json` prints (issue 5): the headline numbers of a run, latency in ms.
import type { Step } from '../contract/load-plan.ts';
import type { RunResult } from '../contract/result.ts';
import { stepPercentiles, type Percentiles } from './latency.ts';
import { knownLostOrders } from '../audit/audit.ts';

export type LatencyMs = Omit<Percentiles, 'mean'>;

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
  audit: { passed: boolean | null; failed: string[] };
  thresholds: Array<Pick<RunResult['thresholds'][number], 'metric' | 'expression' | 'actual' | 'pass' | 'status' | 'source' | 'note'>>;
  latency: Partial<Record<Step, { corrected: LatencyMs | null; uncorrected: LatencyMs | null }>>;
  verdict: RunResult['verdict'];
  warnings?: string[];
  mergedFrom?: string[];
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
    },
    thresholds: result.thresholds.map((t) => ({ metric: t.metric, expression: t.expression, actual: t.actual, pass: t.pass, status: t.status, source: t.source, note: t.note })),
    latency,
    verdict: result.verdict,
    ...(result.warnings?.length ? { warnings: result.warnings } : {}),
    ...(result.mergedFrom ? { mergedFrom: result.mergedFrom } : {}),
  };
}
