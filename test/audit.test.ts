import { describe, expect, it } from 'vitest';
import { auditRun, describeAuditFailures, MAX_OFFENDING_LISTED, parseLedgerNdjson } from '../src/audit/index.ts';
import type { AuditInput } from '../src/audit/index.ts';
import type { AckedOrder, AuditResult } from '../src/contract/result.ts';

function orders(n: number, sku = 'a', from = 0): AckedOrder[] {
  return Array.from({ length: n }, (_, i) => ({ orderId: `o${from + i}`, userId: `u${from + i}`, sku, qty: 1, idempotencyKey: `k${from + i}` }));
}

function input(over: Partial<AuditInput> = {}): AuditInput {
  const acked = orders(10);
  return {
    inventory: [{ sku: 'a', initial: 10, available: 0, reserved: 0, sold: 10 }],
    ledgerOrders: acked,
    ackedOrders: acked,
    perUserLimit: 1,
    initialStock: new Map([['a', 10]]),
    ...over,
  };
}

const byId = (r: AuditResult, id: string) => r.checks.find((c) => c.id === id)!;

describe('auditRun', () => {
  it('passes a consistent sale and runs all eight checks', () => {
    const r = auditRun(input());
    expect(r.passed).toBe(true);
    expect(r.checks.map((c) => c.id)).toEqual([
      'sold_within_stock',
      'stock_conserved',
      'per_user_limit',
      'unique_order_ids',
      'acked_orders_in_ledger',
      'acked_counted_as_sold',
      'inventory_matches_ledger',
      'one_order_per_key',
    ]);
    expect(r.checks.every((c) => c.passed && !c.skipped)).toBe(true);
  });

  it('finds an oversell the client saw even when the server counters claim none', () => {
    const acked = orders(12);
    const r = auditRun(input({ ackedOrders: acked, ledgerOrders: acked }));
    expect(r.oversold).toBe(2);
    expect(byId(r, 'sold_within_stock')).toMatchObject({ passed: false, offending: ['a'] });
    expect(byId(r, 'sold_within_stock').detail).toMatch(/acknowledged to the client 12/);
  });

  it('flags units sold of a SKU that was never on sale', () => {
    const acked = [...orders(10), { orderId: 'x', userId: 'ux', sku: 'ghost', qty: 1 }];
    const r = auditRun(input({ ackedOrders: acked, ledgerOrders: acked }));
    expect(byId(r, 'sold_within_stock').offending).toEqual(['ghost']);
  });

  it('checks conservation: sold + available + reserved = stock', () => {
    const r = auditRun(input({ inventory: [{ sku: 'a', initial: 10, available: 1, reserved: 1, sold: 10 }] }));
    expect(byId(r, 'stock_conserved')).toMatchObject({ passed: false, offending: ['a'] });
    expect(byId(r, 'stock_conserved').detail).toMatch(/= 12, stock 10/);
  });

  it('treats an idempotent replay of the same order as one order, a reused id as a duplicate', () => {
    const acked = orders(5);
    const replay = auditRun(input({ inventory: null, ackedOrders: [...acked, acked[0]], ledgerOrders: acked, initialStock: new Map([['a', 5]]) }));
    expect(byId(replay, 'unique_order_ids').passed).toBe(true);
    expect(byId(replay, 'per_user_limit').passed).toBe(true);
    const reused = auditRun(input({ inventory: null, ackedOrders: [...acked, { ...acked[1], userId: 'someone-else' }], ledgerOrders: acked }));
    expect(byId(reused, 'unique_order_ids').offending).toEqual(['o1']);
    const ledgerDup = auditRun(input({ inventory: null, ledgerOrders: [...acked, acked[2]], ackedOrders: acked }));
    expect(byId(ledgerDup, 'unique_order_ids').offending).toEqual(['o2']);
  });

  it('counts the limit per user across SKUs, or per SKU when asked', () => {
    const acked = [
      { orderId: '1', userId: 'u', sku: 'a', qty: 1 },
      { orderId: '2', userId: 'u', sku: 'b', qty: 1 },
    ];
    const base = { inventory: null, ackedOrders: acked, ledgerOrders: acked, initialStock: new Map([['a', 5], ['b', 5]]) };
    expect(byId(auditRun(input(base)), 'per_user_limit').offending).toEqual(['u']);
    expect(byId(auditRun(input({ ...base, limitScope: 'user-sku' })), 'per_user_limit').passed).toBe(true);
  });

  it('lists at most 100 offending ids and gives the total count', () => {
    const acked = orders(250);
    const r = auditRun(input({ inventory: null, initialStock: new Map([['a', 1000]]), ackedOrders: acked, ledgerOrders: [] }));
    const check = byId(r, 'acked_orders_in_ledger');
    expect(check.offending).toHaveLength(MAX_OFFENDING_LISTED);
    expect(check.offendingCount).toBe(250);
    expect(r.lostOrders).toBe(250);
    expect(describeAuditFailures(r)[0]).toMatch(/250 acknowledged orders missing .*\[o0, o1, .* and 240 more\]$/);
  });

  it('reports an order recorded with a different purchase as mismatched, not lost', () => {
    const acked = orders(3);
    const r = auditRun(input({ inventory: null, ackedOrders: acked, ledgerOrders: [acked[0], acked[1], { ...acked[2], qty: 2 }] }));
    expect(byId(r, 'acked_orders_in_ledger').offending).toEqual(['o2']);
    expect(r.lostOrders).toBe(0);
  });

  it('finds acknowledged orders the target never recorded without its ledger: acked > sold, or > initial − available − reserved', () => {
    const acked = orders(1000);
    const base = { ackedOrders: acked, ledgerOrders: null, initialStock: new Map([['a', 1000]]), unavailable: { ledger: 'no admin token' } };
    // "990 sold" after 1,000 acknowledged, one connection, no race: at least 10 orders lost.
    const bySold = auditRun(input({ ...base, inventory: [{ sku: 'a', initial: 1000, available: 10, reserved: 0, sold: 990 }] }));
    expect(byId(bySold, 'acked_counted_as_sold')).toMatchObject({ passed: false, skipped: false, offending: ['a'] });
    expect(byId(bySold, 'acked_counted_as_sold').detail).toMatch(/^at least 10 acknowledged orders lost: a: 1,000 units acknowledged, the inventory counts 990 sold/);
    expect(bySold).toMatchObject({ passed: false, lostOrders: 10 });
    // Counters that say 1,000 sold but still 10 available and 5 reserved: the stock says 985 went.
    const byStock = auditRun(input({ ...base, inventory: [{ sku: 'a', initial: 1000, available: 10, reserved: 5, sold: 1000 }] }));
    expect(byStock.lostOrders).toBe(15);
    // Orders of 3 units: 30 units missing are at least 10 orders.
    const big = acked.slice(0, 100).map((o) => ({ ...o, qty: 3 }));
    const byQty = auditRun(input({ ...base, ackedOrders: big, inventory: [{ sku: 'a', initial: 1000, available: 730, reserved: 0, sold: 270 }] }));
    expect(byQty.lostOrders).toBe(10);
    // Everything counted: the check passes; without an inventory it is skipped, never passed.
    expect(byId(auditRun(input()), 'acked_counted_as_sold')).toMatchObject({ passed: true, skipped: false });
    expect(byId(auditRun(input({ inventory: null })), 'acked_counted_as_sold')).toMatchObject({ passed: false, skipped: true });
  });

  it('skips the per-user check, saying why, when the sale has no per-user limit', () => {
    expect(byId(auditRun(input({ perUserLimit: null })), 'per_user_limit')).toMatchObject({ skipped: true, detail: 'skipped: the sale has no per-user limit' });
  });

  it('counts orders without an id one by one: a target whose answers carry none is not one order', () => {
    const anonymous = orders(12).map((o) => ({ ...o, orderId: '' }));
    const r = auditRun(input({ ackedOrders: anonymous, ledgerOrders: null }));
    expect(r.oversold).toBe(2);
  });

  it('marks checks it cannot make as skipped with the reason, never as passed', () => {
    const r = auditRun(input({ inventory: null, ledgerOrders: null, unavailable: { inventory: 'GET answered 404', ledger: 'no token' } }));
    expect(byId(r, 'stock_conserved')).toMatchObject({ skipped: true, passed: false, detail: 'skipped: GET answered 404' });
    expect(byId(r, 'acked_orders_in_ledger')).toMatchObject({ skipped: true, passed: false, detail: 'skipped: no token' });
    expect(byId(r, 'per_user_limit').detail).toMatch(/client saw acknowledged/);
    expect(r.passed).toBe(true);
  });
});

describe('parseLedgerNdjson', () => {
  it('reads the ledger lines and rejects a malformed one by line number', () => {
    const text = '{"orderId":"o1","sku":"a","userId":"u","qty":1,"createdAt":1}\n\n{"orderId":"o2","sku":"a","userId":"v","qty":2,"createdAt":2}\n';
    expect(parseLedgerNdjson(text)).toEqual([
      { orderId: 'o1', sku: 'a', userId: 'u', qty: 1 },
      { orderId: 'o2', sku: 'a', userId: 'v', qty: 2 },
    ]);
    expect(() => parseLedgerNdjson('{"orderId":"o1"}\n')).toThrow(/line 1/);
  });
});
