// @ts-check
// Pure scenario → k6 mapping used by flash-sale.js: no k6 imports here, so the same module runs in
// k6 and under vitest. k6 reads the scenario file as written, so this module fills in the same
// defaults as the zod schema (src/scenario/schema.ts); a test keeps the two in step.
//
// What maps exactly and what is approximated is listed in NOTES and printed by the script.

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

const UNIT_MS = /** @type {Record<string, number>} */ ({ ms: 1, s: 1000, m: 60000, h: 3600000 });

/** @param {Duration} value */
export function durationMs(value) {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (!m) throw new Error(`"${value}" is not a duration (examples: 500ms, 11.9s, 2m)`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

/** k6 duration string. @param {number} ms */
export function k6Duration(ms) {
  return `${Math.max(0, Math.round(ms))}ms`;
}

/**
 * The scenario with the schema's defaults filled in (the same values src/scenario/schema.ts uses).
 * @param {ScenarioFile} s
 */
export function withDefaults(s) {
  const b = s.buyers;
  const a = b.arrival;
  /** @type {Arrival} */
  let arrival = a;
  if (a.executor === 'constant-arrival-rate') arrival = { timeUnit: '1s', ...a };
  if (a.executor === 'ramping-arrival-rate') arrival = { startRate: 0, timeUnit: '1s', ...a };
  if (a.executor === 'flash-crowd') arrival = { ...a, latecomers: { count: 0, decay: '30s', ...a.latecomers } };
  return {
    ...s,
    buyers: {
      userPrefix: 'user-',
      journey: /** @type {'checkout' | 'reserve-pay'} */ ('checkout'),
      qty: 1,
      thinkTime: /** @type {Duration | { min: Duration, max: Duration }} */ (0),
      timeout: /** @type {Duration} */ ('10s'),
      ...b,
      arrival,
      retries: { max: 2, baseDelay: '50ms', maxDelay: '1s', ...b.retries },
      bots: { share: 0, retries: 10, accounts: 1, ...b.bots },
    },
    load: { workers: 1, connections: 64, maxDuration: '60s', maxRequests: 2000000, gracefulStop: '5s', seed: 1, stopOnSellOut: true, ...s.load },
    target: s.target ?? 'built-in',
    thresholds: s.thresholds ?? {},
  };
}

/** @typedef {ReturnType<typeof withDefaults>} Scenario */

// ---- arrivals -------------------------------------------------------------------------------------

/** Standard normal CDF (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7). @param {number} z */
function normalCdf(z) {
  const t = 1 / (1 + 0.3275911 * Math.abs(z / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/**
 * Expected arrivals of a flash crowd by time t (ms after open): lognormal clicks + fading latecomers.
 * @param {{ registered: number, medianMs: number, sigma: number, lateCount: number, decayMs: number }} c
 * @param {number} t
 */
export function flashCrowdArrivedBy(c, t) {
  if (t <= 0) return 0;
  const crowd = c.registered * normalCdf(Math.log(t / c.medianMs) / c.sigma);
  const late = c.lateCount > 0 ? c.lateCount * (1 - Math.exp(-t / c.decayMs)) : 0;
  return crowd + late;
}

/**
 * Expected arrival rate (per ms) of a flash crowd at t ms after open: the derivative of flashCrowdArrivedBy.
 * @param {{ registered: number, medianMs: number, sigma: number, lateCount: number, decayMs: number }} c
 * @param {number} t
 */
export function flashCrowdRate(c, t) {
  const late = c.lateCount > 0 ? (c.lateCount / c.decayMs) * Math.exp(-t / c.decayMs) : 0;
  if (t <= 0) return late;
  const z = Math.log(t / c.medianMs) / c.sigma;
  return (c.registered * Math.exp(-(z * z) / 2)) / (t * c.sigma * Math.sqrt(2 * Math.PI)) + late;
}

/** Stages for the crowd itself and for the latecomers' tail after it (fine where the rate changes fast). */
const CROWD_STAGES = 60;
const TAIL_STAGES = 20;

/** @param {number} span @param {number} count */
function sliceFor(span, count) {
  return Math.max(100, Math.ceil(span / count / 100) * 100);
}

/**
 * ramping-arrival-rate stages whose rate follows the crowd's expected arrival rate: k6 ramps
 * linearly between stage targets, so targets are the rate at each slice's end (the trapezoid rule).
 * @param {Arrival} a
 * @param {number} maxDurationMs
 */
export function flashCrowdStages(a, maxDurationMs) {
  const c = {
    registered: a.registered ?? 0,
    medianMs: durationMs(a.reaction?.median ?? 0),
    sigma: a.reaction?.sigma ?? 1,
    lateCount: a.latecomers?.count ?? 0,
    decayMs: durationMs(a.latecomers?.decay ?? '30s'),
  };
  // Until 99.9% of the crowd has clicked (z = 3.09) and the latecomers are down to 0.1%.
  const crowdEnd = Math.min(c.registered > 0 ? c.medianMs * Math.exp(3.09 * c.sigma) : 0, maxDurationMs);
  const horizon = Math.min(Math.max(crowdEnd, c.lateCount > 0 ? c.decayMs * Math.log(1000) : 0), maxDurationMs);
  const perSec = (/** @type {number} */ t) => flashCrowdRate(c, t) * 1000;
  /** @type {Array<{ duration: string, target: number }>} */
  const stages = [];
  let peak = perSec(0);
  let t = 0;
  for (const [end, slice] of [
    [crowdEnd, sliceFor(crowdEnd, CROWD_STAGES)],
    [horizon, sliceFor(horizon - crowdEnd, TAIL_STAGES)],
  ]) {
    while (t < end - 1) {
      const step = Math.min(slice, Math.max(100, end - t));
      t += step;
      const r = perSec(t);
      peak = Math.max(peak, r);
      stages.push({ duration: k6Duration(step), target: Math.round(r) });
    }
  }
  return { startRate: Math.round(perSec(0)), timeUnit: '1s', stages, peakPerSec: peak };
}

/**
 * The k6 scenario (executor and its parameters) for the scenario's arrival shape.
 * @param {Scenario} s
 * @param {{ maxVUs?: number }} [overrides]
 * @returns {import('k6/options').Scenario}
 */
export function toK6Scenario(s, overrides = {}) {
  const a = s.buyers.arrival;
  const maxDurationMs = durationMs(s.load.maxDuration);
  const gracefulStop = k6Duration(durationMs(s.load.gracefulStop));
  const preAllocatedVUs = s.load.workers * s.load.connections;
  const think = s.buyers.thinkTime;
  const thinkMaxMs = typeof think === 'object' ? durationMs(think.max) : durationMs(think);
  // An arrival-rate iteration holds a VU for its whole journey: peak rate × (think time + an assumed 250 ms of requests).
  /** @param {number} peakPerSec */
  const vusFor = (peakPerSec) => overrides.maxVUs ?? Math.max(preAllocatedVUs, Math.ceil((peakPerSec * (thinkMaxMs + 250)) / 1000));
  const base = { exec: 'buyer', gracefulStop };
  switch (a.executor) {
    case 'constant-arrival-rate': {
      const unitMs = durationMs(a.timeUnit ?? '1s');
      const rate = a.rate ?? 0;
      return {
        ...base,
        executor: 'constant-arrival-rate',
        rate,
        timeUnit: k6Duration(unitMs),
        duration: k6Duration(Math.min(durationMs(a.duration ?? 0), maxDurationMs)),
        preAllocatedVUs,
        maxVUs: vusFor((rate * 1000) / unitMs),
      };
    }
    case 'poisson': {
      // k6 has no Poisson executor: the same mean rate, evenly spaced.
      const rate = a.rate ?? 0;
      return {
        ...base,
        executor: 'constant-arrival-rate',
        rate: Math.round(rate),
        timeUnit: '1s',
        duration: k6Duration(Math.min(durationMs(a.duration ?? 0), maxDurationMs)),
        preAllocatedVUs,
        maxVUs: vusFor(rate),
      };
    }
    case 'ramping-arrival-rate': {
      const unitMs = durationMs(a.timeUnit ?? '1s');
      const stages = (a.stages ?? []).map((st) => ({ duration: k6Duration(durationMs(st.duration)), target: st.target }));
      const peak = Math.max(a.startRate ?? 0, ...stages.map((st) => st.target));
      return {
        ...base,
        executor: 'ramping-arrival-rate',
        startRate: a.startRate ?? 0,
        timeUnit: k6Duration(unitMs),
        stages,
        preAllocatedVUs,
        maxVUs: vusFor((peak * 1000) / unitMs),
      };
    }
    case 'flash-crowd': {
      const { startRate, timeUnit, stages, peakPerSec } = flashCrowdStages(a, maxDurationMs);
      return { ...base, executor: 'ramping-arrival-rate', startRate, timeUnit, stages, preAllocatedVUs, maxVUs: vusFor(peakPerSec) };
    }
    case 'constant-vus':
      return { ...base, executor: 'constant-vus', vus: a.vus ?? 1, duration: k6Duration(Math.min(durationMs(a.duration ?? 0), maxDurationMs)) };
    default:
      throw new Error(`unknown executor "${a.executor}"`);
  }
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
 * The built-in service's API (docs/service.md); the same templates as src/scenario/builtin-target.ts.
 * @param {number} qty
 * @returns {Record<Step, Template>}
 */
export function builtInTemplates(qty) {
  const headers = { 'content-type': 'application/json', 'idempotency-key': '${idempotencyKey}' };
  const purchase = { sku: '${sku}', userId: '${userId}', qty };
  return {
    checkout: { method: 'POST', path: '/api/v1/checkout', headers, json: purchase, success: { status: [201] }, soldOut: { status: [409] }, captureId: 'orderId' },
    reserve: { method: 'POST', path: '/api/v1/reservations', headers, json: purchase, success: { status: [201] }, soldOut: { status: [409] }, captureId: 'reservationId' },
    pay: { method: 'POST', path: '/api/v1/orders', headers, json: { reservationId: '${reservationId}' }, success: { status: [201] }, soldOut: { status: [409] }, captureId: 'orderId' },
  };
}

/** @param {unknown} value @param {Record<string, string | number>} vars @returns {unknown} */
function substitute(value, vars) {
  if (typeof value === 'string') {
    const only = /^\$\{(\w+)\}$/.exec(value);
    if (only && typeof vars[only[1]] === 'number') return vars[only[1]];
    return value.replace(/\$\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `\${${k}}`));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)]));
  return value;
}

/**
 * The HTTP request for one step: method, url, body and headers with placeholders filled in.
 * @param {Scenario} s @param {string} baseUrl @param {Step} step @param {Record<string, string | number>} vars
 */
export function buildRequest(s, baseUrl, step, vars) {
  // A target without templates speaks the built-in service's API.
  const t = s.target === 'built-in' || s.target.requests === undefined ? builtInTemplates(s.buyers.qty)[step] : s.target.requests[step];
  if (!t) throw new Error(`the scenario has no request template for the ${step} step`);
  const all = { qty: s.buyers.qty, ...vars };
  const headers = /** @type {Record<string, string>} */ (substitute(t.headers ?? {}, all));
  const has = (/** @type {string} */ h) => Object.keys(headers).some((k) => k.toLowerCase() === h);
  /** @type {string | null} */
  let body = null;
  if (t.json !== undefined) {
    body = JSON.stringify(substitute(t.json, all));
    if (!has('content-type')) headers['content-type'] = 'application/json';
  } else if (t.form !== undefined) {
    const form = /** @type {Record<string, string>} */ (substitute(t.form, all));
    body = Object.entries(form).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    if (!has('content-type')) headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const path = /** @type {string} */ (substitute(t.path, all));
  return { method: t.method ?? 'POST', url: `${baseUrl.replace(/\/+$/, '')}${path}`, body, headers, template: t };
}

/** @param {unknown} json @param {string} path */
export function jsonAt(json, path) {
  /** @type {unknown} */
  let node = json;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = /** @type {Record<string, unknown>} */ (node)[key];
  }
  return node;
}

/** @param {Matcher} m @param {number} status @param {unknown} json */
function matches(m, status, json) {
  if ('status' in m) return (Array.isArray(m.status) ? m.status : [m.status]).includes(status);
  return jsonAt(json, m.jsonField) === m.equals;
}

/**
 * The outcome of an answer, as the native engine classifies it (src/load/classify.ts): the
 * template's matchers first, then 5xx and no answer at all (status 0) are errors, anything else a refusal.
 * @param {Template} t @param {number} status @param {unknown} json
 * @returns {Outcome}
 */
export function classify(t, status, json) {
  if (status === 0) return 'error';
  if (matches(t.success, status, json)) return 'success';
  if (matches(t.soldOut, status, json)) return 'sold_out';
  return status >= 500 ? 'error' : 'rejected';
}

/**
 * Exponential backoff with full jitter, as the native engine: random(0, min(max, base·2^attempt)).
 * @param {Scenario} s @param {number} attempt @param {number} u in [0, 1)
 */
export function backoffMs(s, attempt, u) {
  const cap = Math.min(durationMs(s.buyers.retries.maxDelay), durationMs(s.buyers.retries.baseDelay) * 2 ** attempt);
  return u * cap;
}

/** @param {Scenario} s @param {number} u in [0, 1) */
export function thinkMs(s, u) {
  const t = s.buyers.thinkTime;
  if (typeof t !== 'object') return durationMs(t);
  const min = durationMs(t.min);
  return min + u * (durationMs(t.max) - min);
}
