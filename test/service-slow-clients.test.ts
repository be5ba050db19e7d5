// Slow clients cannot lock buyers out. A request used to count as in flight before its body was read and
// nothing bounded the body's time: a few hundred sockets dripping a byte at a time filled every slot and
// every buyer got 503. Now only requests whose body has arrived count, headers and body must arrive
// within the request timeout (then 408 and the connection is closed), and connections are capped.
import { afterAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { Pool } from 'undici';
import { startService, type RunningService, type SaleDefinition } from '../src/service/index.ts';
import { call, eventually } from './helpers/http.ts';

const SALE: SaleDefinition = { skus: [{ id: 'phone', stock: 40 }], perUserLimit: 1, reservationTtlMs: 60_000, opensAtEpochMs: null, payment: { declineRate: 0, latencyMs: 0 } };

const sockets: Socket[] = [];
const timers: NodeJS.Timeout[] = [];
afterAll(() => {
  for (const t of timers) clearInterval(t);
  for (const s of sockets) s.destroy();
});

/** A socket that sends `first`, then one byte every `everyMs`; resolves `closed` when the server cuts it. */
function dripper(port: number, first: string, everyMs: number): { closed: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let got = '';
  socket.on('data', (d) => (got += d));
  socket.on('error', () => {});
  socket.once('connect', () => {
    socket.write(first);
    timers.push(setInterval(() => socket.writable && socket.write('1'), everyMs));
  });
  return { closed: new Promise((resolve) => socket.once('close', () => resolve(got))) };
}

describe('slow clients', () => {
  it('keep no buyer out: honest checkouts get 201/409 while hundreds of slow uploads are cut off', async () => {
    const svc: RunningService = await startService({ sale: SALE, threads: 1, maxInFlightPerThread: 50, requestTimeoutMs: 1000 });
    const pool = new Pool(svc.url, { connections: 8 });
    try {
      const slow = [
        // Headers complete, body one byte every 200 ms: these used to count as in flight (150 > 50).
        ...Array.from({ length: 150 }, () => dripper(svc.port, 'POST /api/v1/checkout HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{', 200)),
        // Headers never finished.
        ...Array.from({ length: 150 }, () => dripper(svc.port, 'POST /api/v1/checkout HTTP/1.1\r\nHost: x\r\n', 200)),
      ];
      await new Promise((r) => setTimeout(r, 300)); // every slow request has started
      const statuses = await Promise.all(
        Array.from({ length: 80 }, (_, i) =>
          pool
            .request({ method: 'POST', path: '/api/v1/checkout', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'phone', userId: `buyer-${i}`, qty: 1 }) })
            .then(async (r) => (await r.body.dump(), r.statusCode)),
        ),
      );
      expect(statuses.filter((s) => s === 201)).toHaveLength(40);
      expect(statuses.filter((s) => s === 409)).toHaveLength(40);
      // Cut off by the request timeout (1 s, checked every 250 ms): 408, connection closed.
      const answers = await Promise.race([Promise.all(slow.map((s) => s.closed)), new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
      expect(answers).not.toBeNull();
      expect(answers!.filter((a) => a.startsWith('HTTP/1.1 408')).length).toBe(300);
    } finally {
      await pool.close();
      await svc.close();
    }
  });

  it('caps open connections per thread, closing new ones at once, and counts them', async () => {
    const svc = await startService({ sale: SALE, threads: 1, maxConnectionsPerThread: 20, requestTimeoutMs: 1000 });
    try {
      const idle = Array.from({ length: 40 }, () => dripper(svc.port, '', 60_000));
      const early = await Promise.race([Promise.all(idle.slice(20).map((s) => s.closed)), new Promise<null>((r) => setTimeout(() => r(null), 800))]);
      expect(early).toEqual(Array(20).fill('')); // the 20 past the cap: closed before the timeout, without a word
      await Promise.all(idle.map((s) => s.closed)); // the others: by the request timeout
      expect(await eventually(async () => /^flashsale_http_connections_dropped_total 20$/m.test((await call(svc.url, 'GET', '/metrics')).text))).toBe(true);
    } finally {
      await svc.close();
    }
  });
});
