// A validated scenario → the built-in service's SaleDefinition.
import { durationMs } from '../common/duration.ts';
import { resolveOpensAt } from './opens-at.ts';
import type { Scenario } from './schema.ts';
import type { SaleDefinition } from '../contract/sale.ts';

export type { SaleDefinition };

/** `opensAtEpochMs`: when the sale opens (null: open now); by default resolved from sale.opensAt against the clock. */
export function toSaleDefinition(s: Scenario, opensAtEpochMs: number | null = resolveOpensAt(s.sale.opensAt, Date.now())): SaleDefinition {
  return {
    skus: s.sale.skus.map((sku) => ({ id: sku.id, stock: sku.stock })),
    perUserLimit: perUserLimitOf(s) ?? 0, // the service spells "no limit" 0
    reservationTtlMs: durationMs(s.sale.reservationTtl),
    opensAtEpochMs,
    payment: { declineRate: s.sale.payment.declineRate, latencyMs: durationMs(s.sale.payment.latency) },
  };
}

/** Units on sale, per SKU (a Map: SKU ids like "__proto__" are user input) and in total. */
export function stockOf(s: Scenario): { bySku: Map<string, number>; total: number } {
  return { bySku: new Map(s.sale.skus.map((sku) => [sku.id, sku.stock])), total: s.sale.skus.reduce((n, sku) => n + sku.stock, 0) };
}

/** The per-user limit as a number, or null for "none". */
export function perUserLimitOf(s: Scenario): number | null {
  return s.sale.perUserLimit === 'none' ? null : s.sale.perUserLimit;
}
