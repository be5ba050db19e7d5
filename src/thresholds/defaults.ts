// The thresholds every run has unless its scenario says otherwise, so that a run in which the sale did
// not happen never passes: no order acknowledged at all, too many errors (5xx, timeouts, connections
// refused or reset, answers that are not HTTP), or too many refusals (a target answering 404 or 401 to
// everything). A scenario that names a metric in its own thresholds (with any tags) replaces the default
// for that metric; to turn one off, give the metric a threshold that always holds (`rate<=1`).
import type { ThresholdsSpec } from './evaluate.ts';
import { parseMetricKey } from './parse.ts';
import type { MetricName } from './metric-names.ts';

export const DEFAULT_THRESHOLDS = {
  orders: ['count>0'],
  http_req_failed: ['rate<0.05'],
  http_req_rejected: ['rate<0.5'],
} as const satisfies Partial<Record<MetricName, readonly string[]>>;

/** The defaults the scenario's own thresholds leave in force (metrics it does not name). */
export function defaultsFor(spec: ThresholdsSpec): ThresholdsSpec {
  const named = new Set<string>();
  for (const key of Object.keys(spec)) {
    try {
      named.add(parseMetricKey(key).name);
    } catch {
      // A key that does not parse is reported by the scenario's validation; it names no metric here.
    }
  }
  const out: ThresholdsSpec = {};
  for (const [metric, list] of Object.entries(DEFAULT_THRESHOLDS)) if (!named.has(metric)) out[metric] = [...list];
  return out;
}
