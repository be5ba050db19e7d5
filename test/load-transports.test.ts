// The engine on both transports: the same plan, run once with load.transport "raw" and once with
// "undici" against the same kind of server, must come to the same counts (outcomes, status-derived
// error kinds, connection error kinds, retries, buyers) and send the same bytes. The transport-level
// suite (transport-conformance.test.ts) checks single requests; this one checks what a user reads.
// Also: the warm-up (load.warmup) reaches every connection before t0 and is never counted.
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadPlan } from '../src/contract/load-plan.ts';
import type { LoadResult } from '../src/contract/result.ts';
import { runLoad } from '../src/load/index.ts';
import { chunked, informational, refusedPort, startScriptedServer, withLength, type Reply, type ScriptedServer } from './fixtures/hostile-servers.ts';
import { testPlan } from './fixtures/load-plan.ts';

const TRANSPORTS = ['raw', 'undici'] as const;
const ORDER = '{"orderId":"o1"}';

let server: ScriptedServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** 30 buyers over 300 ms on 4 connections, one retry each. */
/** `timeoutMs`: journey.timeoutMs (default 5 s). */
function plan(url: string, transport: 'raw' | 'undici', overrides: Partial<LoadPlan> & { timeoutMs?: number } = {}): LoadPlan {
  const { timeoutMs, ...rest } = overrides;
  const p = testPlan(url, { arrival: { type: 'constant-arrival-rate', rate: 100, timeUnitMs: 1000, durationMs: 300 }, transport, ...rest });
  p.journey.retries = { max: 1, baseMs: 1, maxMs: 5 };
  // Long enough that no answer times out on a busy machine; the hang case shortens it.
  p.journey.timeoutMs = 5_000;
  if (timeoutMs !== undefined) p.journey.timeoutMs = timeoutMs;
  if (!overrides.caps) p.caps.gracefulStopMs = 10_000;
  return p;
}

/** What a user reads of a run, with nothing that depends on timing. */
function seen(r: LoadResult) {
  const c = r.counts;
  return {
    requestsSent: c.requestsSent,
    requestsAnswered: c.requestsAnswered,
    retries: c.retries,
    byOutcome: c.byOutcome,
    errorsByKind: c.errorsByKind,
    buyers: c.buyers,
    cutByStop: c.cutByStop,
  };
}

interface Side {
  result: ReturnType<typeof seen>;
  /** Bytes the server received (heads and bodies), and requests it read. */
  bytes: number;
  requests: number;
}

async function runOn(reply: Reply, transport: 'raw' | 'undici', overrides: Partial<LoadPlan> & { timeoutMs?: number } = {}): Promise<Side> {
  server = await startScriptedServer(reply);
  try {
    const r = await runLoad(plan(server.url, transport, overrides));
    const bytes = server.requests.reduce((n, q) => n + Buffer.byteLength(q.head, 'latin1') + Buffer.byteLength(q.body), 0);
    return { result: seen(r), bytes, requests: server.requests.length };
  } finally {
    await server.close();
    server = null;
  }
}

const CASES: Array<{ name: string; reply: Reply; check: (r: Side['result']) => void; overrides?: Partial<LoadPlan> & { timeoutMs?: number } }> = [
  {
    name: 'content-length answers, kept alive',
    reply: (s) => void s.write(withLength(201, ORDER)),
    check: (r) => expect(r.byOutcome.success).toBe(30),
  },
  {
    name: 'chunked sold-out answers',
    reply: (s) => void s.write(chunked(409, ['{"error":', '"sold_out"}'])),
    check: (r) => expect(r.byOutcome.sold_out).toBe(30),
  },
  {
    name: 'Connection: close after every answer',
    reply: (s) => void s.end(withLength(201, ORDER, ['connection: close'])),
    check: (r) => expect(r.byOutcome.success).toBe(30),
  },
  {
    name: '103 Early Hints before every answer',
    reply: (s) => void s.write(informational(103) + withLength(201, ORDER)),
    check: (r) => expect(r.byOutcome.success).toBe(30),
  },
  {
    name: '503 answers (retried, counted by status)',
    reply: (s) => void s.write(withLength(503, '{"error":"busy"}')),
    check: (r) => expect(r.errorsByKind).toEqual({ http_503: 60 }),
  },
  {
    name: 'garbage instead of answers',
    reply: (s) => void s.end('\x00\xffSSH-2.0-not-http\r\n\r\n'),
    check: (r) => expect(Object.keys(r.errorsByKind)).toEqual(['HTTPParserError']),
  },
  {
    name: 'a reset for every request',
    reply: (s) => void s.resetAndDestroy(),
    check: (r) => expect(Object.keys(r.errorsByKind)).toEqual(['ECONNRESET']),
  },
  {
    name: 'no answer at all (the engine times out)',
    reply: () => undefined,
    check: (r) => expect(r.errorsByKind).toEqual({ timeout: 60 }),
    // A connection for every request and time for every retry to time out too.
    overrides: { connections: 40, timeoutMs: 300, caps: { maxDurationMs: 10_000, maxRequests: 1_000_000, gracefulStopMs: 3_000 } },
  },
];

describe('the engine on the raw and undici transports: same counts, same bytes', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const sides = {} as Record<(typeof TRANSPORTS)[number], Side>;
      for (const t of TRANSPORTS) {
        sides[t] = await runOn(c.reply, t, c.overrides);
        c.check(sides[t].result);
      }
      expect(sides.raw.result).toEqual(sides.undici.result);
      expect(sides.raw.requests).toBe(sides.undici.requests);
      expect(sides.raw.bytes).toBe(sides.undici.bytes);
    });
  }

  it('a refused connection: the same error kind and counts', async () => {
    const target = await refusedPort('http');
    const results = await Promise.all(TRANSPORTS.map(async (t) => seen(await runLoad(plan(target.url, t)))));
    expect(Object.keys(results[0].errorsByKind)).toEqual(['ECONNREFUSED']);
    expect(results[0]).toEqual(results[1]);
  });
});

describe('load.warmup', () => {
  for (const t of TRANSPORTS) {
    it(`${t}: one GET of the path on every connection before the first purchase, not counted`, async () => {
      const side = await runOn((s, req) => void s.write(req.path === '/healthz' ? withLength(200, '{"ok":true}') : withLength(201, ORDER)), t, {
        warmup: { path: '/healthz' },
      });
      expect(side.result.byOutcome.success).toBe(30);
      expect(side.result.requestsSent).toBe(30);
      expect(side.requests).toBe(34);
    });
  }

  it('warm-up requests come first, one per connection, and the purchases reuse those connections', async () => {
    server = await startScriptedServer((s, req) => void s.write(req.path === '/healthz' ? withLength(404, '{}') : withLength(201, ORDER)));
    const r = await runLoad(plan(server.url, 'raw', { warmup: { path: '/healthz' } }));
    const reqs = server.requests;
    expect(reqs.slice(0, 4).map((q) => [q.method, q.path])).toEqual(Array.from({ length: 4 }, () => ['GET', '/healthz']));
    expect(new Set(reqs.slice(0, 4).map((q) => q.connection)).size).toBe(4);
    expect(reqs.slice(4).every((q) => q.path === '/api/v1/checkout')).toBe(true);
    // A 404 warms as well as a 200; the purchases go on the four warmed connections.
    expect(server.connections).toBe(4);
    expect(r.counts.byOutcome.success).toBe(30);
    expect(r.counts.errorsByKind).toEqual({});
  });
});
