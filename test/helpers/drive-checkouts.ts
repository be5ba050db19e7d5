// A small, bounded crowd for audit tests: 300 one-unit checkouts from 150 users, each asking twice
// (first for skus[0], then for skus[1]), 50 at a time over 8 connections, to a loopback service.
import { Pool } from 'undici';
import type { AckedOrder } from '../../src/contract/result.ts';

export async function driveCheckouts(url: string, skus: readonly [string, string], keyPrefix: string): Promise<AckedOrder[]> {
  const pool = new Pool(url, { connections: 8 });
  const acked: AckedOrder[] = [];
  try {
    for (let batch = 0; batch < 300; batch += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const i = batch + j;
          const userId = `user-${i % 150}`;
          const sku = i < 150 ? skus[0] : skus[1];
          const res = await pool.request({
            method: 'POST',
            path: '/api/v1/checkout',
            headers: { 'content-type': 'application/json', 'idempotency-key': `${keyPrefix}-${i}` },
            body: JSON.stringify({ sku, userId, qty: 1 }),
          });
          const body = (await res.body.json()) as { orderId?: string };
          if (res.statusCode === 201 && body.orderId) acked.push({ orderId: body.orderId, userId, sku, qty: 1, idempotencyKey: `${keyPrefix}-${i}` });
        }),
      );
    }
  } finally {
    await pool.close();
  }
  return acked;
}
