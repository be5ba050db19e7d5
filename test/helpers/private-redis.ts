// A Redis of the test's own on a free loopback port, so a test may FLUSHALL it or kill it with SIGKILL
// and start it again without touching the shared server other tests use. Nothing on disk.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Availability } from './servers.ts';
import { freePort } from '../../src/common/free-port.ts';

export function redisServerInstalled(): Availability {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? { ok: true, reason: '' } : { ok: false, reason: 'redis-server is not on PATH (Debian: apt-get install redis-server)' };
}


export class PrivateRedis {
  readonly port: number;
  #child: ChildProcess | null = null;

  private constructor(port: number) {
    this.port = port;
  }

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort());
    await r.restart();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (again) on the same port, empty; resolves once it accepts connections. */
  async restart(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const { connectRedis } = await import('../../src/stores/redis/link.ts');
    for (const until = Date.now() + 10_000; Date.now() < until; ) {
      if (child.exitCode !== null) throw new Error(`redis-server exited: ${out.slice(0, 500)}`);
      try {
        const link = await connectRedis(this.url);
        await link.close();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new Error(`redis-server on ${this.port} did not start in 10 s: ${out.slice(0, 500)}`);
  }

  /** SIGKILL: everything it held is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.#child = null;
  }
}
