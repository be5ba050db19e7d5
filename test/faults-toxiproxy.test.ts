// Network faults through a real Toxiproxy (npm run toxiproxy:install builds it into .tools/bin): started
// on 127.0.0.1 and a free port, a proxy in front of a loopback server, and each toxic as the client sees
// it — latency (answers late), reset (the server acted, the client got a reset), blackhole (nothing
// passes, the client times out) — then removed, and the same through a `network` fault of the scheduler.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { Client } from 'undici';
import { ToxiproxyError, type ToxiproxyClient } from '../src/faults/toxiproxy/client.ts';
import { findToxiproxyServer, startToxiproxy, type ToxiproxyServer } from '../src/faults/toxiproxy/server.ts';
import { toxicsOf } from '../src/faults/network.ts';
import { scheduleFaults } from '../src/faults/scheduler.ts';
import { validateFaults } from '../src/faults/validate.ts';
import { requireOrSkip } from './helpers/servers.ts';

const found = findToxiproxyServer();
const available = found.path === null ? { ok: false, reason: found.looked } : { ok: true, reason: '' };
requireOrSkip('toxiproxy', available);

describe.skipIf(!available.ok)('Toxiproxy between a client and a loopback server', () => {
  let toxiproxy: ToxiproxyServer;
  let api: ToxiproxyClient;
  let server: Server;
  let proxied: string;
  let received = 0;
  const PROXY = `flashsale-test-${process.pid}`;

  beforeAll(async () => {
    server = createServer((req, res) => {
      received++;
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    toxiproxy = await startToxiproxy(found.path!);
    api = toxiproxy.client;
    const { port } = server.address() as { port: number };
    const proxy = await api.createProxy(PROXY, '127.0.0.1:0', `127.0.0.1:${port}`);
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    proxied = `http://${proxy.listen}`;
  });

  afterAll(async () => {
    await toxiproxy?.stop();
    await new Promise((r) => server?.close(r));
  });

  /** One request on a new connection: its status, or the error's code; and its time, ms. */
  async function ask(timeoutMs = 5_000): Promise<{ status: number | string; ms: number }> {
    const client = new Client(proxied, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const started = performance.now();
    try {
      const res = await client.request({ method: 'POST', path: '/api/v1/checkout', body: '{}' });
      await res.body.text();
      return { status: res.statusCode, ms: performance.now() - started };
    } catch (e) {
      return { status: String((e as { code?: unknown }).code), ms: performance.now() - started };
    } finally {
      await client.destroy();
    }
  }

  async function withToxics(network: Parameters<typeof toxicsOf>[0], body: () => Promise<void>): Promise<void> {
    const toxics = toxicsOf(network);
    for (const t of toxics) await api.addToxic(PROXY, t);
    try {
      await body();
    } finally {
      for (const t of toxics) await api.removeToxic(PROXY, t.name);
    }
    expect(await api.toxics(PROXY)).toEqual([]);
    expect((await ask()).status).toBe(200);
  }

  it('runs on 127.0.0.1 only, and passes requests when there is no toxic', async () => {
    expect(toxiproxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await ask()).status).toBe(200);
  });

  it('latency: the answer comes at least that much later', async () => {
    await withToxics({ latency: '300ms', share: 1 }, async () => {
      const r = await ask();
      expect(r.status).toBe(200);
      expect(r.ms).toBeGreaterThanOrEqual(300);
    });
  });

  it('reset (answers): the server acted on the request, the client got its connection reset', async () => {
    await withToxics({ reset: true, share: 1 }, async () => {
      const before = received;
      const r = await ask();
      expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(r.status);
      expect(received).toBe(before + 1);
    });
  });

  it('reset (to-target): the request never reached the server', async () => {
    await withToxics({ reset: true, direction: 'to-target', share: 1 }, async () => {
      const before = received;
      const r = await ask();
      expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(r.status);
      expect(received).toBe(before);
    });
  });

  it('blackhole: nothing passes, the client times out; after it heals new connections work', async () => {
    await withToxics({ blackhole: true, share: 1 }, async () => {
      const before = received;
      const r = await ask(500);
      expect(r.status).toBe('UND_ERR_HEADERS_TIMEOUT');
      expect(received).toBe(before);
    });
  });

  it('a network fault of the scheduler adds its toxic at `at` and removes it after downFor', async () => {
    const { faults, problems } = validateFaults([{ at: '50ms', network: { latency: '200ms' }, downFor: '400ms' }]);
    expect(problems).toEqual([]);
    const schedule = scheduleFaults(faults, { saleOpensAtEpochMs: Date.now(), context: { network: { client: api, proxy: PROXY } } });
    await new Promise((r) => setTimeout(r, 150));
    expect(await api.toxics(PROXY)).toHaveLength(1);
    const during = await ask();
    const [record] = await schedule.done;
    expect(during.ms).toBeGreaterThanOrEqual(200);
    expect(record).toMatchObject({ kind: 'network', status: 'healed', problem: null });
    expect(record.detail).toMatchObject({ proxy: PROXY, toxics: [{ type: 'latency', stream: 'downstream', attributes: { latency: 200, jitter: 0 } }] });
    expect(await api.toxics(PROXY)).toEqual([]);
  });

  it("a refused call names the call and Toxiproxy's reason", async () => {
    const e = await api.removeToxic(PROXY, 'no-such-toxic').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ToxiproxyError);
    expect((e as ToxiproxyError).status).toBe(404);
    expect((e as Error).message).toMatch(/remove toxic no-such-toxic from flashsale-test-\d+: 404 toxic not found/);
  });
});
