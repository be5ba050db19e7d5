// What a run (or a merge of runs) concludes from its audit and thresholds, and when its stock ran out:
// one definition for `flashsale run` and `flashsale merge`.
import { EXIT } from '../errors.ts';
import { describeCrossed } from '../thresholds/index.ts';
import type { AuditResult, RunResult, ThresholdResult } from './types.ts';

/** Exit 3 when the audit failed (it outranks thresholds), 99 when a threshold was crossed, else 0. */
export function verdictOf(audit: AuditResult | null, thresholds: ThresholdResult[]): RunResult['verdict'] {
  const reasons: string[] = [];
  if (audit && !audit.passed) {
    for (const c of audit.checks) if (!c.passed && !c.skipped) reasons.push(`audit: ${c.title}: ${c.detail}`);
  }
  const crossed = describeCrossed(thresholds);
  reasons.push(...crossed.map((c) => `threshold: ${c}`));
  const exitCode = audit && !audit.passed ? EXIT.auditFailed : crossed.length > 0 ? EXIT.thresholdsCrossed : EXIT.ok;
  return { passed: exitCode === EXIT.ok, exitCode, reasons };
}

/** First request to the acknowledgement of the unit that emptied the stock; null if stock remained. */
export function sellOutMs(load: { firstSendMs: number | null; lastAckMs: number | null }, sold: number, initial: number): number | null {
  if (sold < initial || load.firstSendMs === null || load.lastAckMs === null) return null;
  return load.lastAckMs - load.firstSendMs;
}
