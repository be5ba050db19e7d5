// Each service process's own health in `run --service-processes` (src/run/process-health.ts): asked over
// the IPC channel, not through the shared URL. With stand-ins: an exit is said once and at once, threads
// down are named, one missed answer is forgiven and two are not, a recovery is said (each kept with its time
// for the result's per-process record, with what the process last said it served); a process that never
// reports itself ready fails the start naming it. With a real `serve` on the stores: it answers for its own
// threads, its peers' heartbeat and what it served (its /metrics counters).
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessHealthWatch, askHealth, type WatchedProcess } from '../src/run/process-health.ts';
import { healthOf, type ProcessHealth, type ProcessServed } from '../src/service/health-messages.ts';
import type { UnexpectedExit } from '../src/faults/service-process.ts';
import { ServiceProcess, SERVE_BIN } from '../src/faults/service-process.ts';
import { dropPgSchema, dropRedisKeys, postgresAvailable, POSTGRES_URL, redisAvailable, REDIS_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';

class Fake implements WatchedProcess {
  pid = 4242;
  running = true;
  unexpectedExits: UnexpectedExit[] = [];
  answer: ProcessHealth | 'silent' = { threads: 2, threadsUp: 2, heartbeat: 'ok' };
  stderr = () => 'the last words';
  async ask(): Promise<unknown> {
    if (this.answer === 'silent') throw new Error('no answer within 5 s');
    return { flashsale: 'health-done', id: 1, health: this.answer };
  }
}

describe('ProcessHealthWatch with stand-ins', () => {
  it('says an exit once and at once, names threads down, forgives one missed answer but not two, and says a recovery', async () => {
    const [a, b] = [new Fake(), new Fake()];
    const log: string[] = [];
    const watch = new ProcessHealthWatch([a, b], (l) => log.push(l));
    await watch.check();
    expect(log).toEqual([]);
    b.running = false;
    b.unexpectedExits.push({ pid: 4242, code: null, signal: 'SIGKILL' });
    a.answer = { threads: 2, threadsUp: 1, heartbeat: 'ok' };
    await watch.check();
    await watch.check();
    expect(log).toEqual([
      expect.stringMatching(/^service process 1 \(pid 4242\) ended without being asked \(SIGKILL\) \d+\.\d s after the processes started; the others go on selling/),
      expect.stringMatching(/^service process 0 \(pid 4242\): 1 of 2 HTTP threads serving, \d+\.\d s after the processes started$/),
    ]);
    a.answer = 'silent';
    await watch.check();
    expect(log).toHaveLength(2);
    await watch.check();
    expect(log[2]).toMatch(/service process 0 \(pid 4242\): did not answer its health check twice in a row \(no answer within 5 s\)/);
    a.answer = { threads: 2, threadsUp: 2, heartbeat: 'ok' };
    await watch.check();
    expect(log[3]).toMatch(/service process 0 \(pid 4242\): healthy again \(was: did not answer/);
    expect(watch.notes(), 'the troubles go to the result; exits are warned by the cluster').toEqual([log[1], log[2]]);
    expect(watch.troubles(0).map((t) => [t.kind, t.pid, t.detail])).toEqual([
      ['threads_down', 4242, '1 of 2 HTTP threads serving'],
      ['no_answer', 4242, 'did not answer its health check twice in a row (no answer within 5 s)'],
      ['healthy_again', 4242, 'healthy again (was: did not answer its health check twice in a row (no answer within 5 s))'],
    ]);
    const at = watch.troubles(0).map((t) => t.at);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
    expect(watch.troubles(1)).toEqual([]);
  });

  it('keeps each process\'s last answer of what it served, by pid', async () => {
    const served = (ok: number): ProcessServed => ({ checkout: { answered: ok + 1, ok, unavailable: 1 }, reserve: { answered: 0, ok: 0, unavailable: 0 }, pay: { answered: 0, ok: 0, unavailable: 0 }, unavailable: 1, storeErrors: { redis: 2, postgres: 0 } });
    const a = new Fake();
    const watch = new ProcessHealthWatch([a], () => {});
    expect(watch.served(4242)).toBeNull();
    a.answer = { threads: 2, threadsUp: 2, heartbeat: 'ok', served: served(3) };
    await watch.check();
    a.answer = { threads: 2, threadsUp: 2, heartbeat: 'ok', served: served(5) };
    await watch.check();
    expect(watch.served(4242)?.served).toEqual(served(5));
  });

  it('a process that does not report itself ready fails the start, naming it', async () => {
    const slow = new Fake();
    slow.answer = { threads: 2, threadsUp: 1, heartbeat: 'ok' };
    await expect(new ProcessHealthWatch([new Fake(), slow], () => {}).ready(300)).rejects.toThrow(/service process 1 \(pid 4242\) did not report itself ready within 0.3 s \(1 of 2 HTTP threads serving\)/);
    const gone = new Fake();
    gone.running = false;
    await expect(new ProcessHealthWatch([gone], () => {}).ready(300)).rejects.toThrow(/service process 0 \(pid 4242\) ended during its start: the last words/);
  });

  it('an answer that is not a health report is refused; a bad served part is dropped, the rest kept', async () => {
    const odd = new Fake();
    odd.ask = async () => ({ flashsale: 'health-done', id: 1, health: { threads: 'two' } });
    await expect(askHealth(odd)).rejects.toThrow(/answered .*"threads":"two"/);
    expect(healthOf({ health: { threads: 1, threadsUp: 1, heartbeat: 'ok', served: { checkout: { answered: -1 } } } })).toEqual({ threads: 1, threadsUp: 1, heartbeat: 'ok' });
  });
});

const redis = await redisAvailable();
const postgres = await postgresAvailable();
requireOrSkip('Redis', redis);
requireOrSkip('PostgreSQL', postgres);
const schema = uniqueName('health').toLowerCase();
afterAll(async () => {
  await dropPgSchema(schema).catch(() => {});
  await dropRedisKeys(`flashsale:${schema}`).catch(() => {});
});

describe.skipIf(!(redis.ok && postgres.ok))('a real serve on the stores', () => {
  it('answers for its own threads, heartbeat and what it served over IPC', { timeout: 90_000 }, async () => {
    const p = new ServiceProcess({
      file: process.execPath,
      args: (port) => [SERVE_BIN, 'serve', '--port', String(port), '--threads', '2', '--sku', 'A', '--stock', '5', '--stock-store', REDIS_URL, '--ledger', POSTGRES_URL, '--store-schema', schema],
      port: 0,
      threads: 2,
      ipc: true,
    });
    try {
      const { url } = await p.start();
      const zero = { answered: 0, ok: 0, unavailable: 0 };
      expect(await askHealth(p)).toEqual({ threads: 2, threadsUp: 2, heartbeat: 'ok', served: { checkout: zero, reserve: zero, pay: zero, unavailable: 0, storeErrors: { redis: 0, postgres: 0 } } });
      // What it served comes from its /metrics counters: two buyers, one unit each.
      for (const userId of ['u1', 'u2']) {
        const res = await fetch(`${url}/api/v1/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'A', userId, qty: 1 }) });
        expect(res.status).toBe(201);
        await res.arrayBuffer();
      }
      expect((await askHealth(p)).served).toMatchObject({ checkout: { answered: 2, ok: 2, unavailable: 0 }, reserve: zero, pay: zero, unavailable: 0 });
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });
});
