// @ts-check
// Pure scenario → k6 mapping used by flash-sale.js: no k6 imports here, so the same module runs in
// k6 and under vitest. k6 reads the scenario file as written, so this module fills in the same
// defaults as the zod schema (src/scenario/schema.ts); a test keeps the two in step.
//
// What maps exactly and what is approximated is listed in NOTES and printed by the script.
// Shared with the native engine, not copied (so the two engines cannot drift): durations
// (src/common/duration.ts), the scenario's defaults (src/scenario/defaults.ts), each arrival shape's
// defaults and k6 executor (src/schedule/), the target's templates as the engine builds them
// (src/scenario/to-load-plan.ts) and renders them (src/load/template.ts), answer classification
// (src/load/classify.ts), backoff and think times (src/load/waits.ts). Those modules import nothing
// from node:* or npm at run time (test/k6-mapping.test.ts checks it; `npm run typecheck` checks them
// under k6's types). Still k6's own: which buyer a VU plays (hash01/buyerFor: a VU has no per-journey
// random stream like the engine's), the threshold mapping, and NOTES.
import { durationMs, k6Duration } from '../../src/common/duration.ts';
import { shapeOf } from '../../src/schedule/index.ts';
import { builtInRequests } from '../../src/scenario/builtin-target.ts';
import { BUYER_DEFAULTS, LOAD_DEFAULTS, TEMPLATE_DEFAULTS } from '../../src/scenario/defaults.ts';
import { toTargetSpec } from '../../src/scenario/to-load-plan.ts';
import { compileTemplate } from '../../src/load/template.ts';
import { compileClassifier, readPath } from '../../src/load/classify.ts';
import { backoffMs as backoff, thinkWithinMs } from '../../src/load/waits.ts';
import { OUTCOMES } from '../../src/contract/vocabulary.ts';

export { durationMs, k6Duration };
export { flashCrowdArrivedBy, flashCrowdStages } from '../../src/schedule/index.ts';

/**
 * The scenario JSON as this module reads it (validated beforehand by `flashsale k6` / `flashsale scenarios`).
 * @typedef {number | string} Duration
 * @typedef {{ status: number | number[] } | { jsonField: string, equals: string | number | boolean }} Matcher
 * @typedef {{ method?: string, path: string, headers?: Record<string, string>, json?: unknown, form?: Record<string, string>, success: Matcher, soldOut: Matcher, captureId?: string }} Template
 * @typedef {{ executor: string, rate?: number, timeUnit?: Duration, duration?: Duration, startRate?: number,
 *   stages?: Array<{ duration: Duration, target: number }>, registered?: number,
 *   reaction?: { median: Duration, sigma: number }, latecomers?: { count?: number, decay?: Duration }, vus?: number }} Arrival
 * @typedef {{ name: string, sale: { skus: Array<{ id: string, stock: number }>, perUserLimit: number | 'none' },
 *   buyers: { population: number, userPrefix?: string, arrival: Arrival, journey?: 'checkout' | 'reserve-pay', qty?: number,
 *     thinkTime?: Duration | { min: Duration, max: Duration }, retries?: { max?: number, baseDelay?: Duration, maxDelay?: Duration },
 *     timeout?: Duration, bots?: { share?: number, retries?: number, accounts?: number }, skuWeights?: number[] },
 *   load?: { workers?: number, connections?: number, maxDuration?: Duration, maxRequests?: number, gracefulStop?: Duration, seed?: number, stopOnSellOut?: boolean },
 *   target?: 'built-in' | { url: string, requests?: Partial<Record<Step, Template>> },
 *   thresholds?: Record<string, Array<string | { threshold: string, abortOnFail?: boolean, delayAbortEval?: Duration }>> }} ScenarioFile
 * @typedef {'checkout' | 'reserve' | 'pay'} Step
 * @typedef {'success' | 'sold_out' | 'rejected' | 'error'} Outcome
 */

/** k6 can only approximate these; the script prints them at setup so nobody mistakes one engine for the other. */
export const NOTES = [
  'k6 times requests from the moment they are sent: http_req_duration here is the uncorrected service time (no coordinated-omission correction).',
  'flash-crowd arrivals are approximated by ramping-arrival-rate stages following the expected arrival rate; the native engine draws each buyer’s click time.',
  'sellout_ms, oversold and lost_orders need the audit and the sell-out clock of the native engine: those thresholds are left out.',
  'load.maxRequests has no k6 equivalent and is not enforced; stopOnSellOut is per VU (a VU that has seen every SKU sold out skips its remaining iterations).',
];

/**
 * The scenario with the schema's defaults filled in: the same values, from src/scenario/defaults.ts.
 * @param {ScenarioFile} s
 */
export function withDefaults(s) {
  const b = s.buyers;
  // Each arrival shape fills in its own defaults (src/schedule/<executor>.ts, as its zod schema does).
  const arrival = shapeOf(b.arrival).withDefaults(/** @type {import('../../src/schedule/index.ts').ArrivalInput} */ (b.arrival));
  return {
    ...s,
    buyers: {
      ...BUYER_DEFAULTS,
      ...b,
      arrival,
      retries: { ...BUYER_DEFAULTS.retries, ...b.retries },
      bots: { ...BUYER_DEFAULTS.bots, ...b.bots },
    },
    load: { ...LOAD_DEFAULTS, ...s.load },
    // Templates as the schema completes them (method, headers), so the engine's template code reads them.
    target: s.target === undefined || s.target === 'built-in' ? /** @type {'built-in'} */ ('built-in') : withTemplateDefaults(s.target),
    thresholds: s.thresholds ?? {},
  };
}

/** @typedef {ReturnType<typeof withDefaults>} Scenario */

// ---- arrivals -------------------------------------------------------------------------------------

/**
 * The k6 scenario (executor and its parameters) for the scenario's arrival shape: each shape maps
 * itself (src/schedule/<executor>.ts, toK6).
 * @param {Scenario} s
 * @param {{ maxVUs?: number }} [overrides]
 * @returns {import('k6/options').Scenario}
 */
export function toK6Scenario(s, overrides = {}) {
  const a = s.buyers.arrival;
  const preAllocatedVUs = s.load.workers * s.load.connections;
  const think = s.buyers.thinkTime;
  const thinkMaxMs = typeof think === 'object' ? durationMs(think.max) : durationMs(think);
  // An arrival-rate iteration holds a VU for its whole journey: peak rate × (think time + an assumed 250 ms of requests).
  /** @param {number} peakPerSec */
  const vusFor = (peakPerSec) => overrides.maxVUs ?? Math.max(preAllocatedVUs, Math.ceil((peakPerSec * (thinkMaxMs + 250)) / 1000));
  const k6 = { maxDurationMs: durationMs(s.load.maxDuration), gracefulStop: k6Duration(durationMs(s.load.gracefulStop)), preAllocatedVUs, vusFor };
  // The shape's k6 scenario is k6's options.scenarios entry: an executor name and its parameters.
  return /** @type {import('k6/options').Scenario} */ (/** @type {unknown} */ (shapeOf(a).toK6(a, k6)));
}

// ---- thresholds -----------------------------------------------------------------------------------

const DROPPED = /** @type {Record<string, string>} */ ({
  sellout_ms: 'needs the native engine’s sell-out clock',
  sold_out_time: 'needs the native engine’s sell-out clock',
  oversold: 'needs the audit (flashsale run)',
  lost_orders: 'needs the audit (flashsale run)',
  orders: 'counts acknowledged orders, which only the native engine classifies',
  http_req_rejected: 'needs the native engine’s answer classification (k6 counts every 4xx in http_req_failed)',
});

/**
 * Passes the scenario's thresholds to k6, renaming where k6 measures differently:
 * latency split by outcome goes to our own Trend (k6 tags a request before its answer is known).
 * @param {Scenario['thresholds']} thresholds
 */
export function toK6Thresholds(thresholds) {
  /** @type {Record<string, Array<string | { threshold: string, abortOnFail?: boolean, delayAbortEval?: string }>>} */
  const out = {};
  /** @type {string[]} */
  const dropped = [];
  for (const [key, list] of Object.entries(thresholds)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\{([^}]*)\})?\s*$/.exec(key);
    const name = m ? m[1] : key;
    if (name in DROPPED) {
      dropped.push(`${key}: ${DROPPED[name]}`);
      continue;
    }
    const tags = m && m[2] ? m[2].split(',').map((t) => t.trim()).filter((t) => t !== '') : [];
    let k6Name = name;
    if (name === 'http_req_duration' || name === 'http_req_duration_uncorrected') {
      k6Name = tags.some((t) => t.startsWith('outcome:')) ? 'flashsale_req_duration' : 'http_req_duration';
    }
    const k6Key = tags.length > 0 ? `${k6Name}{${tags.join(',')}}` : k6Name;
    const entries = list.map((e) =>
      typeof e === 'string'
        ? e
        : {
            threshold: e.threshold,
            ...(e.abortOnFail !== undefined ? { abortOnFail: e.abortOnFail } : {}),
            ...(e.delayAbortEval !== undefined ? { delayAbortEval: k6Duration(durationMs(e.delayAbortEval)) } : {}),
          },
    );
    out[k6Key] = [...(out[k6Key] ?? []), ...entries];
  }
  return { thresholds: out, dropped };
}

/**
 * k6's options object for a scenario, and what could not be mapped.
 * @param {ScenarioFile} file
 * @param {{ maxVUs?: number }} [overrides]
 * @returns {{ options: import('k6/options').Options, dropped: string[] }}
 */
export function toK6Options(file, overrides = {}) {
  const s = withDefaults(file);
  const { thresholds, dropped } = toK6Thresholds(s.thresholds);
  return {
    options: {
      scenarios: { [s.name]: toK6Scenario(s, overrides) },
      thresholds,
      // p(99) and p(99.9) are what a flash sale is judged by; k6 shows p(90)/p(95) by default.
      summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(99)', 'p(99.9)', 'max'],
    },
    dropped,
  };
}

// ---- buyers and requests --------------------------------------------------------------------------

/**
 * A deterministic number in [0, 1) from the seed, a buyer and a purpose: the same buyer gets the
 * same SKU and bot role on every machine of a distributed run.
 * @param {number} seed @param {number} n @param {number} salt
 */
export function hash01(seed, n, salt) {
  let h = (seed ^ Math.imul(n + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** @param {number[]} weights @param {number} u in [0, 1) */
export function pickWeighted(weights, u) {
  const total = weights.reduce((a, w) => a + w, 0);
  let x = u * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i];
    if (x < 0) return i;
  }
  return weights.length - 1;
}

/**
 * Who buyer `n` is: account, SKU, bot or not.
 * @param {Scenario} s @param {number} n
 */
export function buyerFor(s, n) {
  const seed = s.load.seed;
  const weights = s.buyers.skuWeights ?? s.sale.skus.map((k) => k.stock);
  const bot = hash01(seed, n, 1) < s.buyers.bots.share;
  return {
    bot,
    /** @param {number} account the bot's nth account (0 for humans) */
    userId: (account) => `${s.buyers.userPrefix}${(n + account * 7919) % s.buyers.population}`,
    sku: s.sale.skus[pickWeighted(weights, hash01(seed, n, 2))].id,
    accounts: bot ? s.buyers.bots.accounts : 1,
    retries: bot ? s.buyers.bots.retries : s.buyers.retries.max,
  };
}

/**
 * The built-in service's API (docs/service.md): the engine's own templates (src/scenario/builtin-target.ts),
 * written as a scenario writes them.
 * @param {number} qty
 * @returns {Record<Step, Template>}
 */
export function builtInTemplates(qty) {
  const requests = builtInRequests(qty);
  /** @param {import('../../src/contract/load-plan.ts').RequestTemplate} r @returns {Template} */
  const asWritten = (r) => ({
    method: r.method,
    path: r.path,
    headers: r.headers,
    json: r.body && 'json' in r.body ? r.body.json : undefined,
    success: r.success,
    soldOut: r.soldOut,
    captureId: r.captureId ?? undefined,
  });
  return { checkout: asWritten(requests.checkout), reserve: asWritten(requests.reserve), pay: asWritten(requests.pay) };
}

/**
 * A foreign target with each template's defaults filled in.
 * @param {{ url: string, requests?: Partial<Record<Step, Template>> }} target
 */
function withTemplateDefaults(target) {
  if (target.requests === undefined) return target;
  /** @type {Partial<Record<Step, Template>>} */
  const requests = {};
  for (const [step, t] of Object.entries(target.requests)) requests[/** @type {Step} */ (step)] = { ...TEMPLATE_DEFAULTS, headers: { ...TEMPLATE_DEFAULTS.headers }, ...t };
  return { ...target, requests };
}

/** Each scenario's steps, compiled once by the native engine's own code: templates (src/load/template.ts) and classifiers (src/load/classify.ts). */
const compiled = new WeakMap();

/**
 * The native engine's compiled template and classifier for a step.
 * @param {Scenario} s @param {string} baseUrl @param {Step} step
 * @returns {{ template: import('../../src/contract/load-plan.ts').RequestTemplate, render: import('../../src/load/template.ts').CompiledTemplate, classifier: import('../../src/load/classify.ts').Classifier }}
 */
function stepOf(s, baseUrl, step) {
  let byStep = compiled.get(s);
  if (!byStep) compiled.set(s, (byStep = new Map()));
  const key = `${baseUrl} ${step}`;
  let c = byStep.get(key);
  if (!c) {
    // The scenario as the schema completes it (withDefaults): the plan's target, as the native engine builds it.
    const spec = toTargetSpec(/** @type {import('../../src/scenario/schema.ts').Scenario} */ (/** @type {unknown} */ (s)), baseUrl);
    const template = spec.requests[step];
    if (!template) throw new Error(`the scenario has no request template for the ${step} step`);
    c = { template, render: compileTemplate(template, `target.requests.${step}`), classifier: compileClassifier(template, `target.requests.${step}`) };
    byStep.set(key, c);
  }
  return c;
}

/**
 * The HTTP request for one step: method, url, body and headers with placeholders filled in, by the
 * native engine's template code (the Idempotency-Key header is always sent, as the engine does).
 * @param {Scenario} s @param {string} baseUrl @param {Step} step @param {{ userId?: string, sku?: string, idempotencyKey?: string, reservationId?: string }} vars
 */
export function buildRequest(s, baseUrl, step, vars) {
  const { template, render } = stepOf(s, baseUrl, step);
  const all = { userId: vars.userId ?? '', sku: vars.sku ?? '', qty: s.buyers.qty, idempotencyKey: vars.idempotencyKey ?? '', reservationId: vars.reservationId ?? '' };
  const flat = render.headers(all, []);
  /** @type {Record<string, string>} */
  const headers = {};
  for (let i = 0; i < flat.length; i += 2) headers[flat[i]] = flat[i + 1];
  return { method: template.method, url: `${baseUrl.replace(/\/+$/, '')}${render.path(all)}`, body: render.body(all), headers, template };
}

/**
 * Reads `a.b.c` from a parsed JSON answer (the native engine's readPath: own fields only).
 * @param {unknown} json @param {string} path
 */
export function jsonAt(json, path) {
  return readPath(json, path);
}

/**
 * The outcome of an answer, by the native engine's classifier (src/load/classify.ts): the template's
 * matchers first, then 5xx is an error and anything else a refusal; no answer at all (status 0) is an error.
 * @param {Scenario} s @param {string} baseUrl @param {Step} step @param {number} status @param {unknown} json
 * @returns {Outcome}
 */
export function classify(s, baseUrl, step, status, json) {
  if (status === 0) return 'error';
  return OUTCOMES[stepOf(s, baseUrl, step).classifier.classify(status, json)];
}

/**
 * Exponential backoff with full jitter, the native engine's (src/load/waits.ts): random(0, min(max, base·2^attempt)).
 * @param {Scenario} s @param {number} attempt @param {number} u in [0, 1)
 */
export function backoffMs(s, attempt, u) {
  return backoff({ baseMs: durationMs(s.buyers.retries.baseDelay), maxMs: durationMs(s.buyers.retries.maxDelay) }, attempt, u);
}

/** @param {Scenario} s @param {number} u in [0, 1) */
export function thinkMs(s, u) {
  const t = s.buyers.thinkTime;
  const range = typeof t === 'object' ? { minMs: durationMs(t.min), maxMs: durationMs(t.max) } : { minMs: durationMs(t), maxMs: durationMs(t) };
  return thinkWithinMs(range, u);
}
