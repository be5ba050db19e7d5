// On start with a ledger that already holds sales: continue the latest one, begin a new one, or refuse.
// A sale is never replaced silently: starting afresh puts every unit back on sale and lets everyone buy
// again, while the orders already acknowledged stay in the ledger, no longer served.
import { SaleConflictError } from '../errors.ts';
import type { Recovery } from '../ledger/store.ts';
import { saleIdentity, type SaleDefinition } from './sale.ts';

export type SaleStart =
  | { kind: 'continue'; saleId: number; recovery: Recovery; log: string }
  | { kind: 'new'; log: (saleId: number) => string };

export interface LatestSale { id: number; definition: string; recovery: Recovery }

export function describeSale(sale: Pick<SaleDefinition, 'skus' | 'perUserLimit'>): string {
  const skus = sale.skus.map((s) => `${s.id} × ${s.stock.toLocaleString('en-US')}`).join(', ');
  return `SKUs ${skus}; per-user limit ${sale.perUserLimit === 0 ? 'off' : sale.perUserLimit}`;
}

function orders(n: number): string {
  return `${n.toLocaleString('en-US')} order${n === 1 ? '' : 's'}`;
}

/**
 * `latest`: the ledger's latest sale and what its orders rebuild (null: an empty ledger). `newSale`:
 * the caller asked for a new sale (--new-sale). Throws SaleConflictError rather than replace a sale
 * that has orders with a different one.
 */
export function chooseSaleStart(latest: LatestSale | null, sale: SaleDefinition, newSale: boolean, ledgerPath: string): SaleStart {
  if (latest === null) return { kind: 'new', log: (id) => `new sale ${id}` };
  const previous = JSON.parse(latest.definition) as SaleDefinition; // written by this service from a parsed sale
  const n = latest.recovery.orders;
  if (newSale) return { kind: 'new', log: (id) => `new sale ${id} (asked for; sale ${latest.id} with ${orders(n)} stays in the ledger, no longer served)` };
  if (saleIdentity(previous) === saleIdentity(sale)) {
    return { kind: 'continue', saleId: latest.id, recovery: latest.recovery, log: `continuing sale ${latest.id} with ${orders(n)}` };
  }
  if (n === 0) return { kind: 'new', log: (id) => `new sale ${id} (sale ${latest.id} had no orders)` };
  throw new SaleConflictError(
    `the ledger ${ledgerPath} holds sale ${latest.id} with ${orders(n)} (${describeSale(previous)}), ` +
      `but this start defines ${describeSale(sale)}. Replacing it would put every unit back on sale and let its buyers buy again. ` +
      `Start with the same SKUs, stock and per-user limit to continue it, or pass --new-sale to begin a new sale (sale ${latest.id}'s orders stay in the ledger).`,
  );
}
