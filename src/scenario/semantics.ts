// Checks a schema cannot express: fields that must agree with each other. Each problem is one line
// naming the field, in the same `path: problem` form as the schema's messages.
import { checkFaults } from '../faults/validate.ts';
import { parseThreshold } from '../thresholds/parse.ts';
import { MAX_USER_ID_BYTES } from '../contract/sale.ts';
import { durationMs } from '../common/duration.ts';
import { formatPath } from '../common/issues.ts';
import { shapeOf } from '../schedule/index.ts';
import { STEPS, stepsOf } from '../contract/vocabulary.ts';
import type { Scenario, RequestTemplateInput } from './schema.ts';
import { ThresholdSyntaxError } from '../errors.ts';

const PLACEHOLDERS = ['userId', 'sku', 'qty', 'idempotencyKey', 'reservationId'];

export { stepsOf };

function checkArrival(s: Scenario, problems: string[]): void {
  const a = s.buyers.arrival;
  problems.push(...shapeOf(a).check(a, (...rest) => formatPath(['buyers', 'arrival', ...rest])));
}

function placeholdersIn(value: unknown, found: string[]): void {
  if (typeof value === 'string') {
    for (const m of value.matchAll(/\$\{([^}]*)\}/g)) found.push(m[1]);
  } else if (Array.isArray(value)) {
    for (const v of value) placeholdersIn(v, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      placeholdersIn(k, found);
      placeholdersIn(v, found);
    }
  }
}

function checkTemplate(step: string, t: RequestTemplateInput, journey: Scenario['buyers']['journey'], problems: string[]): void {
  const at = (...rest: string[]): string => formatPath(['target', 'requests', step, ...rest]);
  if (t.json !== undefined && t.form !== undefined) problems.push(`${at()}: has both json and form; a request has one body`);
  for (const [field, value] of [['path', t.path], ['headers', t.headers], ['json', t.json], ['form', t.form]] as const) {
    const found: string[] = [];
    placeholdersIn(value, found);
    for (const name of found) {
      if (!PLACEHOLDERS.includes(name)) problems.push(`${at(field)}: unknown placeholder \${${name}} (known: ${PLACEHOLDERS.map((p) => `\${${p}}`).join(' ')})`);
      else if (name === 'reservationId' && step !== 'pay') problems.push(`${at(field)}: \${reservationId} exists only in the pay step`);
    }
  }
  if (journey === 'reserve-pay' && step === 'reserve' && t.captureId === undefined) {
    problems.push(`${at('captureId')}: is required for the reserve step: it says where the reservation id is in the answer`);
  }
}

function checkTarget(s: Scenario, problems: string[]): void {
  if (s.target === 'built-in' || s.target.requests === undefined) return; // the built-in API's routes
  const requests = s.target.requests;
  for (const step of stepsOf(s.buyers.journey)) {
    if (requests[step] === undefined) problems.push(`${formatPath(['target', 'requests', step])}: is required by buyers.journey "${s.buyers.journey}"`);
  }
  for (const step of STEPS) {
    const t = requests[step];
    if (t) checkTemplate(step, t, s.buyers.journey, problems);
  }
}

function checkThresholds(s: Scenario, problems: string[]): void {
  const used: string[] = stepsOf(s.buyers.journey);
  for (const [key, list] of Object.entries(s.thresholds)) {
    list.forEach((entry, i) => {
      const expression = typeof entry === 'string' ? entry : entry.threshold;
      const at = formatPath(typeof entry === 'string' ? ['thresholds', key, i] : ['thresholds', key, i, 'threshold']);
      try {
        const { metric } = parseThreshold(key, expression);
        if (metric.tags.step !== undefined && !used.includes(metric.tags.step)) {
          problems.push(`${at}: step "${metric.tags.step}" never runs in a "${s.buyers.journey}" journey (steps: ${used.join(', ')})`);
        }
      } catch (e) {
        if (!(e instanceof ThresholdSyntaxError)) throw e;
        problems.push(`${at}: ${e.message}`);
      }
    });
  }
}

/** Splits `sale.skus[0].stock` / `thresholds["sellout_ms"]` into keys; null if it is not a path. */
function parsePath(path: string): Array<string | number> | null {
  const keys: Array<string | number> = [];
  const re = /(?:^|\.)([A-Za-z_$][\w$]*)|\[(\d+)\]|\["([^"]+)"\]/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < path.length && (m = re.exec(path)) !== null) keys.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : m[3]));
  return re.lastIndex === path.length && keys.length > 0 ? keys : null;
}

function exists(root: unknown, keys: Array<string | number>): boolean {
  let node = root;
  for (const k of keys) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, k)) return false;
    node = (node as Record<string | number, unknown>)[k]; // an object or array here (checked above): read by key
  }
  return true;
}

/** A source that names a parameter the file does not have is a stale source. */
function checkSources(s: Scenario, raw: unknown, problems: string[]): void {
  if (!s.sources) return;
  const lists = [
    ['facts', s.sources.facts],
    ['assumptions', s.sources.assumptions],
  ] as const;
  for (const [list, entries] of lists) {
    entries.forEach((entry, i) => {
      entry.parameters.forEach((p, j) => {
        const keys = parsePath(p);
        if (keys === null || !exists(raw, keys)) {
          problems.push(`${formatPath(['sources', list, i, 'parameters', j])}: "${p}" is not a field of this scenario`);
        }
      });
    });
  }
}

/** Problems found in a schema-valid scenario; `raw` is the file as parsed (before defaults). */
export function checkSemantics(s: Scenario, raw: unknown): string[] {
  const problems: string[] = [];
  const ids = new Map<string, number>();
  s.sale.skus.forEach((sku, i) => {
    const first = ids.get(sku.id);
    if (first !== undefined) problems.push(`sale.skus[${i}].id: "${sku.id}" is already sale.skus[${first}].id`);
    else ids.set(sku.id, i);
  });
  const weights = s.buyers.skuWeights;
  if (weights !== undefined) {
    if (weights.length !== s.sale.skus.length) {
      problems.push(`buyers.skuWeights: has ${weights.length} weight${weights.length === 1 ? '' : 's'} for ${s.sale.skus.length} SKU${s.sale.skus.length === 1 ? '' : 's'} in sale.skus`);
    } else if (weights.every((w) => w === 0)) {
      problems.push('buyers.skuWeights: every weight is 0, no SKU could be picked');
    }
  } else if (s.sale.skus.every((sku) => sku.stock === 0)) {
    problems.push('sale.skus: every stock is 0; give buyers.skuWeights to say which SKUs buyers ask for');
  }
  if (s.sale.perUserLimit !== 'none' && s.buyers.qty > s.sale.perUserLimit) {
    problems.push(`buyers.qty: ${s.buyers.qty} is above sale.perUserLimit (${s.sale.perUserLimit}): every buyer would be refused`);
  }
  const think = s.buyers.thinkTime;
  if (typeof think === 'object' && durationMs(think.min) > durationMs(think.max)) problems.push('buyers.thinkTime.min: is above buyers.thinkTime.max');
  if (durationMs(s.buyers.retries.baseDelay) > durationMs(s.buyers.retries.maxDelay)) {
    problems.push('buyers.retries.baseDelay: is above buyers.retries.maxDelay');
  }
  const ttl = durationMs(s.sale.reservationTtl);
  if (ttl <= 0) problems.push('sale.reservationTtl: must be > 0');
  else if (!Number.isInteger(ttl) || ttl > 2 ** 31 - 1) problems.push('sale.reservationTtl: must be a whole number of milliseconds up to about 24.8 days');
  // User ids are the prefix and an account index below the population.
  const longestId = Buffer.byteLength(s.buyers.userPrefix) + String(Math.max(0, s.buyers.population - 1)).length;
  if (s.target === 'built-in' && longestId > MAX_USER_ID_BYTES) {
    problems.push(`buyers.userPrefix: too long: user ids would exceed the ${MAX_USER_ID_BYTES} bytes the built-in service accepts`);
  }
  if (durationMs(s.sale.payment.latency) > 60_000) problems.push('sale.payment.latency: must be ≤ 60s');
  if (durationMs(s.buyers.timeout) <= 0) problems.push('buyers.timeout: must be > 0');
  if (durationMs(s.load.maxDuration) <= 0) problems.push('load.maxDuration: must be > 0');
  checkArrival(s, problems);
  checkTarget(s, problems);
  checkThresholds(s, problems);
  checkSources(s, raw, problems);
  // Faults as far as the scenario alone can tell (past the run's end, overlapping on one resource, a
  // kill with a foreign target.url); the run checks them again against its setting (--target,
  // --allow-exec, the service's threads: src/run/faults-run.ts).
  if (s.faults && s.faults.length > 0) {
    const service = s.target === 'built-in' ? 'built-in' : 'none';
    problems.push(...checkFaults(s.faults, { service, threads: null, execAllowed: true, maxDurationMs: durationMs(s.load.maxDuration) }));
  }
  return problems;
}
