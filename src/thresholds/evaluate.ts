// Evaluates a scenario's thresholds against a finished run. One ThresholdResult per expression.
// No data for a threshold (a sale that never sold out, a step that never ran) is a failure:
// a threshold that cannot be checked has not been met.
import type { ThresholdResult } from '../contract/result.ts';
import { compare, parseThreshold } from './parse.ts';
import { observedValue } from './values.ts';
import type { ThresholdInputs } from './values.ts';

/** k6's thresholds object: each metric key maps to expressions or {threshold, abortOnFail}. */
export type ThresholdsSpec = Record<string, Array<string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string | number }>>;

export function evaluateThresholds(spec: ThresholdsSpec, run: ThresholdInputs, source: ThresholdResult['source'] = 'scenario'): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  for (const [key, list] of Object.entries(spec)) {
    for (const entry of list) {
      const expression = typeof entry === 'string' ? entry : entry.threshold;
      const abortOnFail = typeof entry === 'string' ? false : entry.abortOnFail === true;
      const parsed = parseThreshold(key, expression);
      const actual = observedValue(run, parsed.metric, parsed.expression.aggregation);
      const pass = actual !== null && compare(actual, parsed.expression.operator, parsed.expression.value);
      results.push({ metric: key, expression, actual, pass, abortOnFail, source, status: pass ? 'passed' : 'crossed', note: null });
    }
  }
  return results;
}

/** One line for a threshold that did not pass: what, what was observed, and whose default it is. */
export function describeThreshold(r: ThresholdResult): string {
  const observed = r.actual === null ? 'no data' : `observed ${Number(r.actual.toPrecision(6))}`;
  return `${r.metric} ${r.expression}${r.source === 'default' ? ' (default)' : ''}: ${observed}${r.note ? ` — ${r.note}` : ''}`;
}

/** Exit code 99 material: the crossed thresholds, one line each. */
export function describeCrossed(results: readonly ThresholdResult[]): string[] {
  return results.filter((r) => r.status === 'crossed').map(describeThreshold);
}
