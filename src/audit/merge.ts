// Audits of runs made on several machines against one sale (`flashsale merge`), combined into one.
import type { AckedOrder, AuditCheck, AuditResult, InventoryState } from '../contract/result.ts';
import { MAX_OFFENDING_LISTED, soldWithinStock, uniqueOrderIds, type AuditInput } from './audit.ts';

/** The merged sale's per-SKU inventory: one shared server's last word, or separate sales added up by SKU. */
function inventoryBySku(inventory: InventoryState[]): InventoryState[] {
  const bySku = new Map<string, InventoryState>();
  for (const i of inventory) {
    const sum = bySku.get(i.sku);
    bySku.set(i.sku, sum ? { sku: i.sku, initial: sum.initial + i.initial, available: sum.available + i.available, reserved: sum.reserved + i.reserved, sold: sum.sold + i.sold } : { ...i });
  }
  return [...bySku.values()];
}

/** The runs' audits as one: the two checks only the whole can make are made again on the merged
 * orders and inventory, with the audit's own code; the others are combined. Null when no run was audited. */
export function mergeAudits(parts: ReadonlyArray<AuditResult | null>, stockInventory: InventoryState[], orders: AckedOrder[]): AuditResult | null {
  const audits = parts.filter((a): a is AuditResult => a !== null);
  if (audits.length === 0) return null;
  // Two checks can be made again on the merged data, and only there (an order id acknowledged on two
  // machines; units acknowledged on several machines adding up past the stock), with the audit's own code.
  const inventory = inventoryBySku(stockInventory);
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
    oversold: Math.max(sold?.oversold ?? 0, ...audits.map((a) => a.oversold)),
    lostOrders: audits.reduce((n, a) => n + a.lostOrders, 0),
  };
}
