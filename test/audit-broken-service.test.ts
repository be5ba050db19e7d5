// Proves the audit can fail: a deliberately broken service, a few hundred real requests sent with
// undici (not the load engine), then fetchAuditInputs + auditRun must catch each break by id.
import { afterEach, describe, expect, it } from 'vitest';
import { auditRun, fetchAuditInputs } from '../src/audit/index.ts';
import type { AckedOrder, AuditResult } from '../src/contract/result.ts';
import { startBrokenService } from './fixtures/broken-service.ts';
import { driveCheckouts } from './helpers/drive-checkouts.ts';
import type { BreakMode, BrokenService } from './fixtures/broken-service.ts';

const STOCK = { 'sku-a': 60, 'sku-b': 40 };
const LIMIT = 1;
let service: BrokenService | undefined;

afterEach(async () => {
  await service?.close();
  service = undefined;
});

function drive(url: string): Promise<AckedOrder[]> {
  return driveCheckouts(url, ['sku-a', 'sku-b'], 'k');
}

async function runAgainst(mode: BreakMode): Promise<AuditResult> {
  service = await startBrokenService(mode, STOCK, LIMIT);
  const ackedOrders = await drive(service.url);
  const inputs = await fetchAuditInputs(service.url, Object.keys(STOCK), { adminToken: service.adminToken });
  return auditRun({ ...inputs, ackedOrders, perUserLimit: LIMIT, initialStock: new Map(Object.entries(STOCK)) });
}

function failed(result: AuditResult): string[] {
  return result.checks.filter((c) => !c.passed).map((c) => c.id);
}

describe('audit against a deliberately broken service', () => {
  it('passes a correct service', async () => {
    const r = await runAgainst('correct');
    expect(failed(r)).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.oversold).toBe(0);
    expect(r.lostOrders).toBe(0);
  });

  it('catches an oversell, naming the SKU', async () => {
    const r = await runAgainst('oversell');
    expect(r.passed).toBe(false);
    expect(failed(r)).toContain('sold_within_stock');
    expect(failed(r)).toContain('stock_conserved');
    expect(r.oversold).toBeGreaterThan(0);
    expect(r.checks.find((c) => c.id === 'sold_within_stock')?.offending).toContain('sku-a');
  });

  it('catches acknowledged orders missing from the ledger, with their ids', async () => {
    const r = await runAgainst('lose-orders');
    // The inventory counts the orders the ledger lacks: the two books disagree too.
    expect(failed(r)).toEqual(['acked_orders_in_ledger', 'inventory_matches_ledger']);
    const check = r.checks.find((c) => c.id === 'acked_orders_in_ledger')!;
    expect(r.lostOrders).toBe(check.offendingCount);
    expect(check.offending).toContain('order-10');
  });

  it('catches users above the per-user limit', async () => {
    const r = await runAgainst('ignore-limit');
    expect(failed(r)).toEqual(['per_user_limit']);
    expect(r.checks.find((c) => c.id === 'per_user_limit')!.offendingCount).toBeGreaterThan(0);
  });

  it('catches a duplicated order id', async () => {
    const r = await runAgainst('duplicate-order-id');
    expect(failed(r)).toContain('unique_order_ids');
    expect(r.checks.find((c) => c.id === 'unique_order_ids')!.offending).toContain('order-6');
  });

  it('skips the ledger checks, with the reason, when no admin token is given', async () => {
    service = await startBrokenService('lose-orders', STOCK, LIMIT);
    const ackedOrders = await drive(service.url);
    const inputs = await fetchAuditInputs(service.url, Object.keys(STOCK));
    const r = auditRun({ ...inputs, ackedOrders, perUserLimit: LIMIT, initialStock: new Map(Object.entries(STOCK)) });
    const ledger = r.checks.find((c) => c.id === 'acked_orders_in_ledger')!;
    expect(ledger).toMatchObject({ skipped: true, passed: false });
    expect(ledger.detail).toMatch(/no admin token/);
    expect(r.passed).toBe(true);
  });

  it('skips the inventory check for a target without the inventory route', async () => {
    service = await startBrokenService('correct', STOCK, LIMIT);
    const inputs = await fetchAuditInputs(service.url, ['not-on-sale'], { adminToken: service.adminToken });
    expect(inputs.inventory).toBeNull();
    expect(inputs.unavailable.inventory).toMatch(/answered 404/);
    const r = auditRun({ ...inputs, ackedOrders: [], perUserLimit: LIMIT, initialStock: new Map([['not-on-sale', 5]]) });
    expect(r.checks.find((c) => c.id === 'stock_conserved')).toMatchObject({ skipped: true, passed: false });
  });
});
