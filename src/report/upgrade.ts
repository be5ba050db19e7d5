// Results written by an older flashsale, brought to the current schema when read, so `report`,
// `compare` and `merge` keep working on them. Only what can be derived is filled in; nothing is
// guessed (a version-1 run's ledger units are unknown: null). Defensive: a field of the wrong shape
// is left alone for the schema check to name.
import { acknowledgedUnits } from '../audit/audit.ts';
import { decodeHistogram } from '../common/histogram.ts';
import type { AckedOrder } from '../contract/result.ts';
import { OUTCOMES, zeroPerOutcome, type Outcome } from '../contract/vocabulary.ts';

type Doc = Record<string, unknown>;

const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const V1_STATUS: Record<number, string> = { 0: 'passed', 3: 'audit_failed', 99: 'thresholds_crossed' };

/** Version 1 → 2 (see RESULT_SCHEMA_VERSION): returns the document upgraded in place. */
export function upgradeV1(doc: Doc): Doc {
  const counts = doc.counts;
  if (isObject(counts)) {
    const kinds = isObject(counts.errorsByKind) ? counts.errorsByKind : null;
    const cut = kinds && typeof kinds.cut_by_stop === 'number' ? kinds.cut_by_stop : 0;
    // Version 1 counted requests cut by the stop as errors; version 2 keeps them apart.
    if (kinds && cut > 0) {
      delete kinds.cut_by_stop;
      if (isObject(counts.byOutcome) && typeof counts.byOutcome.error === 'number') counts.byOutcome.error = Math.max(0, counts.byOutcome.error - cut);
    }
    counts.cutByStop ??= cut;
    counts.byStep ??= stepCountsFromHistograms(doc.latency);
  }
  const target = doc.target;
  if (isObject(target)) target.from ??= target.builtIn === true ? 'built-in' : 'flag';
  const stock = doc.stock;
  if (isObject(stock)) {
    stock.soldFrom ??= Array.isArray(stock.inventory) && stock.inventory.length > 0 ? 'inventory' : 'acknowledged';
    stock.acknowledged ??= Array.isArray(doc.orders) ? acknowledgedUnits(doc.orders as AckedOrder[]) : stock.sold; // a version-1 file written by flashsale: its orders have this shape
    stock.ledger ??= null;
  }
  if (Array.isArray(doc.thresholds)) {
    for (const t of doc.thresholds) {
      if (!isObject(t)) continue;
      t.source ??= 'scenario';
      t.status ??= t.pass === true ? 'passed' : 'crossed';
      t.note ??= null;
    }
  }
  const verdict = doc.verdict;
  if (isObject(verdict) && typeof verdict.exitCode === 'number') verdict.status ??= V1_STATUS[verdict.exitCode];
  doc.schemaVersion = 2;
  return doc;
}

/** Version 2 → 3: nothing to derive. A version-2 run had no faults (the field stays absent, as in a
 * version-3 run without faults), no per-bucket error kinds or retries, no idempotency keys on its
 * orders, and its audit did not count committed-unacknowledged orders: each is optional. */
export function upgradeV2(doc: Doc): Doc {
  doc.schemaVersion = 3;
  return doc;
}

/** Version 3 → 4: nothing to derive. Version 4 added the stop reason `target_down` (a version-3 run could
 * not have it) and optional fields only (target.stores, some interval series). */
export function upgradeV3(doc: Doc): Doc {
  doc.schemaVersion = 4;
  return doc;
}

/** Per step and outcome, the answers a version-1 result's histograms counted (its only per-step counts). */
function stepCountsFromHistograms(latency: unknown): Doc {
  const out: Doc = {};
  if (!isObject(latency)) return out;
  for (const [step, l] of Object.entries(latency)) {
    if (!isObject(l) || !isObject(l.byOutcome)) continue;
    const row: Record<Outcome, number> = zeroPerOutcome();
    for (const o of OUTCOMES) {
      const enc = l.byOutcome[o];
      if (isObject(enc) && typeof enc.corrected === 'string' && enc.corrected !== '') {
        try {
          row[o] = decodeHistogram(enc.corrected).totalCount;
        } catch {
          return out; // not a histogram: the schema check names the field
        }
      }
    }
    out[step] = row;
  }
  return out;
}
