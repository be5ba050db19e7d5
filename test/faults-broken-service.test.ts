// The check can fail: a deliberately broken shop (test/fixtures/faults-file-shop.ts, mode ack-first)
// answers 201 before the order is on disk. Killed with SIGKILL mid-sale by ServiceProcess and restarted,
// it has lost orders it acknowledged, and the audit names them; their units went back on sale, so more
// units were acknowledged than the stock. The same shop writing each order before its 201 (durable)
// passes the same experiment, so it is the break that fails the audit, not the kill.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditRun, fetchAuditInputs } from '../src/audit/index.ts';
import { ServiceProcess } from '../src/faults/service-process.ts';
import { runCrowd } from './fixtures/faults-crowd.ts';

const SHOP = new URL('./fixtures/faults-file-shop.ts', import.meta.url).pathname;
const TOKEN = 'faults-test-token-0123456789';
const STOCK = 150;
const dir = mkdtempSync(join(tmpdir(), 'flashsale-faults-broken-'));
let shop: ServiceProcess | undefined;

afterEach(async () => {
  await shop?.stop(5_000);
  shop = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function killMidSale(mode: 'durable' | 'ack-first') {
  shop = new ServiceProcess({
    file: process.execPath,
    args: (port) => [SHOP, '--port', String(port), '--orders', join(dir, `${mode}.ndjson`), '--stock', String(STOCK), '--mode', mode, '--flush-ms', '5000'],
    port: 0,
    threads: 1,
    adminToken: TOKEN,
  });
  const service = shop;
  const { url } = await service.start();
  let restarted: Promise<unknown> = Promise.resolve();
  const crowd = await runCrowd({
    url,
    buyers: 400,
    concurrency: 8,
    t0: Date.now(),
    deadlineMs: 20_000,
    onAnswer: (n) => {
      // Mid-sale, before the broken shop's first flush (5 s after it started): it has acknowledged orders it has not written.
      if (n === 60) restarted = service.kill().then(() => service.restart());
    },
  });
  await restarted;
  const inputs = await fetchAuditInputs(url, ['phone'], { adminToken: TOKEN });
  return { crowd, audit: auditRun({ ...inputs, ackedOrders: crowd.acked, perUserLimit: 1, initialStock: new Map([['phone', STOCK]]) }) };
}

describe('a shop that acknowledges before the order is durable, killed mid-sale', () => {
  it('loses acknowledged orders, and the audit names them', async () => {
    const { crowd, audit } = await killMidSale('ack-first');
    expect(audit.passed).toBe(false);
    const ledger = audit.checks.find((c) => c.id === 'acked_orders_in_ledger')!;
    expect(ledger).toMatchObject({ passed: false, skipped: false });
    expect(ledger.offendingCount).toBeGreaterThan(0);
    expect(audit.lostOrders).toBe(ledger.offendingCount);
    // The offending ids are orders a buyer was told about.
    const ackedIds = new Set(crowd.acked.map((o) => o.orderId));
    for (const id of ledger.offending) expect(ackedIds.has(id)).toBe(true);
    // Their units went back on sale after the restart: more acknowledged than in stock.
    expect(crowd.acked.length).toBeGreaterThan(STOCK);
    expect(audit.checks.find((c) => c.id === 'sold_within_stock')).toMatchObject({ passed: false });
  });

  it('the same shop writing each order before its 201 passes the same experiment', async () => {
    const { crowd, audit } = await killMidSale('durable');
    expect(audit.checks.filter((c) => !c.passed && !c.skipped).map((c) => `${c.id}: ${c.detail}`)).toEqual([]);
    expect(crowd.acked.length).toBe(STOCK);
  });
});
