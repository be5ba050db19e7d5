// SKU ids are user input: ids that name Object.prototype members (`constructor`, `__proto__`,
// `toString`) are valid ids and must be plain keys everywhere (start-up, recovery, POST /admin/sale).
// A plain-object lookup made start-up throw a RangeError, /admin/sale answer 500, and `__proto__`'s
// sold count vanish on restart (an oversell).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type SaleDefinition } from '../src/service/index.ts';
import { call, inventory } from './helpers/http.ts';

const IDS = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];
const sale = (stock: number): SaleDefinition => ({
  skus: IDS.map((id) => ({ id, stock })),
  perUserLimit: 0,
  reservationTtlMs: 60_000,
  opensAtEpochMs: null,
  payment: { declineRate: 0, latencyMs: 0 },
});
const AUTH = { authorization: 'Bearer sku-ids-test-token' };

describe('SKU ids named like Object.prototype members', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flashsale-sku-ids-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('start, sell, survive a restart with their sold counts, and can be redefined', async () => {
    const ledgerPath = join(dir, 'ledger.sqlite');
    const first = await startService({ sale: sale(5), threads: 1, ledgerPath });
    try {
      for (const [i, id] of IDS.entries()) {
        for (let n = 0; n <= i; n++) expect((await call(first.url, 'POST', '/api/v1/checkout', { sku: id, userId: `u${n}`, qty: 1 })).status).toBe(201);
      }
    } finally {
      await first.close();
    }
    const second = await startService({ sale: sale(5), threads: 1, ledgerPath, adminToken: AUTH.authorization.slice(7) });
    try {
      for (const [i, id] of IDS.entries()) expect(await inventory(second.url, id)).toEqual({ initial: 5, available: 4 - i, reserved: 0, sold: i + 1 });
      const redefined = await call(second.url, 'POST', '/admin/sale', { ...sale(3), perUserLimit: 'none', force: true }, AUTH);
      expect([redefined.status, redefined.json]).toEqual([201, { saleId: expect.any(Number) }]);
      for (const id of IDS) expect(await inventory(second.url, id)).toEqual({ initial: 3, available: 3, reserved: 0, sold: 0 });
    } finally {
      await second.close();
    }
  });
});
