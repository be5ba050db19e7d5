// The inventory the audit reads: `available` from the stock core, `reserved` and `sold` from the
// service's own counters, so their sum equals the stock only when the two bookkeepings agree.
import { describe, expect, it } from 'vitest';
import { createSaleShared, SaleState } from '../src/service/state.ts';
import type { SaleDefinition } from '../src/service/index.ts';

const sale: SaleDefinition = {
  skus: [{ id: 'phone', stock: 10 }],
  perUserLimit: 0,
  reservationTtlMs: 60_000,
  opensAtEpochMs: null,
  payment: { declineRate: 0, latencyMs: 0 },
};

function state(): SaleState {
  return new SaleState(createSaleShared(1, sale, 'atomic', { soldBySku: {}, users: [], keys: [] }, { threads: 1, expectedUsers: 10 }), 0, 1);
}

describe('SaleState inventory', () => {
  it('moves units between available, reserved and sold as purchases settle', () => {
    const s = state();
    expect(s.stock.tryTake(0, 3)).toBe(true);
    s.hold(0, 3);
    expect(s.inventory(0)).toEqual({ initial: 10, available: 7, reserved: 3, sold: 0 });
    s.confirm(0, 2);
    s.giveBack(0, 1, 'u1');
    expect(s.inventory(0)).toEqual({ initial: 10, available: 8, reserved: 0, sold: 2 });
  });

  it('shows a leak: units taken from stock that the service never accounted for break the sum', () => {
    const s = state();
    expect(s.stock.tryTake(0, 2)).toBe(true); // a code path that forgot hold()
    const inv = s.inventory(0);
    expect(inv.available + inv.reserved + inv.sold).toBe(8); // not 10: the audit's conservation check fails
  });
});
