// The service owns its port. Its threads listen with reusePort, which used to let a second service (or
// any reusePort server) start on the same port without a word: the kernel split buyers between two
// stocks, each selling all of it. A second start now exits 2 naming the port and who holds it.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type SaleDefinition } from '../src/service/index.ts';
import { guardPort } from '../src/service/port-guard.ts';
import { PortInUseError } from '../src/errors.ts';
import { killAll, serve, serveRefused } from './helpers/serve.ts';
import { freePort } from '../src/common/free-port.ts';

const SALE: SaleDefinition = { skus: [{ id: 'phone', stock: 100 }], perUserLimit: 1, reservationTtlMs: 60_000, opensAtEpochMs: null, payment: { declineRate: 0, latencyMs: 0 } };

afterAll(killAll);


function listen(port: number, reusePort: boolean): Promise<Server> {
  const s = createServer();
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen({ port, host: '127.0.0.1', reusePort }, () => resolve(s));
  });
}

describe('port ownership', () => {
  it('of two services started on one port at the same moment, exactly one runs; the other names it', async () => {
    const port = await freePort();
    const results = await Promise.allSettled([0, 1].map(() => startService({ sale: SALE, threads: 2, port })));
    const running = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    try {
      expect([running.length, refused.length]).toEqual([1, 1]);
      const reason = (refused[0] as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(PortInUseError);
      expect(reason.exitCode).toBe(2);
      expect(reason.message).toMatch(new RegExp(`port ${port} .*(flashsale service \\(pid ${process.pid}|pid ${process.pid} \\(this process\\))`));
    } finally {
      for (const r of running) await (r as PromiseFulfilledResult<{ close(): Promise<void> }>).value.close();
    }
    // Released on close: the port can be served again.
    const again = await startService({ sale: SALE, threads: 1, port });
    await again.close();
  });

  it('refuses a port held by another program, with or without reusePort, naming its process', async () => {
    const port = await freePort();
    const plain = await listen(port, false);
    try {
      const e = await startService({ sale: SALE, threads: 1, port }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(PortInUseError);
      expect((e as Error).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} is in use by pid ${process.pid} \\(this process\\)`));
    } finally {
      await new Promise((r) => plain.close(r));
    }
    // A reusePort server in another process (an older flashsale, say) would have been joined silently.
    const script = `require('net').createServer().listen({ port: ${port}, host: '127.0.0.1', reusePort: true }, () => console.log('up'))`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
      });
      const e = await startService({ sale: SALE, threads: 2, port }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(PortInUseError);
      expect((e as Error).message).toMatch(new RegExp(`:${port} is in use by pid ${child.pid} \\(.*node`));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('serve: a second instance on the port exits 2 naming the port and the first one', async () => {
    const first = await serve(['--port', '0', '--threads', '1']);
    const port = new URL(first.url).port;
    const second = await serveRefused(['--port', port, '--threads', '1']);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`port ${port} is already served by another flashsale service \\(pid ${first.child.pid}, ${first.url}\\)`));
    expect(await first.stop()).toBe(0);
  });

  it('falls back to a lock file (other platforms): held, refused, released, and stale when its pid is gone', async () => {
    const port = 1; // never bound here: the lock file alone is under test
    const file = join(tmpdir(), `flashsale-port-${port}.lock`);
    rmSync(file, { force: true });
    const held = await guardPort(port, 'http://x:1', 'lock-file');
    await expect(guardPort(port, 'http://y:1', 'lock-file')).rejects.toThrow(PortInUseError); // a second service in this process too
    held.release();
    writeFileSync(file, JSON.stringify({ pid: 1, url: 'http://init:1' })); // pid 1 is alive
    await expect(guardPort(port, 'http://y:1', 'lock-file')).rejects.toThrow(/port 1 is already served .*pid 1, http:\/\/init:1/);
    writeFileSync(file, JSON.stringify({ pid: 2 ** 22 + 12345, url: 'http://gone:1' })); // above pid_max: gone
    const taken = await guardPort(port, 'http://z:1', 'lock-file');
    taken.release();
  });
});
