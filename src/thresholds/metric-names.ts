// The metrics a threshold may name, k6's names where k6 has the metric. Each has a kind (k6's metric
// types decide which aggregations make sense) and the tags it can be filtered by.
import { OUTCOMES, STEPS } from '../contract/vocabulary.ts';

export type MetricKind = 'trend' | 'rate' | 'counter' | 'gauge';
export type TagName = 'step' | 'outcome';

export interface MetricDef {
  kind: MetricKind;
  tags: readonly TagName[];
  description: string;
}

export { OUTCOMES, STEPS };

export const METRICS = {
  http_req_duration: {
    kind: 'trend',
    tags: ['step', 'outcome'],
    description: 'Request latency in ms from the intended send time (coordinated-omission corrected).',
  },
  http_req_duration_uncorrected: {
    kind: 'trend',
    tags: ['step', 'outcome'],
    description: 'Request latency in ms from the actual send (service time; what k6 reports as http_req_duration).',
  },
  http_req_failed: {
    kind: 'rate',
    tags: ['step'],
    description: 'Share of requests whose outcome was an error (5xx, timeout, connection error). Sold out and refusals are answers; requests cut by the run\'s stop are not counted.',
  },
  http_req_rejected: {
    kind: 'rate',
    tags: ['step'],
    description: 'Share of requests the target refused with something other than sold out (4xx: limit, not open, declined, unknown route).',
  },
  checks: {
    kind: 'rate',
    tags: ['step'],
    description: 'Share of requests answered with a definite success or sold-out (not a refusal, not an error).',
  },
  http_reqs: { kind: 'counter', tags: [], description: 'Requests sent, retries included (count; rate per second over the run).' },
  orders: { kind: 'counter', tags: [], description: 'Orders the target acknowledged (buyers who completed their journey; count; rate per second).' },
  dropped_iterations: { kind: 'counter', tags: [], description: 'Buyers scheduled but never started (caps hit or the run stopped).' },
  oversold: { kind: 'counter', tags: [], description: 'Units sold beyond stock, as the audit found them.' },
  lost_orders: { kind: 'counter', tags: [], description: 'Acknowledged orders missing from the ledger, as the audit found them.' },
  sellout_ms: { kind: 'gauge', tags: [], description: 'ms from the first request to the acknowledgement of the last unit; no value if stock remained.' },
} as const satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof METRICS;

/** Other spellings accepted for a metric. */
export const METRIC_ALIASES: Record<string, MetricName> = { sold_out_time: 'sellout_ms' };

export const AGGREGATIONS: Record<MetricKind, readonly string[]> = {
  trend: ['avg', 'min', 'max', 'med', 'p(N)'],
  rate: ['rate'],
  counter: ['count', 'rate'],
  gauge: ['value'],
};
