// `run --stock-store redis-server`: a redis-server of the run's own on a free loopback port, nothing on
// disk (no RDB, no AOF), stopped at the end. Only this one may be killed by a `restart: "redis"` fault:
// the machine's shared Redis never is. A restart is SIGKILL, then a new empty server on the same port —
// everything it held is gone, as after a crash of a Redis without persistence.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { FaultError, UsageError } from '../errors.ts';
import { freePort } from '../common/free-port.ts';

const START_TIMEOUT_MS = 10_000;
const OUTPUT_KEEP_CHARS = 4096;

/** The redis-server binary to run (REDIS_SERVER_BIN, else redis-server on PATH), or why there is none. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): { path: string | null; looked: string } {
  const path = env.REDIS_SERVER_BIN ?? 'redis-server';
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 5_000 });
  if (r.status === 0) return { path, looked: '' };
  return { path: null, looked: `${env.REDIS_SERVER_BIN ? `REDIS_SERVER_BIN=${path}` : 'redis-server on PATH'} did not run (${r.error?.message ?? `exit ${r.status}`}); install it (Debian: apt-get install redis-server) or set REDIS_SERVER_BIN` };
}


/** Sends PING on a fresh connection; true on +PONG within timeoutMs. */
function ping(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) done(got.startsWith('+PONG'));
    });
    socket.on('error', () => done(false));
  });
}

export class OwnRedisServer {
  readonly port: number;
  readonly #bin: string;
  #child: ChildProcess | null = null;
  #output = '';

  private constructor(bin: string, port: number) {
    this.#bin = bin;
    this.port = port;
  }

  /** Starts one on a free loopback port; UsageError when there is no redis-server to run. */
  static async start(): Promise<OwnRedisServer> {
    const found = findRedisServer();
    if (found.path === null) throw new UsageError(`--stock-store redis-server: ${found.looked}`);
    const server = new OwnRedisServer(found.path, await freePort());
    await server.#spawn();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  get running(): boolean {
    const c = this.#child;
    return c !== null && c.exitCode === null && c.signalCode === null;
  }

  async #spawn(): Promise<number> {
    const started = performance.now();
    const child = spawn(this.#bin, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const keep = (d: Buffer) => (this.#output = `${this.#output}${d.toString()}`.slice(-OUTPUT_KEEP_CHARS));
    child.stdout!.on('data', keep); // spawned with stdio 'pipe'
    child.stderr!.on('data', keep);
    child.on('error', () => {});
    for (const until = Date.now() + START_TIMEOUT_MS; Date.now() < until; ) {
      if (!this.running) throw new FaultError(`redis-server on 127.0.0.1:${this.port} exited at start: ${this.#output.trim().slice(-500)}`);
      if (await ping(this.port, 500)) return Math.round(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await this.kill();
    throw new FaultError(`redis-server on 127.0.0.1:${this.port} did not answer PING within ${START_TIMEOUT_MS / 1000} s: ${this.#output.trim().slice(-500)}`);
  }

  /** SIGKILL: everything it held is gone. Resolves once it has exited. */
  async kill(): Promise<{ pid: number | null }> {
    const child = this.#child;
    const pid = child?.pid ?? null;
    if (child && this.running) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    return { pid };
  }

  /** A new, empty server on the same port; resolves with the pid and ms until it answered PING. */
  async restart(): Promise<{ pid: number; startMs: number }> {
    await this.kill();
    const startMs = await this.#spawn();
    return { pid: this.#child!.pid!, startMs }; // #spawn resolved: the child runs and has a pid
  }

  /** Stops it for good (SIGKILL: it keeps nothing anyway). */
  async stop(): Promise<void> {
    await this.kill();
    this.#child = null;
  }
}
