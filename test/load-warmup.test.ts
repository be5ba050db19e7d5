// warmUp() (src/load/warmup.ts) on its own: one GET per connection, any status warms, failures and
// hangs end it without holding the start longer than its timeout. The engine's use of it (before t0,
// never counted) is in load-transports.test.ts.
import { describe, expect, it } from 'vitest';
import { openClient, type TransportClient } from '../src/load/transport/index.ts';
import { warmUp } from '../src/load/warmup.ts';
import { refusedPort, startScriptedServer, withLength, type Reply } from './fixtures/hostile-servers.ts';

const OPTIONS = { pipelining: 1 as const, headersTimeout: 0 as const, bodyTimeout: 0 as const, connectTimeout: 2_000, keepAliveTimeout: 60_000 };

async function withClients(reply: Reply | null, n: number, run: (clients: TransportClient[], seen: () => string[]) => Promise<void>): Promise<void> {
  const server = reply ? await startScriptedServer(reply) : null;
  const url = server ? server.url : (await refusedPort()).url;
  for (const transport of ['raw', 'undici'] as const) {
    const clients = Array.from({ length: n }, () => openClient(transport, url, OPTIONS));
    try {
      await run(clients, () => server?.requests.map((q) => `${q.method} ${q.path}`) ?? []);
    } finally {
      await Promise.all(clients.map((c) => c.destroy()));
    }
  }
  await server?.close();
}

describe('warmUp', () => {
  it('one GET of the path on every connection; a 404 warms as well as a 200', async () => {
    await withClients((s) => void s.write(withLength(404, '{}')), 3, async (clients, seen) => {
      const before = seen().length;
      expect(await warmUp(clients, '/healthz', 1_000)).toEqual({ answered: 3, failed: 0 });
      expect(seen().slice(before)).toEqual(['GET /healthz', 'GET /healthz', 'GET /healthz']);
    });
  });

  it('a refused connection is a failure, not an exception', async () => {
    await withClients(null, 2, async (clients) => {
      expect(await warmUp(clients, '/healthz', 1_000)).toEqual({ answered: 0, failed: 2 });
    });
  });

  it('a target that never answers: over after the timeout', async () => {
    await withClients(() => undefined, 2, async (clients) => {
      expect(await warmUp(clients, '/healthz', 100)).toEqual({ answered: 0, failed: 2 });
    });
  });

  it('no connections: nothing to do', async () => {
    expect(await warmUp([], '/healthz', 100)).toEqual({ answered: 0, failed: 0 });
  });
});
