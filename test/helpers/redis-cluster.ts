// A real Redis Cluster of the test's own: N masters (no replicas) on free loopback ports, each a
// redis-server with nothing on disk but its nodes.conf in a temporary directory, joined by
// `redis-cli --cluster create`, ready once every node reports cluster_state:ok. Killed (SIGKILL) and its
// directory removed by stop(); an exit hook kills what a crashed test left behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Availability } from './servers.ts';
import { freePort } from '../../src/common/free-port.ts';

/** redis-server (7 or later: --cluster-port) and redis-cli, both on PATH. */
export function redisClusterTools(): Availability {
  for (const bin of ['redis-server', 'redis-cli']) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (r.status !== 0) return { ok: false, reason: `${bin} is not on PATH (Debian: apt-get install redis-server redis-tools)` };
    const major = Number(/v=(\d+)|redis-cli (\d+)/.exec(r.stdout)?.slice(1).find((x) => x !== undefined) ?? 0);
    if (major < 7) return { ok: false, reason: `${bin} ${r.stdout.trim()} is older than 7 (the cluster's bus port is set with --cluster-port)` };
  }
  return { ok: true, reason: '' };
}


const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Stops `until` at once (a node that exited will not answer later). */
class Fatal extends Error {}

async function until<T>(what: string, ms: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + ms;
  let last = '';
  for (;;) {
    try {
      const got = await probe();
      if (got !== null) return got;
    } catch (e) {
      if (e instanceof Fatal) throw e;
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s${last ? ` (${last})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export class RedisCluster {
  readonly ports: number[];
  readonly #children: ChildProcess[];
  readonly #args: string[][] = [];
  readonly #logs: string[] = [];
  readonly #dir: string;

  private constructor(ports: number[], children: ChildProcess[], dir: string) {
    this.ports = ports;
    this.#children = children;
    this.#dir = dir;
  }

  #spawn(i: number): void {
    const child = spawn('redis-server', this.#args[i], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    this.#logs[i] = '';
    child.stdout!.on('data', (d) => (this.#logs[i] += d));
    child.stderr!.on('data', (d) => (this.#logs[i] += d));
    this.#children[i] = child;
  }

  async #answering(i: number): Promise<void> {
    await until(`redis-server on ${this.ports[i]}`, 10_000, async () => {
      if (this.#children[i].exitCode !== null) throw new Fatal(`redis-server on ${this.ports[i]} exited (${this.#children[i].exitCode}): ${this.#logs[i].slice(0, 500)}`);
      return (await cli(this.ports[i], ['PING'])).trim() === 'PONG' ? true : null;
    });
  }

  async #clusterOk(): Promise<void> {
    for (const port of this.ports) {
      await until(`cluster_state:ok on ${port}`, 20_000, async () => ((await cli(port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok') ? true : null));
    }
  }

  /** Starts `masters` nodes and joins them into one cluster covering every slot. */
  static async start(masters = 3): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'flashsale-cluster-'));
    const ports: number[] = [];
    const children: ChildProcess[] = [];
    const cluster = new RedisCluster(ports, children, dir);
    try {
      for (let i = 0; i < masters; i++) {
        const port = await freePort();
        const bus = await freePort();
        ports.push(port);
        // nodes-PORT.conf outlives a restart (the node rejoins with its slots); the data does not (no RDB, no AOF).
        cluster.#args[i] = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(bus), '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
        cluster.#spawn(i);
      }
      for (let i = 0; i < masters; i++) await cluster.#answering(i);
      const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (${create.status}): ${create.stdout.slice(-500)} ${create.stderr.slice(-500)}`);
      await cluster.#clusterOk();
      return cluster;
    } catch (e) {
      await cluster.stop();
      throw e;
    }
  }

  /** redis+cluster://127.0.0.1:P1,127.0.0.1:P2,… */
  get url(): string {
    return `redis+cluster://${this.ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  }

  /** One node on its own (SCAN there sees only that node's keys). */
  nodeUrl(i: number): string {
    return `redis://127.0.0.1:${this.ports[i]}`;
  }

  /** The keys under `prefix` on each node, by node (SCAN on each, bounded). */
  async keysByNode(prefix: string): Promise<string[][]> {
    const { connectRedis } = await import('../../src/stores/redis/link.ts');
    return Promise.all(
      this.ports.map(async (_, i) => {
        const link = await connectRedis(this.nodeUrl(i));
        const keys: string[] = [];
        try {
          let cursor = '0';
          for (let round = 0; round < 10_000; round++) {
            const [next, got] = (await link.call(['SCAN', cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000])) as [string, string[]];
            keys.push(...got);
            cursor = next;
            if (cursor === '0') break;
          }
        } finally {
          await link.close();
        }
        return keys;
      }),
    );
  }

  /** SIGKILL node i (the others go on; its slots are then served by nobody). */
  async kill(i: number): Promise<void> {
    const child = this.#children[i];
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts node i again (after kill): empty, it rejoins with its slots; resolves once every node reports cluster_state:ok. */
  async restart(i: number): Promise<void> {
    await this.kill(i);
    running.delete(this.#children[i]);
    this.#spawn(i);
    await this.#answering(i);
    await this.#clusterOk();
  }

  /** SIGKILL every node; the temporary directory goes too. */
  async stop(): Promise<void> {
    await Promise.all(
      this.#children.map(async (child) => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGKILL');
          await exited;
        }
        running.delete(child);
      }),
    );
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

function cli(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`redis-cli ${args.join(' ')}: exit ${code}: ${out.slice(0, 200)}`));
    });
  });
}
