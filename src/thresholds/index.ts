// Thresholds in k6's syntax, evaluated against a flashsale run.
export { evaluateThresholds, describeCrossed, describeThreshold } from './evaluate.ts';
export { DEFAULT_THRESHOLDS, defaultsFor } from './defaults.ts';
export type { ThresholdsSpec } from './evaluate.ts';
export { parseThreshold, parseMetricKey, parseExpression } from './parse.ts';
export type { MetricKey, Expression, Aggregation, Operator } from './parse.ts';
export { METRICS, METRIC_ALIASES } from './metric-names.ts';
export type { ThresholdInputs } from './values.ts';
