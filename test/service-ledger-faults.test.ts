// The ledger failing is visible on the server, not only as 500s: a dead ledger thread is logged, fails
// /healthz and makes shutdown fail (it used to leave a zombie: every order 500, /healthz 200, nothing
// logged, exit 0); a full disk is logged once, fails /healthz until commits work again, and loses
// nothing acknowledged.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startService, type SaleDefinition } from '../src/service/index.ts';
import { LedgerStore } from '../src/ledger/store.ts';
import { crashThread, mountTinyDisk } from './helpers/faults.ts';
import { call, eventually, inventory } from './helpers/http.ts';

const SALE: SaleDefinition = { skus: [{ id: 'phone', stock: 100_000 }], perUserLimit: 0, reservationTtlMs: 60_000, opensAtEpochMs: null, payment: { declineRate: 0, latencyMs: 0 } };
const checkout = (url: string, userId: string) => call(url, 'POST', '/api/v1/checkout', { sku: 'phone', userId, qty: 1 });

describe('ledger faults', () => {
  it('a dead ledger thread is logged, fails /healthz, and makes close() fail', async () => {
    const lines: string[] = [];
    const svc = await startService({ sale: SALE, threads: 1, log: (level, m) => void lines.push(`${level}: ${m}`) });
    let closed = false;
    try {
      expect((await checkout(svc.url, 'before')).status).toBe(201);
      await crashThread(svc, 'ledger');
      expect(await eventually(() => lines.some((l) => l.startsWith('error: the ledger thread died')))).toBe(true);
      const health = await call(svc.url, 'GET', '/healthz');
      expect([health.status, health.json]).toEqual([503, { status: 'unhealthy', problems: ['the ledger thread is dead: no order can be made durable'] }]);
      const order = await checkout(svc.url, 'after');
      expect([order.status, order.json.error]).toEqual([500, 'ledger_error']);
      expect((await call(svc.url, 'GET', '/metrics')).text).toMatch(/^flashsale_ledger_up 0$/m);
      closed = true;
      await expect(svc.close()).rejects.toThrow(/the ledger thread had died .*orders after that were answered 500/);
    } finally {
      if (!closed) await svc.close().catch(() => {});
    }
  });

  it('a full disk is logged once and fails /healthz until commits work again; no acknowledged order is lost', async (ctx) => {
    const disk = mountTinyDisk(4 << 20);
    if (typeof disk === 'string') return ctx.skip(disk);
    const lines: string[] = [];
    const ledgerPath = join(disk.dir, 'ledger.sqlite');
    const svc = await startService({ sale: SALE, threads: 1, ledgerPath, log: (level, m) => void lines.push(`${level}: ${m}`) });
    const acked: string[] = [];
    let n = 0;
    try {
      for (let i = 0; i < 5; i++) {
        const r = await checkout(svc.url, `u${n++}`);
        expect(r.status).toBe(201);
        acked.push(r.json.orderId);
      }
      disk.fill(16 << 10);
      let refused = 0;
      for (let i = 0; i < 300 && refused === 0; i++) {
        const r = await checkout(svc.url, `u${n++}`);
        if (r.status === 201) acked.push(r.json.orderId);
        else if (r.status === 500 && r.json.error === 'ledger_error') refused++;
      }
      expect(refused).toBe(1);
      // The ledger thread answers the HTTP thread first and tells the main thread (which logs) after:
      // on a busy machine the 500 can reach the client before the log line is written.
      for (let i = 0; i < 100 && !lines.some((l) => l.startsWith('error: ledger commits are failing')); i++) await new Promise((r) => setTimeout(r, 10));
      expect(lines.filter((l) => l.startsWith('error: ledger commits are failing'))).toEqual([expect.stringMatching(/disk is full/)]);
      const health = await call(svc.url, 'GET', '/healthz');
      expect([health.status, health.json.problems]).toEqual([503, ['ledger commits are failing: the disk is full']]);
      expect((await call(svc.url, 'GET', '/metrics')).text).toMatch(/^flashsale_ledger_commits_failing 1$/m);
      expect((await checkout(svc.url, `u${n++}`)).status).toBe(500); // still full: refused again, not logged again
      expect(lines.filter((l) => l.includes('ledger commits are failing'))).toHaveLength(1);

      disk.free();
      let back = false;
      for (let i = 0; i < 50 && !back; i++) {
        const r = await checkout(svc.url, `u${n++}`);
        if (r.status === 201) {
          back = true;
          acked.push(r.json.orderId);
        }
      }
      expect(back).toBe(true);
      expect((await call(svc.url, 'GET', '/healthz')).status).toBe(200);
      expect(lines).toContain('warn: ledger commits work again');
      expect((await inventory(svc.url, 'phone')).sold).toBe(acked.length); // refused orders gave their units back
    } finally {
      await svc.close();
    }
    try {
      const store = new LedgerStore(ledgerPath);
      const page = store.pageNdjson(store.latestSale()!.id, 0, 10_000);
      store.close();
      const inLedger = new Set(page.ndjson.trim().split('\n').map((l) => (JSON.parse(l) as { orderId: string }).orderId));
      expect(acked.filter((id) => !inLedger.has(id))).toEqual([]);
      expect(inLedger.size).toBe(acked.length);
    } finally {
      disk.unmount();
    }
  });
});
