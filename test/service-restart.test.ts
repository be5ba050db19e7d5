// What a restart on the same ledger file continues, and what it refuses to do silently.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type SaleDefinition } from '../src/service/index.ts';
import { SaleConflictError } from '../src/errors.ts';
import { call } from './helpers/http.ts';

const dirs: string[] = [];
function tempLedger(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flashsale-restart-'));
  dirs.push(dir);
  return join(dir, 'ledger.sqlite');
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sale(over: Partial<SaleDefinition> = {}): SaleDefinition {
  return { skus: [{ id: 'phone', stock: 10 }], perUserLimit: 2, reservationTtlMs: 60_000, opensAtEpochMs: null, payment: { declineRate: 0, latencyMs: 0 }, ...over };
}

describe('idempotency across a restart', () => {
  it('replays a restored key only to the request it came with: another user, qty or route gets 422', async () => {
    const ledgerPath = tempLedger();
    const alice = { sku: 'phone', userId: 'alice', qty: 1 };
    const key = { 'idempotency-key': 'alice-key-1' };
    const first = await startService({ sale: sale(), threads: 1, ledgerPath });
    let orderId: string;
    try {
      const r = await call(first.url, 'POST', '/api/v1/checkout', alice, key);
      expect(r.status).toBe(201);
      orderId = r.json.orderId;
    } finally {
      await first.close();
    }
    const second = await startService({ sale: sale(), threads: 1, ledgerPath });
    try {
      for (const [path, body] of [
        ['/api/v1/checkout', { ...alice, userId: 'bob' }],
        ['/api/v1/checkout', { ...alice, qty: 2 }],
        ['/api/v1/reservations', alice],
      ] as const) {
        const r = await call(second.url, 'POST', path, body, key);
        expect([path, r.status, r.json.error]).toEqual([path, 422, 'idempotency_key_reused']);
      }
      const retry = await call(second.url, 'POST', '/api/v1/checkout', alice, key);
      expect([retry.status, retry.json.orderId, retry.headers['idempotent-replayed']]).toEqual([201, orderId, 'true']);
    } finally {
      await second.close();
    }
  });
});

describe('a sale is never replaced silently', () => {
  it('continues the same sale, refuses another stock or limit on a ledger with orders, and begins one only when asked', async () => {
    const ledgerPath = tempLedger();
    const lines: string[] = [];
    const log = (_level: string, message: string) => void lines.push(message);
    const first = await startService({ sale: sale(), threads: 1, ledgerPath, log });
    try {
      for (const userId of ['a', 'b']) expect((await call(first.url, 'POST', '/api/v1/checkout', { sku: 'phone', userId, qty: 1 })).status).toBe(201);
    } finally {
      await first.close();
    }
    expect(lines).toEqual(['new sale 1']);

    for (const other of [sale({ skus: [{ id: 'phone', stock: 100 }] }), sale({ perUserLimit: 5 })]) {
      const refused = startService({ sale: other, threads: 1, ledgerPath, log });
      await expect(refused).rejects.toThrow(SaleConflictError);
      await expect(refused).rejects.toThrow(/holds sale 1 with 2 orders \(SKUs phone × 10; per-user limit 2\).*--new-sale/);
    }

    const again = await startService({ sale: sale({ reservationTtlMs: 5000 }), threads: 1, ledgerPath, log });
    try {
      expect((await call(again.url, 'GET', '/api/v1/inventory/phone')).json).toMatchObject({ sold: 2, available: 8 });
    } finally {
      await again.close();
    }
    expect(lines.at(-1)).toBe('continuing sale 1 with 2 orders');

    const fresh = await startService({ sale: sale({ skus: [{ id: 'phone', stock: 100 }] }), threads: 1, ledgerPath, log, newSale: true });
    try {
      expect((await call(fresh.url, 'GET', '/api/v1/inventory/phone')).json).toMatchObject({ sold: 0, available: 100 });
    } finally {
      await fresh.close();
    }
    expect(lines.at(-1)).toBe('new sale 2 (asked for; sale 1 with 2 orders stays in the ledger, no longer served)');
  });
});
