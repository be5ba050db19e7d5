// The load engine against targets that fail at the connection level, at flash-crowd rates: it never
// crashes (undici asserted `client[kSize] === 0` when a connect error failed a queue the engine was
// refilling from inside the error callback), counts every failure by kind, times none of them, and
// finishes the run.
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../src/load/index.ts';
import type { LoadPlan } from '../src/contract/load-plan.ts';
import { testPlan } from './fixtures/load-plan.ts';
import { refusedPort, resetServer, selfSignedCert, untrustedTlsServer, type Hostile } from './fixtures/hostile-servers.ts';

let target: Hostile | null = null;
afterEach(async () => {
  await target?.close();
  target = null;
});

/** 3,000 buyers clicking within about half a second, 64 connections, one retry each. */
function crowd(url: string): LoadPlan {
  const plan = testPlan(url, {
    arrival: { type: 'flash-crowd', registered: 3000, reaction: { medianMs: 200, sigma: 0.5 }, latecomers: { count: 0, decayMs: 1000 } },
    connections: 64,
  });
  plan.journey.retries = { max: 1, baseMs: 1, maxMs: 5 };
  return plan;
}

function expectEveryRequestCounted(r: Awaited<ReturnType<typeof runLoad>>, kind: RegExp): void {
  expect(r.counts.requestsAnswered).toBe(0);
  expect(r.counts.byOutcome).toMatchObject({ success: 0, sold_out: 0, rejected: 0 });
  expect(r.counts.requestsSent).toBe(r.counts.byOutcome.error + r.counts.cutByStop);
  const kinds = Object.keys(r.counts.errorsByKind);
  expect(kinds.length).toBeGreaterThan(0);
  for (const k of kinds) expect(k).toMatch(kind);
  expect(Object.values(r.counts.errorsByKind).reduce((a, b) => a + b, 0)).toBe(r.counts.byOutcome.error);
  // A failure without an answer has no latency: nothing for a latency threshold to count.
  expect(r.latency).toEqual({});
  expect(r.counts.buyers.started + r.counts.buyers.dropped).toBe(3000);
}

describe('connection failures at flash-crowd rates', () => {
  it('http, connection refused: finishes, counts ECONNREFUSED', async () => {
    target = await refusedPort('http');
    const r = await runLoad(crowd(target.url));
    expectEveryRequestCounted(r, /^ECONNREFUSED$/);
    expect(r.counts.byOutcome.error).toBeGreaterThan(3000);
  });

  it('https, connection refused: finishes, counts ECONNREFUSED', async () => {
    target = await refusedPort('https');
    const r = await runLoad(crowd(target.url));
    expectEveryRequestCounted(r, /^ECONNREFUSED$/);
  });

  it.skipIf(selfSignedCert() === null)('https, a certificate nobody trusts: finishes, counts the TLS failure', async () => {
    target = await untrustedTlsServer(selfSignedCert()!);
    const r = await runLoad(crowd(target.url));
    expectEveryRequestCounted(r, /CERT|SELF_SIGNED|certificate/i);
  });

  it('a server that resets every connection: finishes, counts the resets', async () => {
    target = await resetServer();
    const r = await runLoad(crowd(target.url));
    expectEveryRequestCounted(r, /^(ECONNRESET|socket|EPIPE)$/);
  });
});
