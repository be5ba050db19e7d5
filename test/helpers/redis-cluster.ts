// A real Redis Cluster of the test's own: N masters, each with R replicas (default none), on free loopback
// ports, each a redis-server with nothing on disk but its nodes.conf in a temporary directory, joined by
// `redis-cli --cluster create --cluster-replicas R`, ready once every node reports cluster_state:ok (and
// every replica's link to its master is up). Killed (SIGKILL) and its directory removed by stop(); an exit
// hook kills what a crashed test left behind. For failover tests: roles(), masterOf(), replicasOf(),
// pause()/resume() (SIGSTOP/SIGCONT), lagReplicasOf() (a replica cut off from its master's stream while the
// master takes writes) and promoted() (a replica took over). Every wait is bounded.
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

/** Polls `probe` every 50 ms until it gives a value; a probe that throws is tried again (its last error is in the timeout's message). */
export async function until<T>(what: string, ms: number, probe: () => Promise<T | null>): Promise<T> {
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

export interface ClusterOptions {
  /** Replicas per master (redis-cli --cluster create --cluster-replicas). Default 0. */
  replicas?: number;
  /** cluster-node-timeout: how long a node may not answer before it is failing (and a replica takes over). Default Redis's 15000. */
  nodeTimeoutMs?: number;
}

export type NodeRole = 'master' | 'replica' | 'down' | 'paused';

export class RedisCluster {
  /** Every node's port, masters and replicas alike; a node is named by its index here. */
  readonly ports: number[];
  readonly #children: ChildProcess[];
  readonly #args: string[][] = [];
  readonly #logs: string[] = [];
  readonly #dir: string;
  readonly #paused = new Set<number>();

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

  /** Whether node i runs and is not paused. */
  #live(i: number): boolean {
    const child = this.#children[i];
    return child.exitCode === null && child.signalCode === null && !this.#paused.has(i);
  }

  /** cluster_state:ok on every live node. */
  async #clusterOk(ms = 20_000): Promise<void> {
    for (let i = 0; i < this.ports.length; i++) {
      if (!this.#live(i)) continue;
      await until(`cluster_state:ok on ${this.ports[i]}`, ms, async () => ((await cli(this.ports[i], ['CLUSTER', 'INFO'])).includes('cluster_state:ok') ? true : null));
    }
  }

  /** Every live replica's link to its master up (it has the master's data as of now, give or take the stream in flight). */
  async #linksUp(ms = 20_000): Promise<void> {
    for (let i = 0; i < this.ports.length; i++) {
      if (!this.#live(i)) continue;
      await until(`replication link of ${this.ports[i]}`, ms, async () => {
        const info = parseInfo(await cli(this.ports[i], ['INFO', 'replication']));
        return info.role === 'master' || info.master_link_status === 'up' ? true : null;
      });
    }
  }

  /**
   * Starts masters × (1 + replicas) nodes and joins them into one cluster covering every slot, each master
   * with `replicas` replicas. Resolves once every node reports cluster_state:ok and every replica's link is up.
   */
  static async start(masters = 3, options: ClusterOptions = {}): Promise<RedisCluster> {
    const replicas = options.replicas ?? 0;
    if (!Number.isInteger(masters) || masters < 3) throw new RangeError(`a Redis Cluster needs at least 3 masters (asked for ${masters})`);
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > 4) throw new RangeError(`replicas per master: 0 to 4 (asked for ${replicas})`);
    const dir = mkdtempSync(join(tmpdir(), 'flashsale-cluster-'));
    const ports: number[] = [];
    const children: ChildProcess[] = [];
    const cluster = new RedisCluster(ports, children, dir);
    const timeout = options.nodeTimeoutMs === undefined ? [] : ['--cluster-node-timeout', String(options.nodeTimeoutMs)];
    try {
      const nodes = masters * (1 + replicas);
      for (let i = 0; i < nodes; i++) {
        const port = await freePort();
        const bus = await freePort();
        ports.push(port);
        // nodes-PORT.conf outlives a restart (the node rejoins with its slots); the data does not (no RDB, no AOF).
        cluster.#args[i] = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(bus), '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning', ...timeout];
        cluster.#spawn(i);
      }
      for (let i = 0; i < nodes; i++) await cluster.#answering(i);
      // With replicas, redis-cli makes the first `masters` nodes masters and warns that replicas share their
      // masters' host (all on 127.0.0.1 here); --cluster-yes accepts.
      const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (${create.status}): ${create.stdout.slice(-500)} ${create.stderr.slice(-500)}`);
      await cluster.#clusterOk();
      if (replicas > 0) {
        // Every node must see every replica as one (a replica joins through the cluster bus after create).
        await until('every replica attached', 20_000, async () => {
          const roles = await cluster.roles();
          return roles.filter((r) => r === 'replica').length === masters * replicas ? true : null;
        });
        await cluster.#linksUp();
        await cluster.#clusterOk();
      }
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

  /** The keys under `prefix` on each node, by node (SCAN on each, bounded): a replica lists its copy of its master's. */
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

  /** SIGKILL node i (the others go on; its slots are served by nobody until a replica of it takes over, if it has one). */
  async kill(i: number): Promise<void> {
    const child = this.#children[i];
    this.#paused.delete(i);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Each node's role now, as it says itself (INFO replication): 'down' when it exited, 'paused' while SIGSTOPped. */
  async roles(): Promise<NodeRole[]> {
    return Promise.all(
      this.ports.map(async (port, i): Promise<NodeRole> => {
        if (this.#paused.has(i)) return 'paused';
        if (!this.#live(i)) return 'down';
        const role = parseInfo(await cli(port, ['INFO', 'replication'])).role;
        return role === 'master' ? 'master' : 'replica';
      }),
    );
  }

  /** The node indexes that are masters now. */
  async masters(): Promise<number[]> {
    return (await this.roles()).flatMap((r, i) => (r === 'master' ? [i] : []));
  }

  /** The index of the master node `replica` follows (from its INFO replication); null if it is a master itself. */
  async masterOf(replica: number): Promise<number | null> {
    const info = parseInfo(await cli(this.ports[replica], ['INFO', 'replication']));
    if (info.role === 'master') return null;
    const at = this.ports.indexOf(Number(info.master_port));
    if (at < 0) throw new Error(`node ${this.ports[replica]} follows ${info.master_host}:${info.master_port}, not a node of this cluster`);
    return at;
  }

  /** The indexes of the live replicas following `master` (each asked: INFO replication). */
  async replicasOf(master: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < this.ports.length; i++) {
      if (i === master || !this.#live(i)) continue;
      if ((await this.masterOf(i)) === master) out.push(i);
    }
    return out;
  }

  /** SIGSTOP node i: it answers nobody (clients, replicas, the cluster bus) until resume(i). */
  pause(i: number): void {
    if (!this.#live(i)) throw new Error(`node ${this.ports[i]} is not running`);
    this.#children[i].kill('SIGSTOP');
    this.#paused.add(i);
  }

  /** SIGCONT node i. */
  resume(i: number): void {
    if (!this.#paused.delete(i)) return;
    this.#children[i].kill('SIGCONT');
  }

  /**
   * Cuts every replica of `master` off its replication stream while the master goes on taking writes: the
   * replica is given a wrong masterauth and its link dropped, so each reconnection fails its AUTH (the
   * replica stays up and on the cluster bus, so it stays eligible for failover). Not SIGSTOP: the stream
   * sent to a stopped replica waits in its socket buffer and is applied on SIGCONT, so it would not lag.
   * Resolves with the lagging replicas once each reports its link down; catchUp(replica) undoes it.
   */
  async lagReplicasOf(master: number): Promise<number[]> {
    const replicas = await this.replicasOf(master);
    if (replicas.length === 0) throw new Error(`node ${this.ports[master]} has no live replica to lag`);
    for (const r of replicas) {
      await cli(this.ports[r], ['CONFIG', 'SET', 'masterauth', `lagging-${process.pid}`]);
      await cli(this.ports[r], ['CLIENT', 'KILL', 'TYPE', 'master']);
    }
    for (const r of replicas) {
      await until(`replication link of ${this.ports[r]} down`, 10_000, async () => (parseInfo(await cli(this.ports[r], ['INFO', 'replication'])).master_link_status === 'down' ? true : null));
    }
    return replicas;
  }

  /** Undoes lagReplicasOf for one replica: masterauth cleared (its next reconnection resyncs). */
  async catchUp(replica: number): Promise<void> {
    await cli(this.ports[replica], ['CONFIG', 'SET', 'masterauth', '']);
  }

  /**
   * Waits until one of `candidates` (replicas of a master that died) says it is a master and every live
   * node reports cluster_state:ok; resolves with its index.
   */
  async promoted(candidates: readonly number[], ms = 30_000): Promise<number> {
    const started = Date.now();
    const winner = await until(`a replica of ${candidates.map((c) => this.ports[c]).join(', ')} promoted`, ms, async () => {
      for (const c of candidates) {
        if (!this.#live(c)) continue;
        if (parseInfo(await cli(this.ports[c], ['INFO', 'replication'])).role === 'master') return c;
      }
      return null;
    });
    await this.#clusterOk(Math.max(1000, ms - (Date.now() - started)));
    return winner;
  }

  /** Starts node i again (after kill): empty, it rejoins with its slots; resolves once every node reports cluster_state:ok. */
  async restart(i: number): Promise<void> {
    await this.kill(i);
    running.delete(this.#children[i]);
    this.#spawn(i);
    await this.#answering(i);
    await this.#clusterOk();
  }

  /** SIGKILL every node (a paused one too); the temporary directory goes too. */
  async stop(): Promise<void> {
    this.#paused.clear();
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

/** INFO's field:value lines as an object. */
function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) out[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return out;
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
