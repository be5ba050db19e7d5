// `flashsale merge`: runs made on several machines against one sale, merged into one result exactly.
// The load part (histograms, counts, intervals, orders) is the metrics module's exact merge; what
// the audit and thresholds said is recomputed where the merged data allows it, else combined.
import { mergeLoadResults } from '../metrics/merge.ts';
import { MAX_OFFENDING_LISTED, soldWithinStock, uniqueOrderIds, type AuditInput } from '../audit/audit.ts';
import type { AuditCheck, AuditResult, InventoryState, RunResult, ThresholdResult } from '../result/types.ts';
import { evaluateThresholds, type ThresholdsSpec } from '../thresholds/index.ts';
import { ResultFileError } from './read.ts';
import { sellOutMs, verdictOf } from '../result/verdict.ts';

export interface MergeInput {
  file: string;
  result: RunResult;
}

/** One sale seen from several machines (same external target), or separate sales added up. */
function mergeStock(inputs: MergeInput[], load: ReturnType<typeof mergeLoadResults>): RunResult['stock'] {
  const results = inputs.map((i) => i.result);
  const url = results[0].target.url;
  const shared = results.every((r) => !r.target.builtIn && r.target.url === url);
  let initial: number;
  let inventory: RunResult['stock']['inventory'];
  if (shared) {
    const odd = inputs.find((i) => i.result.stock.initial !== results[0].stock.initial);
    if (odd) throw new ResultFileError(odd.file, `stock.initial is ${odd.result.stock.initial}, ${inputs[0].file} has ${results[0].stock.initial}: not the same sale`);
    initial = results[0].stock.initial;
    // The server's final state is the snapshot taken last.
    inventory = results.reduce((a, b) => (Date.parse(b.endedAt) > Date.parse(a.endedAt) ? b : a)).stock.inventory;
  } else {
    // Each machine ran its own built-in service: separate sales, so stock adds up.
    initial = results.reduce((n, r) => n + r.stock.initial, 0);
    inventory = results.flatMap((r) => r.stock.inventory);
  }
  const sold = inventory.length ? inventory.reduce((n, s) => n + s.sold, 0) : load.counts.unitsAcknowledged;
  return { initial, sold, oversold: Math.max(0, sold - initial), sellOutMs: sellOutMs(load, sold, initial), inventory };
}

/** The merged sale's per-SKU inventory: one shared server's last word, or separate sales added up by SKU. */
function inventoryBySku(inventory: RunResult['stock']['inventory']): InventoryState[] {
  const bySku = new Map<string, InventoryState>();
  for (const i of inventory) {
    const sum = bySku.get(i.sku);
    bySku.set(i.sku, sum ? { sku: i.sku, initial: sum.initial + i.initial, available: sum.available + i.available, reserved: sum.reserved + i.reserved, sold: sum.sold + i.sold } : { ...i });
  }
  return [...bySku.values()];
}

function mergeAudit(inputs: MergeInput[], stock: RunResult['stock'], orders: RunResult['orders']): AuditResult | null {
  const audits = inputs.map((i) => i.result.audit).filter((a): a is AuditResult => a !== null);
  if (audits.length === 0) return null;
  // Two checks can be made again on the merged data, and only there (an order id acknowledged on two
  // machines; units acknowledged on several machines adding up past the stock), with the audit's own code.
  const inventory = inventoryBySku(stock.inventory);
  const merged: AuditInput = {
    inventory: inventory.length ? inventory : null,
    ledgerOrders: null,
    ackedOrders: orders,
    perUserLimit: 0, // not re-checked here: each run's ledger check stands
    initialStock: new Map(inventory.map((i) => [i.sku, i.initial])),
  };
  // Without an inventory the stock per SKU is unknown: only the parts' own verdicts stand for that check.
  const sold = inventory.length ? soldWithinStock(merged, merged.initialStock as Map<string, number>) : null;
  const recheck: Partial<Record<AuditCheck['id'], AuditCheck>> = { unique_order_ids: uniqueOrderIds(merged), ...(sold ? { sold_within_stock: sold.check } : {}) };
  const ids = [...new Set(audits.flatMap((a) => a.checks.map((c) => c.id)))];
  const checks: AuditCheck[] = ids.map((id) => {
    const parts = audits.map((a) => a.checks.find((c) => c.id === id)).filter((c): c is AuditCheck => c !== undefined);
    const offending = [...new Set(parts.flatMap((c) => c.offending))];
    const again = recheck[id];
    const passed = parts.every((c) => c.passed || c.skipped);
    return {
      id,
      title: parts[0].title,
      passed: again ? passed && again.passed : passed,
      skipped: parts.every((c) => c.skipped),
      detail: again ? `${again.detail} (merged from ${parts.length} runs)` : `merged from ${parts.length} runs: ${[...new Set(parts.map((c) => c.detail))].join(' | ')}`,
      offending: [...new Set([...(again?.offending ?? []), ...offending])].slice(0, MAX_OFFENDING_LISTED),
      offendingCount: Math.max(again?.offendingCount ?? 0, parts.reduce((n, c) => n + c.offendingCount, 0)),
    };
  });
  return {
    passed: checks.every((c) => c.passed || c.skipped),
    checks,
    oversold: Math.max(stock.oversold, sold?.oversold ?? 0, ...audits.map((a) => a.oversold)),
    lostOrders: audits.reduce((n, a) => n + a.lostOrders, 0),
  };
}

/** Re-evaluated on the merged data when the scenario carries its thresholds; else all parts must pass. */
function mergeThresholds(inputs: MergeInput[], merged: Omit<RunResult, 'thresholds' | 'verdict'>): ThresholdResult[] {
  const spec = (merged.scenario.definition as { thresholds?: unknown } | null)?.thresholds;
  if (spec && typeof spec === 'object' && !Array.isArray(spec)) {
    try {
      return evaluateThresholds(spec as ThresholdsSpec, merged);
    } catch {
      // A definition this version cannot parse: fall through to combining what each run said.
    }
  }
  const byKey = new Map<string, ThresholdResult[]>();
  for (const t of inputs.flatMap((i) => i.result.thresholds)) {
    const key = `${t.metric}\u0000${t.expression}`;
    byKey.set(key, [...(byKey.get(key) ?? []), t]);
  }
  // Without the definition the merged value cannot be computed: actual stays null.
  return [...byKey.values()].map((ts) => ({ ...ts[0], actual: null, pass: ts.every((t) => t.pass) && ts.length === inputs.length }));
}

export function mergeRunResults(inputs: MergeInput[]): RunResult {
  if (inputs.length === 0) throw new RangeError('mergeRunResults needs at least one result');
  const first = inputs[0];
  for (const i of inputs) {
    if (i.result.scenario.name !== first.result.scenario.name) {
      throw new ResultFileError(i.file, `is scenario "${i.result.scenario.name}", ${first.file} is "${first.result.scenario.name}": only runs of one scenario can be merged`);
    }
    if (i.result.intervals.periodMs !== first.result.intervals.periodMs) {
      throw new ResultFileError(i.file, `intervals.periodMs is ${i.result.intervals.periodMs}, ${first.file} has ${first.result.intervals.periodMs}`);
    }
  }
  const load = mergeLoadResults(inputs.map((i) => i.result));
  const stock = mergeStock(inputs, load);
  const audit = mergeAudit(inputs, stock, load.orders);
  // As a single run reports it: the worst view of oversell, the audit's included.
  stock.oversold = Math.max(stock.oversold, audit?.oversold ?? 0);
  const byTime = (pick: (r: RunResult) => string, min: boolean) =>
    inputs.map((i) => pick(i.result)).reduce((a, b) => ((Date.parse(b) < Date.parse(a)) === min ? b : a));
  const base = {
    schemaVersion: first.result.schemaVersion,
    ...load,
    scenario: first.result.scenario,
    environment: first.result.environment,
    target: first.result.target,
    startedAt: byTime((r) => r.startedAt, true),
    endedAt: byTime((r) => r.endedAt, false),
    stock,
    audit,
    mergedFrom: inputs.flatMap((i) => i.result.mergedFrom ?? [i.file]),
  };
  const thresholds = mergeThresholds(inputs, base);
  return { ...base, thresholds, verdict: verdictOf(base.audit, thresholds) };
}
