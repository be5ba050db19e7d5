// The engine's sender, against a real server on 127.0.0.1: a request is filled from its template and
// sent on an idle connection; with every connection busy it waits and goes when one frees up (FIFO);
// one out longer than journey.timeoutMs is aborted by the sweep with the engine's own timeout error.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKOUT } from '../src/contract/vocabulary.ts';
import { TIMEOUT_CODE } from '../src/load/answers.ts';
import { Journey, type JourneyHost } from '../src/load/journey.ts';
import { Sender } from '../src/load/sender.ts';
import { Tally } from '../src/load/tally.ts';
import { LoadRecorder } from '../src/measure/recorder.ts';
import { testPlan } from './fixtures/load-plan.ts';

let server: Server;
let url = '';
const bodies: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      bodies.push(`${req.method} ${req.url} ${body}`);
      if (body.includes('"hang"')) return; // never answers: the sweep must time it out
      setTimeout(() => res.writeHead(201, { 'content-type': 'application/json' }).end('{"orderId":"o1"}'), 20);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

/** A host that records what happened to each journey. */
function host(): JourneyHost & { events: string[]; done: Promise<void>; expect(n: number): void } {
  const started = performance.now();
  let want = 0;
  let resolve = () => {};
  const h = {
    events: [] as string[],
    done: new Promise<void>((r) => (resolve = r)),
    expect(n: number) {
      want = n;
    },
    now: () => performance.now() - started,
    answered: (j: Journey) => (h.events.push(`${j.userId} ${j.statusCode}`), h.events.length === want && resolve()),
    failed: (j: Journey, err: Error) => (h.events.push(`${j.userId} ${(err as { code?: string }).code}`), h.events.length === want && resolve()),
  };
  return h;
}

function journey(h: JourneyHost, userId: string): Journey {
  const j = new Journey(h);
  j.userId = userId;
  j.sku = 'phone';
  j.qty = 1;
  j.step = CHECKOUT;
  j.journeyKey = `k-${userId}`;
  j.refreshKey();
  return j;
}

describe('sender', () => {
  it('fills the request from its template, and queues behind a busy connection (FIFO)', async () => {
    const tally = new Tally();
    const sender = new Sender(testPlan(url, { connections: 1 }), new LoadRecorder(), tally, null, () => 0);
    const h = host();
    h.expect(2);
    const [a, b] = [journey(h, 'ua'), journey(h, 'ub')];
    // As the engine does: the connection is freed as soon as an answer is read.
    const answered = h.answered;
    h.answered = (j: Journey) => (sender.free(j.conn, h.now(), false), answered(j));
    sender.send(a, 0);
    sender.send(b, 0);
    expect(tally.counts.requestsSent).toBe(1); // b waits for the one connection
    await h.done;
    expect(h.events).toEqual(['ua 201', 'ub 201']);
    expect(tally.counts.requestsSent).toBe(2);
    expect(bodies.slice(-2)).toEqual(['POST /api/v1/checkout {"sku":"phone","userId":"ua","qty":1}', 'POST /api/v1/checkout {"sku":"phone","userId":"ub","qty":1}']);
    await sender.conns.close();
  });

  it('aborts a request out longer than journey.timeoutMs with the engine timeout', async () => {
    const plan = testPlan(url, { connections: 1 });
    plan.journey.timeoutMs = 50;
    plan.target.requests.checkout = { ...plan.target.requests.checkout!, body: { json: { hang: 'hang' } } };
    const sender = new Sender(plan, new LoadRecorder(), new Tally(), null, () => 0);
    const h = host();
    h.expect(1);
    sender.send(journey(h, 'slow'), 0);
    const sweep = setInterval(() => sender.sweepTimeouts(h.now()), 10);
    await h.done;
    clearInterval(sweep);
    expect(h.events).toEqual([`slow ${TIMEOUT_CODE}`]);
    await sender.conns.close();
  });
});
