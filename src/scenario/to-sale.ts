// A validated scenario → the built-in service's SaleDefinition.
import { durationMs } from './duration.ts';
import { resolveOpensAt } from './opens-at.ts';
import type { Scenario } from './schema.ts';
import type { SaleDefinition } from '../service/index.ts';

export type { SaleDefinition };

/** `opensAtEpochMs`: when the sale opens (null: open now); by default resolved from sale.opensAt against the clock. */
export function toSaleDefinition(s: Scenario, opensAtEpochMs: number | null = resolveOpensAt(s.sale.opensAt, Date.now())): SaleDefinition {
  return {
    skus: s.sale.skus.map((sku) => ({ id: sku.id, stock: sku.stock })),
    perUserLimit: s.sale.perUserLimit,
    reservationTtlMs: durationMs(s.sale.reservationTtl),
    opensAtEpochMs,
    payment: { declineRate: s.sale.payment.declineRate, latencyMs: durationMs(s.sale.payment.latency) },
  };
}

/** Units on sale, per SKU and in total: what the audit and the summary compare against. */
export function stockOf(s: Scenario): { bySku: Record<string, number>; total: number } {
  const bySku: Record<string, number> = {};
  for (const sku of s.sale.skus) bySku[sku.id] = sku.stock;
  return { bySku, total: s.sale.skus.reduce((n, sku) => n + sku.stock, 0) };
}
