// The raw transport's own behaviour beyond the conformance suite: many connections sharing one read
// buffer, large bodies, the engine's Journey as handler, close/destroy, the server's keep-alive hint,
// handlers that throw.
import { errors, type Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { Journey, type JourneyHost } from '../src/load/journey.ts';
import { RawClient } from '../src/load/transport/raw.ts';
import { chunked, startScriptedServer, withLength, type Reply, type ScriptedServer } from './fixtures/hostile-servers.ts';

interface Result {
  status: number;
  body: string;
  error: Error | null;
}

/** One request; resolves with its answer or error (bounded: 5 s). */
function request(client: RawClient, opts: Partial<Dispatcher.DispatchOptions> = {}, hooks: Partial<Dispatcher.DispatchHandler> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error('request: no end after 5 s')), 5_000);
    const r: Result = { status: 0, body: '', error: null };
    const chunks: Buffer[] = [];
    client.dispatch({ method: 'POST', path: '/', headers: [], body: null, ...opts } as Dispatcher.DispatchOptions, {
      onConnect: () => undefined,
      onHeaders: (status) => ((r.status = status), true),
      onData: (c) => (chunks.push(c), true),
      onComplete: () => {
        clearTimeout(guard);
        r.body = Buffer.concat(chunks).toString();
        resolve(r);
      },
      onError: (err) => {
        clearTimeout(guard);
        r.error = err;
        resolve(r);
      },
      ...hooks,
    });
  });
}

async function withServer(reply: Reply, run: (server: ScriptedServer) => Promise<void>): Promise<void> {
  const server = await startScriptedServer(reply);
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

const echoKey: Reply = (s, req) => {
  const key = req.headers['idempotency-key'];
  // Bodies of different lengths and framings, so answers of different connections interleave in reads.
  const body = JSON.stringify({ key, pad: 'x'.repeat(key.length * 7) });
  s.write(key.endsWith('0') ? chunked(201, [body.slice(0, 5), body.slice(5)]) : withLength(201, body));
};

describe('raw transport', () => {
  it('many connections share one read buffer: every answer reaches its own request', async () => {
    await withServer(echoKey, async (server) => {
      const clients = Array.from({ length: 32 }, () => new RawClient(server.url));
      try {
        const all = await Promise.all(
          clients.map(async (client, c) => {
            const keys: string[] = [];
            for (let i = 0; i < 20; i++) {
              const key = `c${c}-r${i}`;
              const r = await request(client, { headers: ['idempotency-key', key] });
              keys.push((JSON.parse(r.body) as { key: string }).key);
            }
            return keys;
          }),
        );
        all.forEach((keys, c) => expect(keys).toEqual(Array.from({ length: 20 }, (_, i) => `c${c}-r${i}`)));
        expect(server.connections).toBe(32);
      } finally {
        await Promise.all(clients.map((c) => c.destroy()));
      }
    });
  });

  it('bodies larger than one read arrive whole (content-length and chunked)', async () => {
    const big = 'abcdefghij'.repeat(30_000);
    await withServer((s, _r, i) => void s.write(i === 0 ? withLength(200, big) : chunked(200, [big.slice(0, 100_000), big.slice(100_000)])), async (server) => {
      const client = new RawClient(server.url);
      try {
        expect((await request(client)).body).toBe(big);
        expect((await request(client)).body).toBe(big);
      } finally {
        await client.destroy();
      }
    });
  });

  it('connections opened in the middle of a read (a parser each) do not spoil the answer being read', async () => {
    const chunks: Buffer[] = [];
    await withServer((s) => void s.write(withLength(201, '{"orderId":"still-here"}')), async (server) => {
      const client = new RawClient(server.url);
      const others: RawClient[] = [];
      try {
        const r = await request(client, {}, {
          onHeaders: () => {
            // Between this answer's head and its body, in the same read: enough new connections that
            // many parsers exist at once (one each): the body must still be this answer's.
            for (let i = 0; i < 1_000; i++) {
              const other = new RawClient('http://127.0.0.1:9');
              other.dispatch({ method: 'GET', path: '/' }, { onConnect() {}, onHeaders: () => true, onData: () => true, onComplete() {}, onError() {} });
              others.push(other);
            }
            return true;
          },
          onData: (chunk) => (chunks.push(chunk), true),
        });
        expect(r.error).toBeNull();
        expect(Buffer.concat(chunks).toString()).toBe('{"orderId":"still-here"}');
      } finally {
        await client.destroy();
        await Promise.all(others.map((o) => o.destroy()));
      }
    });
  });

  it("carries the engine's Journey as it is: answered with status and body, failed with the error", async () => {
    await withServer((s, _r, i) => void (i === 0 ? s.write(withLength(201, '{"orderId":"o1"}')) : s.resetAndDestroy()), async (server) => {
      const seen: string[] = [];
      let t = 0;
      let done: () => void = () => undefined;
      const host: JourneyHost = {
        now: () => ++t,
        answered: (j) => (seen.push(`answered ${j.statusCode} ${j.body()?.toString()} sent@${j.sentMs}`), done()),
        failed: (_j, err) => (seen.push(`failed ${(err as NodeJS.ErrnoException).code}`), done()),
      };
      const client = new RawClient(server.url);
      try {
        for (let i = 0; i < 2; i++) {
          const j = new Journey(host);
          j.keepBody = true;
          Object.assign(j.opts, { method: 'POST', path: '/api/v1/checkout', headers: ['content-type', 'application/json'], body: '{}' });
          const finished = new Promise<void>((resolve) => (done = resolve));
          client.dispatch(j.opts, j);
          await finished;
          expect(j.abort).toBeTypeOf('function');
        }
        expect(seen).toEqual(['answered 201 {"orderId":"o1"} sent@1', 'failed ECONNRESET']);
      } finally {
        await client.destroy();
      }
    });
  });

  it('chunkViews: onData gets views on the shared read buffer; the Journey copies what it keeps, so every body stays its own', async () => {
    await withServer(echoKey, async (server) => {
      const clients = Array.from({ length: 16 }, () => new RawClient(server.url, { chunkViews: true }));
      const views: Buffer[] = [];
      try {
        const all = await Promise.all(
          clients.map(async (client, c) => {
            const journeys: Journey[] = [];
            for (let i = 0; i < 10; i++) {
              const j = new Journey({ now: () => 0, answered: () => done(), failed: (_j, err) => fail(err) });
              let done: () => void = () => undefined;
              let fail: (err: Error) => void = () => undefined;
              const finished = new Promise<void>((resolve, reject) => ((done = resolve), (fail = reject)));
              j.keepBody = true;
              Object.assign(j.opts, { method: 'POST', path: '/', headers: ['idempotency-key', `c${c}-r${i}`], body: null });
              const onData = j.onData.bind(j);
              j.onData = (chunk: Buffer) => (views.push(chunk), onData(chunk));
              client.dispatch(j.opts, j);
              await finished;
              journeys.push(j);
            }
            return journeys;
          }),
        );
        // Read only now, after every other answer went through the same read buffer.
        all.forEach((journeys, c) => expect(journeys.map((j) => (JSON.parse(j.body()!.toString()) as { key: string }).key)).toEqual(Array.from({ length: 10 }, (_, i) => `c${c}-r${i}`)));
        // The chunks handed over were views on one shared buffer, not copies.
        expect(new Set(views.map((v) => v.buffer)).size).toBe(1);
      } finally {
        await Promise.all(clients.map((c) => c.destroy()));
      }
    });
  });

  it('close() lets the request in flight finish, then refuses new ones; destroy() fails what is left', async () => {
    await withServer((s) => void setTimeout(() => s.write(withLength(201, 'ok')), 30), async (server) => {
      const client = new RawClient(server.url);
      const inFlight = request(client);
      await new Promise((r) => setTimeout(r, 10));
      const closed = client.close();
      expect((await request(client)).error).toBeInstanceOf(errors.ClientClosedError);
      expect(await inFlight).toEqual({ status: 201, body: 'ok', error: null });
      await closed;
      expect(client.closed).toBe(true);

      const other = new RawClient(server.url);
      const first = request(other);
      const queued = request(other);
      await new Promise((r) => setTimeout(r, 10));
      await other.destroy();
      expect((await first).error).toBeInstanceOf(errors.ClientDestroyedError);
      expect((await queued).error).toBeInstanceOf(errors.ClientDestroyedError);
      expect((await request(other)).error).toBeInstanceOf(errors.ClientDestroyedError);
    });
  });

  it("lets an idle connection go before the server's Keep-Alive: timeout (less the threshold), as undici", async () => {
    await withServer((s) => void s.write(withLength(201, 'ok', ['keep-alive: timeout=1'])), async (server) => {
      const client = new RawClient(server.url, { keepAliveTimeoutThreshold: 900 }); // idle limit 100 ms
      try {
        await request(client);
        await request(client);
        expect(server.connections).toBe(1);
        await new Promise((r) => setTimeout(r, 200));
        expect((await request(client)).status).toBe(201);
        expect(server.connections).toBe(2);
      } finally {
        await client.destroy();
      }
    });
  });

  it("a handler that throws before the answer completed fails that request with its error; the next one works", async () => {
    await withServer((s) => void s.write(withLength(201, 'ok')), async (server) => {
      const client = new RawClient(server.url);
      try {
        const boom = new Error('handler bug');
        const r = await request(client, {}, {
          onData: () => {
            throw boom;
          },
        });
        expect(r.error).toBe(boom);
        expect(await request(client)).toEqual({ status: 201, body: 'ok', error: null });
      } finally {
        await client.destroy();
      }
    });
  });

  it('writes at once on an idle connection (onConnect inside dispatch); bad options are refused through onError', async () => {
    await withServer((s) => void s.write(withLength(201, 'ok')), async (server) => {
      const client = new RawClient(server.url);
      try {
        await request(client);
        let inside = true;
        let connectedInside = false;
        const second = request(client, {}, { onConnect: () => void (connectedInside = inside) });
        inside = false;
        await second;
        expect(connectedInside).toBe(true);
        const refused = await request(client, { headers: ['x-bad', 'a\nb'] });
        expect(refused.error).toBeInstanceOf(errors.InvalidArgumentError);
        expect(() => client.dispatch({ method: 'GET', path: '/' }, {} as Dispatcher.DispatchHandler)).toThrow('invalid onConnect method');
        expect(() => new RawClient(server.url, { pipelining: 4 })).toThrow('raw transport: pipelining must be 1');
      } finally {
        await client.destroy();
      }
    });
  });
});
