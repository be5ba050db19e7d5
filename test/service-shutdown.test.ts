// Shutdown has a deadline: requests in flight get shutdownTimeoutMs to finish, then their connections
// are cut and the log says what was cut. One slow request or client used to hold close() for as long as
// it liked (25 s seen).
import { describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { startService, type SaleDefinition } from '../src/service/index.ts';
import { call } from './helpers/http.ts';

const SALE: SaleDefinition = { skus: [{ id: 'phone', stock: 10 }], perUserLimit: 1, reservationTtlMs: 60_000, opensAtEpochMs: null, payment: { declineRate: 0, latencyMs: 30_000 } };

describe('shutdown', () => {
  it('cuts what is still in flight at the deadline and says what it cut', async () => {
    const lines: string[] = [];
    const svc = await startService({ sale: SALE, threads: 1, shutdownTimeoutMs: 500, log: (level, m) => void lines.push(`${level}: ${m}`) });
    // A checkout waiting 30 s on its payment, and a client dripping a body it never finishes.
    const slow = call(svc.url, 'POST', '/api/v1/checkout', { sku: 'phone', userId: 'slow', qty: 1 }).then((r) => r.status, () => 0);
    const drip = connect(svc.port, '127.0.0.1', () => drip.write('POST /api/v1/checkout HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{'));
    drip.on('error', () => {});
    await new Promise((r) => setTimeout(r, 200));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([svc.close().then(() => 'closed'), new Promise((r) => (timer = setTimeout(() => r('still closing after 10 s'), 10_000)))]);
    clearTimeout(timer);
    drip.destroy();
    expect(outcome).toBe('closed');
    expect(await slow).toBe(0); // cut, never acknowledged
    expect(lines).toContainEqual(expect.stringMatching(/^warn: shutdown deadline \(500 ms\) passed: HTTP thread 0 cut [12] connection\(s\) with 1 request\(s\) still in flight$/));
  });
});
