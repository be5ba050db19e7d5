// The connections a worker holds (src/load/connections.ts), counted into the interval series from the
// transports' connect/disconnect events: against real loopback servers, on both transports. A
// keep-alive server keeps the pool open the whole run (no connects after the warm-up's, no
// disconnects); a server that answers `connection: close` every few requests makes connects and
// disconnects rise during the run, and every bucket's open count is what the counts add up to. A reset
// of an idle connection is a disconnect too; the generator closing its own after the run is not.
import { afterEach, describe, expect, it } from 'vitest';
import type { IntervalSeries } from '../src/contract/result.ts';
import { Connections } from '../src/load/connections.ts';
import { runLoad } from '../src/load/index.ts';
import { startScriptedServer, withLength, type ScriptedServer } from './fixtures/hostile-servers.ts';
import { testPlan } from './fixtures/load-plan.ts';

const TRANSPORTS = ['raw', 'undici'] as const;
const ORDER = '{"orderId":"o1"}';
const POOL = 4;
/** The close server ends every CLOSE_EVERY-th answer on a connection with `connection: close`. */
const CLOSE_EVERY = 5;

let server: ScriptedServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const sum = (s: number[]) => s.reduce((a, b) => a + b, 0);

/** 100 buyers over 500 ms on POOL connections, warmed up before t0. */
async function run(transport: 'raw' | 'undici', closing: boolean): Promise<{ s: IntervalSeries; connections: number; closes: number }> {
  let closes = 0;
  server = await startScriptedServer((socket, req) => {
    if (closing && req.onConnection % CLOSE_EVERY === CLOSE_EVERY - 1) {
      closes++;
      socket.end(withLength(201, ORDER, ['connection: close']));
    } else socket.write(withLength(201, ORDER));
  });
  const plan = testPlan(server.url, { transport, connections: POOL, warmup: { path: '/healthz' }, arrival: { type: 'constant-arrival-rate', rate: 200, timeUnitMs: 1000, durationMs: 500 } });
  plan.journey.retries = { max: 0, baseMs: 1, maxMs: 1 };
  plan.journey.timeoutMs = 5_000;
  plan.caps.gracefulStopMs = 10_000;
  const r = await runLoad(plan);
  expect(r.counts.byOutcome.success).toBe(100);
  return { s: r.intervals, connections: server.connections, closes };
}

/** Every bucket's open count is the connects less the disconnects up to its end. */
function expectLevelsAddUp(s: IntervalSeries): void {
  const open = s.connectionsOpen!;
  const connects = s.connects!;
  const disconnects = s.disconnects!;
  expect(open).toHaveLength(s.sent.length);
  expect(connects).toHaveLength(s.sent.length);
  expect(disconnects).toHaveLength(s.sent.length);
  let level = 0;
  open.forEach((v, b) => {
    level += connects[b] - disconnects[b];
    expect(v, `bucket ${b}`).toBe(level);
  });
}

describe('open connections, connects and disconnects per interval', () => {
  for (const transport of TRANSPORTS) {
    it(`${transport}: a keep-alive server: the pool is open in every bucket, connected once (by the warm-up)`, async () => {
      const { s, connections } = await run(transport, false);
      expect(connections).toBe(POOL);
      expect(s.connects![0]).toBe(POOL);
      expect(sum(s.connects!.slice(1))).toBe(0);
      expect(sum(s.disconnects!)).toBe(0);
      expect(new Set(s.connectionsOpen)).toEqual(new Set([POOL]));
      expectLevelsAddUp(s);
    });

    it(`${transport}: a server closing every ${CLOSE_EVERY}th answer: connects and disconnects rise during the run`, async () => {
      const { s, connections, closes } = await run(transport, true);
      // Every connection the server accepted was counted, the warm-up's in the first bucket.
      expect(sum(s.connects!)).toBe(connections);
      expect(s.connects![0]).toBeGreaterThanOrEqual(POOL);
      expect(connections).toBeGreaterThan(POOL + 5);
      expect(sum(s.connects!.slice(1))).toBeGreaterThan(5);
      // Each close the server made is a disconnect, but for ones whose close the run's end overtook.
      expect(sum(s.disconnects!)).toBeLessThanOrEqual(closes);
      expect(sum(s.disconnects!)).toBeGreaterThanOrEqual(closes - POOL);
      expect(closes).toBeGreaterThan(5);
      expectLevelsAddUp(s);
      expect(Math.max(...s.connectionsOpen!)).toBeLessThanOrEqual(POOL);
    });
  }

  /** One GET on each of the connections' clients. */
  const getOnEach = (conns: Connections<null>) =>
    Promise.all(
      conns.clients.map(
        (c) =>
          new Promise<void>((resolve, reject) => {
            c.dispatch({ method: 'GET', path: '/' }, {
              onConnect: () => undefined,
              onHeaders: () => true,
              onData: () => true,
              onComplete: () => resolve(),
              onError: reject,
            });
          }),
      ),
    );

  it('counts a connection the target resets while it is idle as a disconnect', async () => {
    server = await startScriptedServer((socket) => {
      socket.write(withLength(201, ORDER));
      setTimeout(() => socket.resetAndDestroy(), 30);
    });
    for (const transport of TRANSPORTS) {
      const seen: boolean[] = [];
      const conns = new Connections<null>({ url: server.url, connections: 2, timeoutMs: 2_000, transport, onConnection: (up) => seen.push(up) });
      await getOnEach(conns);
      for (let i = 0; i < 100 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
      expect(seen, transport).toEqual([true, true, false, false]);
      expect(conns.open, transport).toBe(0);
      await conns.close();
    }
  });

  it('tells connects and disconnects until close(), and not the generator closing its own connections', async () => {
    server = await startScriptedServer((socket) => void socket.write(withLength(201, ORDER)));
    for (const transport of TRANSPORTS) {
      const seen: boolean[] = [];
      const conns = new Connections<null>({ url: server.url, connections: 2, timeoutMs: 2_000, transport, onConnection: (up) => seen.push(up) });
      await getOnEach(conns);
      expect(seen, transport).toEqual([true, true]);
      expect(conns.open).toBe(2);
      await conns.close();
      expect(seen, transport).toEqual([true, true]);
    }
  });
});
