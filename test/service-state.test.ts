// The inventory the audit reads: `available` from the stock core, `reserved` and `sold` from the
// service's own counters, so their sum equals the stock only when the two bookkeepings agree.
import { describe, expect, it } from 'vitest';
import { checkTableMemory, createSaleShared, SaleState } from '../src/service/state.ts';
import { createIdempotencyTable, idempotencyTableBytes } from '../src/service/idempotency.ts';
import { createReservationTable, reservationTableBytes } from '../src/service/reservations.ts';
import { createUserLimits, userLimitsBytes } from '../src/stock/user-limits.ts';
import { UsageError } from '../src/errors.ts';
import type { SaleDefinition } from '../src/service/index.ts';

const sale: SaleDefinition = {
  skus: [{ id: 'phone', stock: 10 }],
  perUserLimit: 0,
  reservationTtlMs: 60_000,
  opensAtEpochMs: null,
  payment: { declineRate: 0, latencyMs: 0 },
};

function state(): SaleState {
  return new SaleState(createSaleShared(1, sale, 'atomic', { soldBySku: new Map(), orders: 0, users: [], keys: [] }, { threads: 1, expectedUsers: 10 }), 0, 1);
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

describe('shared table memory', () => {
  const bytesOf = (o: object) => Object.values(o).reduce((n: number, v) => n + (v instanceof SharedArrayBuffer ? v.byteLength : 0), 0);

  it('estimates exactly what each table allocates', () => {
    for (const n of [1, 1000, 70_000]) {
      expect(idempotencyTableBytes(n)).toBe(bytesOf(createIdempotencyTable(n)));
      expect(reservationTableBytes(n)).toBe(bytesOf(createReservationTable(n)));
      const users = createUserLimits(n);
      expect(userLimitsBytes(n)).toBe(bytesOf(users) - users.header.byteLength);
    }
  });

  it('refuses tables over half the machine, naming the users and the way out, before allocating', () => {
    expect(() => checkTableMemory(1000, 600, 1000)).toThrow(UsageError);
    expect(() => checkTableMemory(10_000_000, 3 * 2 ** 30, 4 * 2 ** 30)).toThrow(/10,000,000 expected users need 3\.0 GB .* 4\.0 GB: the per-user, reservation and idempotency tables .* lower the expected users \(flashsale serve --expected-users/);
    expect(() => checkTableMemory(1000, 500, 1000)).not.toThrow();
  });

  it('is checked by createSaleShared itself', () => {
    const small = { skus: [{ id: 'x', stock: 10 }], perUserLimit: 1, reservationTtlMs: 1000, opensAtEpochMs: null, payment: { declineRate: 0, latencyMs: 0 } };
    const empty = { soldBySku: new Map(), orders: 0, users: [], keys: [] };
    expect(() => createSaleShared(1, small, 'atomic', empty, { threads: 1, expectedUsers: 1000, machineBytes: 2 ** 20 })).toThrow(UsageError);
    expect(() => createSaleShared(1, small, 'atomic', empty, { threads: 1, expectedUsers: 1000, machineBytes: 2 ** 34 })).not.toThrow();
  });
});
