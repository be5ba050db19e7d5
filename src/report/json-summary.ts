// The object `flashsale run --json` prints (issue 5): the headline numbers of a run, latency in ms.
import type { Step } from '../load/plan.ts';
import type { RunResult } from '../result/types.ts';
import { stepPercentiles, type Percentiles } from './latency.ts';

export type LatencyMs = Omit<Percentiles, 'mean'>;

export interface JsonSummary {
  scenario: string;
  stock: number;
  sold: number;
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
  outcomes: RunResult['counts']['byOutcome'];
  errorsByKind: Record<string, number>;
  buyers: RunResult['counts']['buyers'];
  generatorBound: boolean;
  generatorReason: string | null;
  audit: { passed: boolean | null; failed: string[] };
  thresholds: Array<{ metric: string; expression: string; actual: number | null; pass: boolean }>;
  latency: Partial<Record<Step, { corrected: LatencyMs | null; uncorrected: LatencyMs | null }>>;
  verdict: RunResult['verdict'];
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
    stock: result.stock.initial,
    sold: result.stock.sold,
    oversold: result.stock.oversold,
    lostOrders: result.audit ? result.audit.lostOrders : null,
    sellOutMs: result.stock.sellOutMs,
    durationMs: result.durationMs,
    stopReason: result.stopReason,
    requestsSent: result.counts.requestsSent,
    requestsAnswered: result.counts.requestsAnswered,
    requestsPerSecSent: perSec(result.counts.requestsSent),
    requestsPerSecAnswered: perSec(result.counts.requestsAnswered),
    retries: result.counts.retries,
    outcomes: result.counts.byOutcome,
    errorsByKind: result.counts.errorsByKind,
    buyers: result.counts.buyers,
    generatorBound: result.generator.generatorBound,
    generatorReason: result.generator.reason,
    audit: {
      passed: result.audit ? result.audit.passed : null,
      failed: result.audit ? result.audit.checks.filter((c) => !c.passed && !c.skipped).map((c) => c.id) : [],
    },
    thresholds: result.thresholds.map((t) => ({ metric: t.metric, expression: t.expression, actual: t.actual, pass: t.pass })),
    latency,
    verdict: result.verdict,
    ...(result.mergedFrom ? { mergedFrom: result.mergedFrom } : {}),
  };
}
