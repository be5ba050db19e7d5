// `--rebuild-stock`, and what start-up does when Redis has no stock for the sale (it restarted or was
// flushed: it keeps nothing on disk here): the stock comes back from the ledger as
//   available = initial − sold − held
// where sold is the ledger's orders and held the sale's open reservations, kept in the ledger's
// reservations table: open (not released), not expired at the count, and not paid (a paid reservation is
// the order of the same id). They come back as holds that can still be paid and still expire.
// The ledger raises the stock epoch in the same transaction that counts the sales (PgLedger.beginRebuild),
// so an order or reservation taken from the lost Redis can no longer commit after the count.
import { FlashsaleError } from '../errors.ts';
import type { PgLedger, PgRecovery } from './postgres/ledger.ts';
import type { StockLoad, StockStore } from './stock-store.ts';

export interface SaleStock {
  skus: ReadonlyArray<{ id: string; stock: number }>;
  /** Units per user (0: none): whether a restored reservation gives allowance back when it ends. */
  perUserLimit?: number;
}

/** The 201 body a replayed key answers with: the service's own (src/service/purchases.ts). */
export function orderAnswer(orderId: string): string {
  return JSON.stringify({ orderId });
}

/** What the store must hold, computed from the ledger's recovery. Refuses a ledger that contradicts the sale. */
export function stockLoad(sale: SaleStock, epoch: number, recovery: PgRecovery): StockLoad {
  const index = new Map(sale.skus.map((s, i) => [s.id, i]));
  const find = (sku: string, what: string) => {
    const i = index.get(sku);
    if (i === undefined) throw new FlashsaleError(`the ledger holds ${what} for SKU "${sku}", which this sale does not define`);
    return i;
  };
  const holds = recovery.holds ?? [];
  const sold = sale.skus.map(() => 0);
  const held = sale.skus.map(() => 0);
  for (const [sku, n] of recovery.soldBySku) sold[find(sku, 'orders')] += n;
  for (const h of holds) held[find(h.sku, 'a reservation')] += h.qty;
  sale.skus.forEach((s, i) => {
    if (sold[i] + held[i] > s.stock) throw new FlashsaleError(`the ledger holds ${sold[i]} units sold and ${held[i]} held of SKU "${s.id}", over its stock of ${s.stock}`);
  });
  const users: StockLoad['users'] = recovery.usersBySku.map(([sku, userId, n]) => [find(sku, 'orders'), userId, n]);
  for (const h of holds) users.push([find(h.sku, 'a reservation'), h.userId, h.qty]);
  const limited = (sale.perUserLimit ?? 0) > 0;
  return {
    epoch,
    skus: sale.skus.map((s, i) => ({ initial: s.stock, sold: sold[i], held: held[i] })),
    users,
    keys: [
      ...recovery.keys.map((k) => ({ sku: find(k.sku, 'a keyed order'), key: k.key, fingerprint: k.fingerprint, orderId: k.orderId, userId: k.userId, answer: orderAnswer(k.orderId), of: k.pays ? ('pay' as const) : ('checkout' as const) })),
      ...(recovery.reservationKeys ?? []).map((k) => ({ sku: find(k.sku, 'a keyed reservation'), key: k.key, fingerprint: k.fingerprint, orderId: k.reservationId, userId: '', answer: k.answer, of: 'reserve' as const })),
    ],
    holds: holds.map((h) => ({ sku: find(h.sku, 'a reservation'), holdId: h.reservationId, qty: h.qty, userId: h.userId, limited, expiresAt: h.expiresAt })),
  };
}

export interface RebuildReport { epoch: number; loaded: boolean; sold: number[]; available: number[] }

/**
 * Raises the ledger's stock epoch, counts the sale and loads the store. `loaded` false: another process
 * loaded a newer epoch meanwhile (its load stands; this one changed nothing).
 */
export async function rebuildStock(ledger: PgLedger, store: StockStore, saleId: number, sale: SaleStock): Promise<RebuildReport> {
  const { epoch, recovery } = await ledger.beginRebuild(saleId);
  const load = stockLoad(sale, epoch, recovery);
  const loaded = await store.load(load);
  return { epoch, loaded, sold: load.skus.map((s) => s.sold), available: load.skus.map((s) => s.initial - s.sold - s.held) };
}

/** Start-up: rebuilds only when the store lacks some SKU's stock (Redis restarted or was flushed). null: nothing to do. */
export async function ensureStock(ledger: PgLedger, store: StockStore, saleId: number, sale: SaleStock): Promise<RebuildReport | null> {
  for (let sku = 0; sku < sale.skus.length; sku++) {
    if ((await store.snapshot(sku)) === null) return rebuildStock(ledger, store, saleId, sale);
  }
  return null;
}
