// A validated scenario → the LoadPlan the load engine runs (src/contract/load-plan.ts). Durations become
// milliseconds, defaults become explicit, and the target gets concrete request templates.
import { UsageError } from '../errors.ts';
import type { DurationRange, LoadPlan, Matcher, RequestTemplate, Step, TargetSpec } from '../contract/load-plan.ts';
import { builtInRequests } from './builtin-target.ts';
import { durationMs } from '../common/duration.ts';
import type { MatcherInput, RequestTemplateInput, Scenario } from './schema.ts';
import { toArrivalSpec } from '../schedule/index.ts';

export { toArrivalSpec };
import { stepsOf } from '../contract/vocabulary.ts';

export interface ToLoadPlanOptions {
  /** Where the load goes: the built-in service's URL, or an override of the scenario's target URL. */
  targetUrl?: string;
  /** Command-line overrides (--workers, --seed, --duration). */
  workers?: number;
  seed?: number;
  maxDurationMs?: number;
}

function toRange(think: Scenario['buyers']['thinkTime']): DurationRange {
  if (typeof think === 'object') return { minMs: durationMs(think.min), maxMs: durationMs(think.max) };
  const ms = durationMs(think);
  return { minMs: ms, maxMs: ms };
}

function toMatcher(m: MatcherInput): Matcher {
  if ('status' in m) return { status: Array.isArray(m.status) ? [...m.status] : [m.status] };
  return { jsonField: m.jsonField, equals: m.equals };
}

/** ${qty} is a constant of the plan: substitute it now; a string that is only "${qty}" becomes the number. */
function bakeQty(value: unknown, qty: number): unknown {
  if (typeof value === 'string') return value === '${qty}' ? qty : value.replaceAll('${qty}', String(qty));
  if (Array.isArray(value)) return value.map((v) => bakeQty(v, qty));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bakeQty(v, qty)]));
  }
  return value;
}

function toTemplate(t: RequestTemplateInput, qty: number): RequestTemplate {
  const body: RequestTemplate['body'] =
    t.json !== undefined
      ? { json: bakeQty(t.json, qty) }
      : t.form !== undefined
        ? { form: bakeQty(t.form, qty) as Record<string, string> } // bakeQty keeps the shape: a record of strings stays one
        : null;
  const headers = bakeQty(t.headers, qty) as Record<string, string>; // bakeQty keeps the shape: a record of strings stays one
  if (body && 'json' in body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  if (body && 'form' in body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  return {
    method: t.method,
    path: bakeQty(t.path, qty) as string, // bakeQty keeps the shape: a string stays a string
    headers,
    body,
    success: toMatcher(t.success),
    soldOut: toMatcher(t.soldOut),
    captureId: t.captureId ?? null,
  };
}

export function toTargetSpec(s: Scenario, targetUrl: string | undefined): TargetSpec {
  const steps = stepsOf(s.buyers.journey);
  const url = targetUrl ?? (s.target === 'built-in' ? undefined : s.target.url);
  if (url === undefined) throw new UsageError('the scenario targets the built-in service: give its URL (targetUrl)');
  // The built-in service, or a target with no templates: the built-in API's routes.
  if (s.target === 'built-in' || s.target.requests === undefined) {
    const all = builtInRequests(s.buyers.qty);
    return { url, requests: Object.fromEntries(steps.map((st) => [st, all[st]])) as Partial<Record<Step, RequestTemplate>> }; // fromEntries loses the key type; the keys are steps
  }
  const requests: Partial<Record<Step, RequestTemplate>> = {};
  for (const st of steps) {
    const t = s.target.requests[st];
    if (t) requests[st] = toTemplate(t, s.buyers.qty);
  }
  return { url, requests };
}

function skuWeights(s: Scenario): number[] {
  return s.buyers.skuWeights ? [...s.buyers.skuWeights] : s.sale.skus.map((sku) => sku.stock);
}

export function toLoadPlan(s: Scenario, options: ToLoadPlanOptions = {}): LoadPlan {
  const b = s.buyers;
  const target = toTargetSpec(s, options.targetUrl);
  return {
    target,
    arrival: toArrivalSpec(b.arrival),
    journey: {
      type: b.journey,
      qty: b.qty,
      thinkTime: toRange(b.thinkTime),
      retries: { max: b.retries.max, baseMs: durationMs(b.retries.baseDelay), maxMs: durationMs(b.retries.maxDelay) },
      timeoutMs: durationMs(b.timeout),
      bots: { share: b.bots.share, retries: b.bots.retries, accounts: b.bots.accounts },
    },
    buyers: { population: b.population, userPrefix: b.userPrefix },
    skus: { ids: s.sale.skus.map((sku) => sku.id), weights: skuWeights(s) },
    caps: {
      maxDurationMs: options.maxDurationMs ?? durationMs(s.load.maxDuration),
      maxRequests: s.load.maxRequests,
      gracefulStopMs: durationMs(s.load.gracefulStop),
    },
    workers: options.workers ?? s.load.workers,
    connections: s.load.connections,
    seed: options.seed ?? s.load.seed,
    stopOnSellOut: s.load.stopOnSellOut,
    transport: transportFor(s, target.url),
    warmup: s.load.warmup === false ? null : { path: s.load.warmup.path },
  };
}

/** `load.transport` resolved for this target: `auto` is raw only where the raw transport is known to read
 * every answer as undici does (the built-in service over http://); `raw` on https:// is refused here. */
function transportFor(s: Scenario, url: string): 'undici' | 'raw' {
  const http = /^http:\/\//i.test(url);
  // As resolveTransport (src/load/transport/index.ts), which the scenario may not import.
  const t = s.load.transport === 'auto' ? (s.target === 'built-in' && http ? 'raw' : 'undici') : s.load.transport;
  if (t === 'raw' && !http) {
    throw new UsageError(`load.transport: "raw" carries plain http:// only; the target is ${url} (use "undici" or "auto")`);
  }
  return t;
}
