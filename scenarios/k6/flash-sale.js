// @ts-check
// Runs a flashsale scenario with k6 — for teams that already use k6, or need load from many
// machines (execution segments, k6-operator). The same scenario JSON as `flashsale run`:
//
//   k6 run -e SCENARIO=/abs/path/scenario.json -e TARGET=http://host:port scenarios/k6/flash-sale.js
//
// (`flashsale k6 <scenario> --target URL` prints this line.) Optional: -e MAX_VUS=N.
// What k6 measures differently from the native engine is in mapping.js's NOTES. What flashsale needs
// to build its result from k6's raw output (`k6 run --out json=…`, read by `flashsale import k6`)
// goes through two metrics, never through printed text: flashsale_req_duration (each request, tagged
// step, outcome, status, and on an acknowledged order order_id, user_id, sku, qty) and flashsale_buyers
// (each journey's end, tagged end).
import http from 'k6/http';
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';
import { backoffMs, buildRequest, buyerFor, classify, durationMs, hash01, jsonAt, k6Duration, NOTES, thinkMs, toK6Options, withDefaults } from './mapping.js';

if (!__ENV.SCENARIO) throw new Error('set the scenario file: k6 run -e SCENARIO=/path/to/scenario.json -e TARGET=http://host:port flash-sale.js');
/** @type {import('./mapping.js').ScenarioFile} */
const file = JSON.parse(open(__ENV.SCENARIO));
const scenario = withDefaults(file);
const target = __ENV.TARGET || (scenario.target === 'built-in' ? '' : scenario.target.url);
if (!target) throw new Error('this scenario targets the built-in service: start it (flashsale serve) and pass its URL with -e TARGET=http://host:port');

const mapped = toK6Options(file, __ENV.MAX_VUS ? { maxVUs: Number(__ENV.MAX_VUS) } : {});
/** @type {import('k6/options').Options} */
export const options = mapped.options;

// Only errors (5xx, no answer) count as failed: sold out and refusals are answers the sale expects.
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 499 }));

/** Latency by step and outcome: k6's own http_req_duration is tagged before the outcome is known. */
const stepDuration = new Trend('flashsale_req_duration', true);
/** How each buyer's journey ended (counts.buyers): succeeded, soldOut, rejected, gaveUp. */
const journeys = new Counter('flashsale_buyers');

/** SKUs this VU has seen sold out; with stopOnSellOut, a VU that has seen all of them stops buying. */
const soldOut = new Set();

export function setup() {
  for (const note of NOTES) console.warn(`flashsale: ${note}`);
  for (const d of mapped.dropped) console.warn(`flashsale: threshold left out: ${d}`);
  return { runId: Date.now().toString(36) };
}

/**
 * One request of a step, retried on errors with backoff; a bot switches account on a refusal.
 * @param {import('./mapping.js').Step} step
 * @param {ReturnType<typeof buyerFor>} buyer
 * @param {{ n: number, runId: string, account: number, reservationId?: string }} ctx
 * @returns {{ outcome: import('./mapping.js').Outcome, json: unknown }}
 */
function attempt(step, buyer, ctx) {
  /** @type {{ outcome: import('./mapping.js').Outcome, json: unknown }} */
  let last = { outcome: 'error', json: null };
  for (let i = 0; i <= buyer.retries; i++) {
    const vars = {
      userId: buyer.userId(ctx.account),
      sku: buyer.sku,
      // One key per purchase attempt, the same across retries: a retried request never buys twice.
      idempotencyKey: `k6-${ctx.runId}-${ctx.n}-${ctx.account}-${step}`,
      reservationId: ctx.reservationId ?? '',
    };
    const req = buildRequest(scenario, target, step, vars);
    const res = http.request(req.method, req.url, req.body, {
      headers: req.headers,
      tags: { step, name: `${step} ${req.template.path}` },
      timeout: k6Duration(durationMs(scenario.buyers.timeout)),
    });
    let json = null;
    try {
      json = res.json();
    } catch {
      json = null;
    }
    const outcome = classify(scenario, target, step, res.status, json);
    /** @type {Record<string, string>} */
    const tags = { step, outcome, status: String(res.status) };
    // The order the buyer saw acknowledged: the audit checks the target kept every one.
    if (outcome === 'success' && step !== 'reserve') {
      const id = req.template.captureId ? jsonAt(json, req.template.captureId) : undefined;
      if (id !== undefined) Object.assign(tags, { order_id: String(id), user_id: vars.userId, sku: buyer.sku, qty: String(scenario.buyers.qty) });
    }
    stepDuration.add(res.timings.duration, tags);
    check(res, { 'success or sold out': () => outcome === 'success' || outcome === 'sold_out' }, { step });
    last = { outcome, json };
    if (outcome === 'success' || outcome === 'sold_out') return last;
    if (outcome === 'rejected') {
      if (ctx.account + 1 >= buyer.accounts) return last;
      ctx.account += 1;
    } else if (i < buyer.retries) {
      sleep(backoffMs(scenario, i, hash01(scenario.load.seed, ctx.n, 100 + i)) / 1000);
    }
  }
  return last;
}

/** @param {{ runId: string }} data */
export function buyer(data) {
  const closed = scenario.buyers.arrival.executor === 'constant-vus';
  if (scenario.load.stopOnSellOut && soldOut.size === scenario.sale.skus.length) {
    if (closed) sleep(1); // a closed-model VU would otherwise spin through empty iterations
    return;
  }
  const n = exec.scenario.iterationInTest;
  const who = buyerFor(scenario, n);
  const ctx = { n, runId: data.runId, account: 0 };
  /** @type {import('./mapping.js').Outcome} */
  let last;
  if (scenario.buyers.journey === 'checkout') {
    const r = attempt('checkout', who, ctx);
    if (r.outcome === 'sold_out') soldOut.add(who.sku);
    last = r.outcome;
  } else {
    const reserved = attempt('reserve', who, ctx);
    if (reserved.outcome === 'sold_out') soldOut.add(who.sku);
    last = reserved.outcome;
    if (reserved.outcome === 'success') {
      const template = buildRequest(scenario, target, 'reserve', {}).template;
      const id = template.captureId ? jsonAt(reserved.json, template.captureId) : undefined;
      if (!who.bot) sleep(thinkMs(scenario, hash01(scenario.load.seed, n, 3)) / 1000);
      last = attempt('pay', who, { ...ctx, reservationId: id === undefined ? '' : String(id) }).outcome;
    }
  }
  journeys.add(1, { end: last === 'success' ? 'succeeded' : last === 'sold_out' ? 'soldOut' : last === 'rejected' ? 'rejected' : 'gaveUp' });
  // Closed model: a virtual user thinks before its next journey.
  if (closed && !who.bot) sleep(thinkMs(scenario, hash01(scenario.load.seed, n, 4)) / 1000);
}
