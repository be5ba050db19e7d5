// The post-run audit: reconciles three views of the sale — the service's inventory counters, its
// order ledger, and the orders the load generator saw acknowledged — and says which invariant broke
// and for which ids. Pure: the inputs are fetched elsewhere (fetch.ts), so it can be tested on
// hand-made data. A check that cannot be made (no inventory route, no ledger access) is marked
// skipped with the reason and passed=false, so nobody reads it as a pass; the verdict ignores it.
import type { AckedOrder, AuditCheck, AuditResult, InventoryState } from '../contract/result.ts';

export const MAX_OFFENDING_LISTED = 100;

export interface AuditInput {
  /** GET /api/v1/inventory/:sku per SKU; null when the target has no such route (see `unavailable`). */
  inventory: InventoryState[] | null;
  /** The service's ledger (GET /admin/orders); null when it could not be read (see `unavailable`). */
  ledgerOrders: AckedOrder[] | null;
  /** Orders the generator saw acknowledged. */
  ackedOrders: AckedOrder[];
  /** Units one user may buy; null: the sale has no per-user limit (the check is skipped, saying so). */
  perUserLimit: number | null;
  /** Units on sale per SKU, from the scenario. A Map: SKU ids are user input ("__proto__" is one). */
  initialStock: ReadonlyMap<string, number>;
  /** Why inventory or ledger are null, in words for the report. */
  unavailable?: { inventory?: string; ledger?: string };
  /** What the per-user limit counts: all of a user's units ('user', the built-in service) or per SKU. */
  limitScope?: 'user' | 'user-sku';
}

function check(id: AuditCheck['id'], title: string, offending: string[], detail: string): AuditCheck {
  return {
    id,
    title,
    passed: offending.length === 0,
    skipped: false,
    detail,
    offending: offending.slice(0, MAX_OFFENDING_LISTED),
    offendingCount: offending.length,
  };
}

function skipped(id: AuditCheck['id'], title: string, reason: string): AuditCheck {
  return { id, title, passed: false, skipped: true, detail: `skipped: ${reason}`, offending: [], offendingCount: 0 };
}

function unitsBySku(orders: readonly AckedOrder[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const o of orders) m.set(o.sku, (m.get(o.sku) ?? 0) + o.qty);
  return m;
}

/** Orders once each by id: an idempotent replay of the same answer is one order, not two. An order
 * without an id (a target whose answers carry none) cannot be a replay: each one counts. */
export function distinctById(orders: readonly AckedOrder[]): AckedOrder[] {
  const seen = new Map<string, AckedOrder>();
  const anonymous: AckedOrder[] = [];
  for (const o of orders) {
    if (o.orderId === '') anonymous.push(o);
    else if (!seen.has(o.orderId)) seen.set(o.orderId, o);
  }
  return [...seen.values(), ...anonymous];
}

/** Units in the distinct acknowledged orders: what the buyers were told they bought, in total. */
export function acknowledgedUnits(orders: readonly AckedOrder[]): number {
  let n = 0;
  for (const o of distinctById(orders)) n += o.qty;
  return n;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

export function soldWithinStock(input: AuditInput, stock: Map<string, number>): { check: AuditCheck; oversold: number } {
  // Three views of units sold; the worst one counts, so a service cannot hide an oversell in one of them.
  const views: Array<[string, Map<string, number>]> = [['acknowledged to the client', unitsBySku(distinctById(input.ackedOrders))]];
  if (input.ledgerOrders) views.push(['in the ledger', unitsBySku(distinctById(input.ledgerOrders))]);
  if (input.inventory) views.push(['sold per the inventory', new Map(input.inventory.map((i) => [i.sku, i.sold]))]);
  const skus = new Set<string>(stock.keys());
  for (const [, v] of views) for (const sku of v.keys()) skus.add(sku);
  const offending: string[] = [];
  const details: string[] = [];
  let oversold = 0;
  for (const sku of skus) {
    const limit = stock.get(sku) ?? 0;
    const worst = Math.max(0, ...views.map(([, v]) => v.get(sku) ?? 0));
    if (worst > limit) {
      offending.push(sku);
      oversold += worst - limit;
      const parts = views.map(([label, v]) => `${label} ${(v.get(sku) ?? 0).toLocaleString('en-US')}`).join(', ');
      details.push(`${sku}: ${parts}; stock ${stock.has(sku) ? limit.toLocaleString('en-US') : 'none (not on sale)'}`);
    }
  }
  const detail =
    offending.length === 0
      ? `no SKU sold beyond its stock (units ${views.map(([l]) => l).join(', ')})`
      : `${plural(oversold, 'unit')} oversold: ${details.slice(0, 10).join('; ')}`;
  return { check: check('sold_within_stock', 'Units sold ≤ stock', offending, detail), oversold };
}

function stockConserved(input: AuditInput, stock: Map<string, number>): AuditCheck {
  const title = 'sold + available + reserved = stock';
  if (!input.inventory) return skipped('stock_conserved', title, input.unavailable?.inventory ?? 'the target has no inventory route');
  const bySku = new Map(input.inventory.map((i) => [i.sku, i]));
  const offending: string[] = [];
  const details: string[] = [];
  for (const [sku, initial] of stock) {
    const inv = bySku.get(sku);
    if (!inv) {
      offending.push(sku);
      details.push(`${sku}: missing from the inventory`);
      continue;
    }
    const total = inv.sold + inv.available + inv.reserved;
    if (total !== initial || inv.initial !== initial || inv.available < 0 || inv.reserved < 0) {
      offending.push(sku);
      details.push(`${sku}: sold ${inv.sold} + available ${inv.available} + reserved ${inv.reserved} = ${total}, stock ${initial} (service says initial ${inv.initial})`);
    }
  }
  const detail = offending.length === 0 ? `every unit of ${plural(stock.size, 'SKU')} accounted for` : details.slice(0, 10).join('; ');
  return check('stock_conserved', title, offending, detail);
}

function perUserLimit(input: AuditInput): AuditCheck {
  if (input.perUserLimit === null) return skipped('per_user_limit', 'No user above the per-user limit', 'the sale has no per-user limit');
  const limit = input.perUserLimit;
  const fromLedger = input.ledgerOrders !== null;
  const orders = distinctById(input.ledgerOrders ?? input.ackedOrders);
  const byUser = new Map<string, number>();
  for (const o of orders) {
    const key = input.limitScope === 'user-sku' ? `${o.userId} (${o.sku})` : o.userId;
    byUser.set(key, (byUser.get(key) ?? 0) + o.qty);
  }
  const offending = [...byUser].filter(([, units]) => units > limit).map(([user]) => user);
  const source = fromLedger ? 'the ledger' : 'the orders the client saw acknowledged (no ledger)';
  let worst = 0;
  for (const units of byUser.values()) if (units > worst) worst = units;
  const detail =
    offending.length === 0
      ? `no user above ${limit} unit(s), by ${source}`
      : `${plural(offending.length, 'user')} above the limit of ${limit} (up to ${worst} units), by ${source}`;
  return check('per_user_limit', `No user above the limit of ${limit}`, offending, detail);
}

export function uniqueOrderIds(input: AuditInput): AuditCheck {
  const offending = new Set<string>();
  if (input.ledgerOrders) {
    const seen = new Set<string>();
    for (const o of input.ledgerOrders) {
      if (seen.has(o.orderId)) offending.add(o.orderId);
      seen.add(o.orderId);
    }
  }
  // The client may see one order twice (an idempotent retry); one id for two different purchases is a bug.
  const firstAck = new Map<string, AckedOrder>();
  for (const o of input.ackedOrders) {
    const first = firstAck.get(o.orderId);
    if (first && (first.userId !== o.userId || first.sku !== o.sku || first.qty !== o.qty)) offending.add(o.orderId);
    if (!first) firstAck.set(o.orderId, o);
  }
  const list = [...offending];
  const where = input.ledgerOrders ? 'in the ledger and the acknowledged orders' : 'in the acknowledged orders (no ledger)';
  const detail = list.length === 0 ? `every order id is unique ${where}` : `${plural(list.length, 'order id')} used more than once ${where}`;
  return check('unique_order_ids', 'No duplicate order id', list, detail);
}

function ackedInLedger(input: AuditInput): { check: AuditCheck; lost: number } {
  const title = 'Every acknowledged order is in the ledger';
  if (!input.ledgerOrders) return { check: skipped('acked_orders_in_ledger', title, input.unavailable?.ledger ?? 'the ledger could not be read'), lost: 0 };
  const ledger = new Map<string, AckedOrder>();
  for (const o of input.ledgerOrders) if (!ledger.has(o.orderId)) ledger.set(o.orderId, o);
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const o of distinctById(input.ackedOrders)) {
    const l = ledger.get(o.orderId);
    if (!l) missing.push(o.orderId);
    else if (l.userId !== o.userId || l.sku !== o.sku || l.qty !== o.qty) mismatched.push(o.orderId);
  }
  const acked = distinctById(input.ackedOrders).length;
  const parts: string[] = [];
  if (missing.length) parts.push(`${plural(missing.length, 'acknowledged order')} missing from the ledger`);
  if (mismatched.length) parts.push(`${plural(mismatched.length, 'order')} recorded with a different user, SKU or quantity`);
  const detail = parts.length === 0 ? `all ${plural(acked, 'acknowledged order')} found in the ledger` : parts.join('; ');
  return { check: check('acked_orders_in_ledger', title, [...missing, ...mismatched], detail), lost: missing.length };
}

/**
 * Without reading the ledger, the inventory alone still bounds lost orders from below: units the buyers
 * were told they bought that the target does not count as sold (by `sold`, or by what is missing from
 * its stock, initial − available − reserved, whichever counts fewer) were acknowledged and not recorded.
 * Read after every request of the run has finished, so nothing is still on its way.
 */
function ackedCountedAsSold(input: AuditInput): { check: AuditCheck; lost: number } {
  const title = 'Every acknowledged unit is counted as sold by the inventory';
  if (!input.inventory) return { check: skipped('acked_counted_as_sold', title, input.unavailable?.inventory ?? 'the target has no inventory route'), lost: 0 };
  const acked = new Map<string, { units: number; maxQty: number }>();
  for (const o of distinctById(input.ackedOrders)) {
    const a = acked.get(o.sku) ?? { units: 0, maxQty: 0 };
    acked.set(o.sku, { units: a.units + o.qty, maxQty: Math.max(a.maxQty, o.qty) });
  }
  const inventory = new Map(input.inventory.map((i) => [i.sku, i]));
  const offending: string[] = [];
  const details: string[] = [];
  let lost = 0;
  for (const [sku, a] of acked) {
    const inv = inventory.get(sku);
    const recorded = inv ? Math.min(inv.sold, inv.initial - inv.available - inv.reserved) : 0;
    if (a.units <= recorded) continue;
    const missing = a.units - recorded;
    // Each lost order took at least one unit and at most the largest quantity acknowledged for the SKU.
    const orders = Math.ceil(missing / Math.max(1, a.maxQty));
    lost += orders;
    offending.push(sku);
    details.push(
      inv
        ? `${sku}: ${a.units.toLocaleString('en-US')} units acknowledged, the inventory counts ${inv.sold.toLocaleString('en-US')} sold (initial ${inv.initial.toLocaleString('en-US')} − available ${inv.available.toLocaleString('en-US')} − reserved ${inv.reserved.toLocaleString('en-US')} = ${(inv.initial - inv.available - inv.reserved).toLocaleString('en-US')})`
        : `${sku}: ${a.units.toLocaleString('en-US')} units acknowledged, missing from the inventory`,
    );
  }
  const detail =
    offending.length === 0
      ? 'the inventory counts every acknowledged unit as sold'
      : `at least ${plural(lost, 'acknowledged order')} lost: ${details.slice(0, 10).join('; ')}`;
  return { check: check('acked_counted_as_sold', title, offending, detail), lost };
}

/** The inventory's units sold per SKU equal the ledger's: a unit counted sold with no order for it (or
 * an order whose units the inventory never took) is a sale the two books disagree on — what a crash
 * between the two writes leaves behind. */
export function inventoryMatchesLedger(input: AuditInput): AuditCheck {
  const title = 'Units sold per the inventory = units in the ledger';
  if (!input.inventory) return skipped('inventory_matches_ledger', title, input.unavailable?.inventory ?? 'the target has no inventory route');
  if (!input.ledgerOrders) return skipped('inventory_matches_ledger', title, input.unavailable?.ledger ?? 'the ledger could not be read');
  const ledger = unitsBySku(distinctById(input.ledgerOrders));
  const offending: string[] = [];
  const details: string[] = [];
  for (const inv of input.inventory) {
    const units = ledger.get(inv.sku) ?? 0;
    if (inv.sold !== units) {
      offending.push(inv.sku);
      details.push(`${inv.sku}: the inventory counts ${inv.sold.toLocaleString('en-US')} sold, the ledger holds ${units.toLocaleString('en-US')}`);
    }
  }
  const detail = offending.length === 0 ? `the inventory and the ledger agree on every SKU` : details.slice(0, 10).join('; ');
  return check('inventory_matches_ledger', title, offending, detail);
}

/** A buyer who retried with the same Idempotency-Key holds at most one order: two order ids
 * acknowledged to one key (or held by the ledger under one key, when it says) are a double sale. */
export function oneOrderPerKey(input: AuditInput): AuditCheck {
  const title = 'At most one order per idempotency key';
  const byKey = new Map<string, Set<string>>();
  for (const o of [...input.ackedOrders, ...(input.ledgerOrders ?? [])]) {
    if (o.idempotencyKey === undefined || o.orderId === '') continue;
    const ids = byKey.get(o.idempotencyKey) ?? new Set<string>();
    ids.add(o.orderId);
    byKey.set(o.idempotencyKey, ids);
  }
  if (byKey.size === 0) return skipped('one_order_per_key', title, 'no order carries its idempotency key (a result from before schema version 3, or none acknowledged)');
  const offending = [...byKey].filter(([, ids]) => ids.size > 1).map(([key]) => key);
  const detail = offending.length === 0 ? `${plural(byKey.size, 'idempotency key')}, one order each` : `${plural(offending.length, 'idempotency key')} with more than one order`;
  return check('one_order_per_key', title, offending, detail);
}

/** Orders the ledger holds that no buyer was told about: the answer was cut (a kill, a reset) after the
 * order committed. Legal — the buyer retries with the same key and gets that order — but counted. */
export function committedUnacknowledged(input: AuditInput): number | null {
  if (!input.ledgerOrders) return null;
  const acked = new Set(input.ackedOrders.map((o) => o.orderId));
  return distinctById(input.ledgerOrders).filter((o) => !acked.has(o.orderId)).length;
}

export function auditRun(input: AuditInput): AuditResult {
  const stock = new Map(input.initialStock);
  const sold = soldWithinStock(input, stock);
  const ledger = ackedInLedger(input);
  const counted = ackedCountedAsSold(input);
  const checks = [sold.check, stockConserved(input, stock), perUserLimit(input), uniqueOrderIds(input), ledger.check, counted.check, inventoryMatchesLedger(input), oneOrderPerKey(input)];
  const unacknowledged = committedUnacknowledged(input);
  return {
    passed: checks.every((c) => c.skipped || c.passed),
    checks,
    oversold: sold.oversold,
    // The ledger names each lost order; the inventory only bounds them from below.
    lostOrders: Math.max(ledger.lost, counted.lost),
    ...(unacknowledged === null ? {} : { committedUnacknowledged: unacknowledged }),
  };
}

/** Lost orders as far as the audit can know them: null when neither the ledger nor the inventory
 * check could be made, or only the inventory's lower bound could and it found none. */
export function knownLostOrders(audit: AuditResult | null): number | null {
  if (!audit) return null;
  const ledger = audit.checks.find((c) => c.id === 'acked_orders_in_ledger');
  if (ledger && !ledger.skipped) return audit.lostOrders;
  return audit.lostOrders > 0 ? audit.lostOrders : null;
}

/** The failed checks, one line each with the first offending ids. */
export function describeAuditFailures(result: AuditResult, listed = 10): string[] {
  return result.checks
    .filter((c) => !c.skipped && !c.passed)
    .map((c) => {
      const ids = c.offending.slice(0, listed).join(', ');
      const more = c.offendingCount > listed ? ` and ${c.offendingCount - listed} more` : '';
      return `${c.title}: ${c.detail} [${ids}${more}]`;
    });
}
