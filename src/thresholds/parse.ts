// Parses k6 threshold syntax: a metric key (`http_req_duration{step:reserve}`) and expressions
// (`p(99)<250`, `rate>0.99`, `count==0`). Anything it does not understand is an error naming it:
// a threshold that silently never fires is worse than none.
import { AGGREGATIONS, METRIC_ALIASES, METRICS, OUTCOMES, STEPS } from './metric-names.ts';
import type { MetricName, TagName } from './metric-names.ts';
import { ThresholdSyntaxError } from '../errors.ts';

export type Operator = '<' | '<=' | '>' | '>=' | '==' | '===' | '!=';
export type Aggregation = { kind: 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value' } | { kind: 'percentile'; p: number };

export interface MetricKey {
  /** As written, e.g. 'http_req_duration{step:reserve}'. */
  source: string;
  name: MetricName;
  tags: Partial<Record<TagName, string>>;
}

export interface Expression {
  source: string;
  aggregation: Aggregation;
  operator: Operator;
  value: number;
}

const KEY_RE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\{([^}]*)\})?\s*$/;

export function parseMetricKey(source: string): MetricKey {
  const m = KEY_RE.exec(source);
  if (!m) throw new ThresholdSyntaxError(`"${source}" is not a metric name with optional {tag:value} filters`);
  const written = m[1];
  // Own keys only: "constructor{…}" or "toString" must be unknown metrics, not Object.prototype's.
  const name = (Object.hasOwn(METRIC_ALIASES, written) ? METRIC_ALIASES[written] : written) as MetricName;
  const def = Object.hasOwn(METRICS, name) ? METRICS[name] : undefined;
  if (!def) throw new ThresholdSyntaxError(`unknown metric "${written}" (known: ${[...Object.keys(METRICS), ...Object.keys(METRIC_ALIASES)].join(', ')})`);
  const tags: Partial<Record<TagName, string>> = {};
  if (m[2] !== undefined && m[2].trim() !== '') {
    for (const part of m[2].split(',')) {
      const [tag, value, ...rest] = part.split(':').map((s) => s.trim());
      if (!tag || value === undefined || value === '' || rest.length > 0) throw new ThresholdSyntaxError(`"${part.trim()}" in "${source}" is not tag:value`);
      if (!(def.tags as readonly string[]).includes(tag)) { // includes() on a literal tuple takes only its members; any string may be asked
        throw new ThresholdSyntaxError(`${written} has no tag "${tag}"${def.tags.length ? ` (tags: ${def.tags.join(', ')})` : ' (it takes no tags)'}`);
      }
      const allowed: readonly string[] = tag === 'step' ? STEPS : OUTCOMES;
      if (!allowed.includes(value)) throw new ThresholdSyntaxError(`${tag} "${value}" in "${source}" is not one of ${allowed.join(', ')}`);
      // {step:pay,step:reserve} cannot match anything: one value per tag, said rather than last-one-wins.
      if (tags[tag as TagName] !== undefined) throw new ThresholdSyntaxError(`tag "${tag}" is given twice in "${source}"`);
      tags[tag as TagName] = value; // checked against the metric's tags just above
    }
  }
  return { source, name, tags };
}

const EXPR_RE = /^\s*(avg|min|max|med|count|rate|value|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(===|==|!=|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/;

export function parseExpression(source: string): Expression {
  const m = EXPR_RE.exec(source);
  if (!m) throw new ThresholdSyntaxError(`"${source}" is not a threshold expression (examples: p(99)<250, avg<200, rate>0.99, count==0)`);
  let aggregation: Aggregation;
  if (m[2] !== undefined) {
    const p = Number(m[2]);
    if (p < 0 || p > 100) throw new ThresholdSyntaxError(`percentile ${m[2]} in "${source}" is not between 0 and 100`);
    aggregation = { kind: 'percentile', p };
  } else {
    aggregation = { kind: m[1] as Exclude<Aggregation, { kind: 'percentile' }>['kind'] }; // the pattern matched one of these aggregations
  }
  return { source, aggregation, operator: m[3] as Operator, value: Number(m[4]) }; // the pattern matched one of these operators
}

/** Parses a metric key and one expression and checks the aggregation fits the metric's kind. */
export function parseThreshold(key: string, expression: string): { metric: MetricKey; expression: Expression } {
  const metric = parseMetricKey(key);
  const expr = parseExpression(expression);
  const kind = METRICS[metric.name].kind;
  const agg = expr.aggregation.kind === 'percentile' ? 'p(N)' : expr.aggregation.kind;
  if (!AGGREGATIONS[kind].includes(agg)) {
    throw new ThresholdSyntaxError(`"${expression}": ${metric.name} is a ${kind}; it takes ${AGGREGATIONS[kind].join(', ')}`);
  }
  return { metric, expression: expr };
}

export function compare(actual: number, operator: Operator, value: number): boolean {
  switch (operator) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
    case '===':
      return actual === value;
    case '!=':
      return actual !== value;
  }
}
