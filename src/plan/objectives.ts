// What a plan step must meet: the --slo expressions, or else the scenario's thresholds that a step can
// be judged on, in the thresholds' own k6 syntax and parser. A step is a few seconds of steady load
// on a sale that never sells out, so thresholds about the sale as a whole (sell-out time, oversold,
// lost orders, request and drop counts) do not apply and are listed as ignored, never silently dropped.
import { parseMetricKey, parseThreshold, ThresholdSyntaxError, UsageError, type ThresholdsSpec } from './adapter.ts';

/** Metrics a step's measurements can answer. */
export const STEP_METRICS: readonly string[] = ['http_req_duration', 'http_req_duration_uncorrected', 'http_req_failed', 'checks'];

/** Added when the objectives say nothing about errors: a rate that only "passes" by failing is no rate. */
export const DEFAULT_ERROR_BUDGET = { metric: 'http_req_failed', expression: 'rate<0.01' } as const;

export interface Objective {
  metric: string;
  expression: string;
  source: 'slo' | 'scenario' | 'default';
}

export interface Objectives {
  list: Objective[];
  /** Scenario thresholds a step cannot be judged on, with why. */
  ignored: Array<{ metric: string; expression: string; why: string }>;
  /** In the thresholds evaluator's input format. */
  spec: ThresholdsSpec;
}

/** `--slo "p(99)<200"` (corrected latency, all steps) or `--slo "http_req_failed rate<0.001"`: metric, space, expression. */
export function parseSlo(text: string): Objective {
  const trimmed = text.trim();
  const cut = trimmed.search(/\s+\S+$/);
  const metric = cut < 0 ? 'http_req_duration' : trimmed.slice(0, cut).trim();
  const expression = cut < 0 ? trimmed : trimmed.slice(cut).trim();
  let name: string;
  try {
    name = parseThreshold(metric, expression).metric.name;
  } catch (e) {
    if (e instanceof ThresholdSyntaxError) throw new UsageError(`--slo "${text}": ${e.message}`);
    throw e;
  }
  if (!STEP_METRICS.includes(name)) {
    throw new UsageError(`--slo "${text}": ${name} cannot be judged on a plan step (a step never sells out and has no audit); use one of ${STEP_METRICS.join(', ')}`);
  }
  return { metric, expression, source: 'slo' };
}

/** The metric a threshold key names (aliases resolved); null for a key the parser refuses. */
function metricName(key: string): string | null {
  try {
    return parseMetricKey(key).name;
  } catch {
    return null;
  }
}

export function planObjectives(scenarioThresholds: ThresholdsSpec, slo: readonly string[]): Objectives {
  const list: Objective[] = [];
  const ignored: Objectives['ignored'] = [];
  if (slo.length > 0) {
    for (const s of slo) list.push(parseSlo(s));
  } else {
    for (const [metric, entries] of Object.entries(scenarioThresholds)) {
      const name = metricName(metric);
      for (const entry of entries) {
        const expression = typeof entry === 'string' ? entry : entry.threshold;
        if (name !== null && STEP_METRICS.includes(name)) list.push({ metric, expression, source: 'scenario' });
        else ignored.push({ metric, expression, why: `${name ?? metric} is about the whole sale, not a step of steady load` });
      }
    }
  }
  const namesErrors = list.some((o) => metricName(o.metric) === 'http_req_failed');
  if (!namesErrors) list.push({ ...DEFAULT_ERROR_BUDGET, source: 'default' });
  const spec: ThresholdsSpec = {};
  for (const o of list) (spec[o.metric] ??= []).push(o.expression);
  return { list, ignored, spec };
}
