// The audit against the real built-in service: a small sale from a scenario, a few hundred
// checkouts sent with undici, and every check must pass, with the ledger read through the admin route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRun, fetchAuditInputs } from '../src/audit/index.ts';
import { perUserLimitOf, stockOf, toSaleDefinition, validateScenario } from '../src/scenario/index.ts';
import { startService } from '../src/service/index.ts';
import type { RunningService } from '../src/service/index.ts';
import { driveCheckouts } from './helpers/drive-checkouts.ts';

const scenario = validateScenario(
  {
    name: 'audit-service',
    description: 'A small two-SKU sale.',
    sale: { skus: [{ id: 'phone', stock: 80 }, { id: 'case', stock: 40 }], perUserLimit: 2 },
    buyers: { population: 200, arrival: { executor: 'constant-arrival-rate', rate: 100, duration: '3s' } },
  },
  'audit-service',
);
const TOKEN = 'audit-test-token';
let service: RunningService;

beforeAll(async () => {
  service = await startService({ sale: toSaleDefinition(scenario, null), threads: 1, adminToken: TOKEN, expectedUsers: 1000 });
});
afterAll(async () => {
  await service?.close();
});

describe('audit against the built-in service', () => {
  it('passes every check after a sale that sold out', async () => {
    // 300 checkouts from 150 users, each asking twice (once per SKU): more than the 120 units.
    const acked = await driveCheckouts(service.url, ['phone', 'case'], 'audit');
    expect(acked.length).toBe(stockOf(scenario).total);
    const inputs = await fetchAuditInputs(service.url, scenario.sale.skus.map((s) => s.id), { adminToken: TOKEN });
    expect(inputs.unavailable).toEqual({});
    expect(inputs.ledgerOrders?.length).toBe(acked.length);
    const result = auditRun({ ...inputs, ackedOrders: acked, perUserLimit: perUserLimitOf(scenario), initialStock: stockOf(scenario).bySku });
    expect(result.checks.filter((c) => !c.passed).map((c) => `${c.id}: ${c.detail}`)).toEqual([]);
    expect(result).toMatchObject({ passed: true, oversold: 0, lostOrders: 0 });
  });
});
