// Checks a LoadPlan before any thread starts, naming every bad field at once. The scenario layer
// validates user input; this guards the engine against plans built in code (tests, merge, the API).
import { LoadPlanError, messageOf } from '../errors.ts';
import { arrivalShape } from '../schedule/index.ts';
import { compileClassifier } from './classify.ts';
import type { LoadPlan } from '../contract/load-plan.ts';
import { stepsOf, type Step } from '../contract/vocabulary.ts';
import { compileTemplate } from './template.ts';

export function journeySteps(plan: Pick<LoadPlan, 'journey'>): Step[] {
  return stepsOf(plan.journey.type);
}

const wholeAtLeast = (issues: string[], name: string, v: number, min: number) => {
  if (!Number.isInteger(v) || v < min) issues.push(`${name} must be a whole number ≥ ${min} (got ${v})`);
};
const numberAtLeast = (issues: string[], name: string, v: number, min: number) => {
  if (typeof v !== 'number' || !(v >= min)) issues.push(`${name} must be a number ≥ ${min} (got ${v})`);
};

export function validatePlan(plan: LoadPlan): void {
  const issues: string[] = [];
  try {
    const url = new URL(plan.target.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') issues.push(`target.url must be http or https (got ${plan.target.url})`);
  } catch {
    issues.push(`target.url is not a URL (got ${plan.target?.url})`);
  }
  if (plan.journey?.type !== 'checkout' && plan.journey?.type !== 'reserve-pay') {
    issues.push(`journey.type must be checkout or reserve-pay (got ${plan.journey?.type})`);
  } else {
    for (const step of journeySteps(plan)) {
      const t = plan.target.requests?.[step];
      if (!t) {
        issues.push(`target.requests.${step} is missing (the ${plan.journey.type} journey needs it)`);
        continue;
      }
      try {
        compileTemplate(t, `target.requests.${step}`);
        compileClassifier(t, `target.requests.${step}`);
      } catch (e) {
        issues.push(messageOf(e));
      }
    }
    wholeAtLeast(issues, 'journey.qty', plan.journey.qty, 1);
    numberAtLeast(issues, 'journey.thinkTime.minMs', plan.journey.thinkTime.minMs, 0);
    numberAtLeast(issues, 'journey.thinkTime.maxMs', plan.journey.thinkTime.maxMs, plan.journey.thinkTime.minMs);
    wholeAtLeast(issues, 'journey.retries.max', plan.journey.retries.max, 0);
    numberAtLeast(issues, 'journey.retries.baseMs', plan.journey.retries.baseMs, 0);
    numberAtLeast(issues, 'journey.retries.maxMs', plan.journey.retries.maxMs, 0);
    numberAtLeast(issues, 'journey.timeoutMs', plan.journey.timeoutMs, 1);
    if (!(plan.journey.bots.share >= 0 && plan.journey.bots.share <= 1)) issues.push(`journey.bots.share must be between 0 and 1 (got ${plan.journey.bots.share})`);
    wholeAtLeast(issues, 'journey.bots.retries', plan.journey.bots.retries, 0);
    wholeAtLeast(issues, 'journey.bots.accounts', plan.journey.bots.accounts, 1);
  }
  wholeAtLeast(issues, 'buyers.population', plan.buyers?.population, 1);
  if (!plan.skus?.ids?.length) issues.push('skus.ids must list at least one SKU');
  else if (plan.skus.weights?.length !== plan.skus.ids.length) issues.push(`skus.weights must have one weight per SKU (${plan.skus.ids.length})`);
  else if (plan.skus.weights.some((w) => !(w >= 0)) || !(plan.skus.weights.reduce((a, b) => a + b, 0) > 0)) issues.push('skus.weights must be ≥ 0 and not all 0');
  numberAtLeast(issues, 'caps.maxDurationMs', plan.caps?.maxDurationMs, 1);
  wholeAtLeast(issues, 'caps.maxRequests', plan.caps?.maxRequests, 1);
  numberAtLeast(issues, 'caps.gracefulStopMs', plan.caps?.gracefulStopMs, 0);
  wholeAtLeast(issues, 'workers', plan.workers, 1);
  wholeAtLeast(issues, 'connections', plan.connections, 1);
  if (!Number.isInteger(plan.seed)) issues.push(`seed must be a whole number (got ${plan.seed})`);
  if (plan.transport !== undefined && plan.transport !== 'undici' && plan.transport !== 'raw') issues.push(`transport must be "undici" or "raw" (got ${String(plan.transport)})`);
  else if (plan.transport === 'raw' && !plan.target?.url?.startsWith('http://')) issues.push(`transport "raw" carries plain http:// only (target.url is ${plan.target?.url})`);
  if (plan.warmup != null && !(typeof plan.warmup.path === 'string' && plan.warmup.path.startsWith('/'))) issues.push('warmup.path must start with "/"');
  try {
    issues.push(...arrivalShape(plan.arrival).validate(plan.arrival));
  } catch (e) {
    issues.push(messageOf(e));
  }
  if (issues.length) throw new LoadPlanError(issues);
}
