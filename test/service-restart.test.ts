// What a restart on the same ledger file continues, and what it refuses to do silently.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type SaleDefinition } from '../src/service/index.ts';
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
