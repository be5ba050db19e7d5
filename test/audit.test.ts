import { describe, expect, it } from 'vitest';
import { auditRun, describeAuditFailures, MAX_OFFENDING_LISTED, parseLedgerNdjson } from '../src/audit/index.ts';
import type { AuditInput } from '../src/audit/index.ts';
import type { AckedOrder, AuditResult } from '../src/result/types.ts';

function orders(n: number, sku = 'a', from = 0): AckedOrder[] {
  return Array.from({ length: n }, (_, i) => ({ orderId: `o${from + i}`, userId: `u${from + i}`, sku, qty: 1 }));
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
  it('passes a consistent sale and runs all six checks', () => {
    const r = auditRun(input());
    expect(r.passed).toBe(true);
    expect(r.checks.map((c) => c.id)).toEqual(['sold_within_stock', 'stock_conserved', 'per_user_limit', 'unique_order_ids', 'acked_orders_in_ledger', 'acked_counted_as_sold']);
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
