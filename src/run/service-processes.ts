// `flashsale run --service-processes N --stock-store <redis://…|redis-server> --ledger postgres://…`: the
// built-in service as N `flashsale serve` processes on the shared stores, behind one URL. Process 0 takes
// a free loopback port, the others join it (`serve --join-port`: the kernel spreads connections over
// them). Every run gets a PostgreSQL schema and a Redis key prefix of its own (one fresh name), dropped
// at the end unless --keep-stores. `redis-server` starts a Redis of the run's own (nothing on disk),
// the only Redis a fault may kill. With a stop-postgres fault a TCP gate sits between the processes and
// PostgreSQL. Everything started here is stopped at the end — on errors and Ctrl-C too, and, should the
// run's process exit without its finally blocks running (a second Ctrl-C), killed from its exit hook.
// It keeps each process's record for the result (target.stores.perProcess: its pids over restarts, how
// each ended, its troubles, what it served) and tells the run at once when every process has ended with
// none inside a kill fault that will restart it: the target is dead, and the run stops its crowd.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { messageOf, UsageError } from '../errors.ts';
import { ServiceProcess, SERVE_BIN, START_TIMEOUT_MS } from '../faults/service-process.ts';
import { ProcessHealthWatch } from './process-health.ts';
import { ProcessLives } from './process-lives.ts';
import { OwnRedisServer } from '../faults/redis-server.ts';
import { TcpGate } from '../faults/tcp-gate.ts';
import type { StoreProcessUnderFault, StoresUnderFault } from '../faults/kind.ts';
import type { SaleDefinition } from '../contract/sale.ts';
import type { AckedOrder, ServiceProcessRecord } from '../contract/result.ts';
import { connectRedis, dropKeysUnder } from '../stores/redis/link.ts';
import { checkSchemaName } from '../stores/postgres/schema.ts';
import { parsePostgresUrl, parseRedisUrl, redactUrl } from '../stores/url.ts';
import { STOCK_STORE_DESIGNS, type StockStoreDesign } from '../stores/stock-store.ts';

/** More processes than this on one machine measure the machine, not the service. */
export const MAX_SERVICE_PROCESSES = 32;
const PROBE_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 15_000;
const LEDGER_READ_TIMEOUT_MS = 30_000;

export interface StoresFlags {
  processes?: number;
  stockStore?: string;
  ledger?: string;
  keepStores?: boolean;
  /** --stock-strategy: how the processes share the Redis stock (serve's flag, passed to each process). */
  stockStrategy?: string;
  target?: string;
}

export interface StoresRun {
  processes: number;
  /** redis://… or 'redis-server' (the run's own). */
  stockStore: string;
  ledger: string;
  keep: boolean;
  strategy: StockStoreDesign;
}

/** The flags of a run on the stores, checked before anything starts (exit 2 naming the flag); null without them. */
export function storesRunOf(f: StoresFlags): StoresRun | null {
  const any = f.stockStore !== undefined || f.ledger !== undefined || f.keepStores === true || f.stockStrategy !== undefined;
  if (f.processes === undefined) {
    if (any) throw new UsageError('--stock-store, --ledger, --stock-strategy and --keep-stores belong to --service-processes N: the built-in service as N processes on the shared stores');
    return null;
  }
  if (!Number.isInteger(f.processes) || f.processes < 1 || f.processes > MAX_SERVICE_PROCESSES) {
    throw new UsageError(`--service-processes ${f.processes}: give 1 to ${MAX_SERVICE_PROCESSES}`);
  }
  if (f.target !== undefined) throw new UsageError('--service-processes starts the built-in service on the shared stores, and --target sends the load elsewhere: give one, not both');
  if (f.stockStore === undefined || f.ledger === undefined) {
    throw new UsageError('--service-processes N needs the shared stores: --stock-store <redis://host:port/db|redis-server> and --ledger postgres://user@host:port/db');
  }
  if (f.stockStore !== 'redis-server') parseRedisUrl(f.stockStore, '--stock-store');
  parsePostgresUrl(f.ledger, '--ledger');
  const strategy = STOCK_STORE_DESIGNS.find((d) => d === (f.stockStrategy ?? 'redis-lua'));
  if (strategy === undefined) throw new UsageError(`--stock-strategy ${JSON.stringify(f.stockStrategy)}: expected one of ${STOCK_STORE_DESIGNS.join(', ')}`);
  return { processes: f.processes, stockStore: f.stockStore, ledger: f.ledger, keep: f.keepStores === true, strategy };
}

async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** PING through the service's own client: exit 2 (before any load) when Redis cannot be reached. */
async function probeRedis(url: string): Promise<void> {
  try {
    await withTimeout(`Redis at ${redactUrl(url)}`, PROBE_TIMEOUT_MS, (async () => {
      const link = await connectRedis(url);
      try {
        await link.call(['PING']);
      } finally {
        await link.close();
      }
    })());
  } catch (e) {
    throw new UsageError(`--stock-store ${redactUrl(url)}: cannot reach Redis (${messageOf(e)}); no load was sent`);
  }
}

async function pgQuery(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

/** SELECT 1 with a login: exit 2 (before any load) when PostgreSQL cannot be reached. */
async function probePostgres(url: string): Promise<void> {
  try {
    await withTimeout(`PostgreSQL at ${redactUrl(url)}`, PROBE_TIMEOUT_MS, pgQuery(url, 'SELECT 1'));
  } catch (e) {
    throw new UsageError(`--ledger ${redactUrl(url)}: cannot reach PostgreSQL (${messageOf(e)}); no load was sent`);
  }
}

/** A schema name of the run's own: plain lower-case, unique per run, recognisable as a run's. */
export function storesName(at = new Date()): string {
  const stamp = at.toISOString().replace(/\D/g, '').slice(0, 14);
  return checkSchemaName(`flashsale_run_${stamp}_${randomBytes(4).toString('hex')}`);
}

/** What result.json records of the service's shape (URLs without passwords). */
export interface StoresRecord {
  processes: number;
  threadsPerProcess: number;
  stockStore: string;
  ownRedis: boolean;
  ledger: string;
  schema: string;
  prefix: string;
  /** --keep-stores: the schema and keys were left in place. */
  kept: boolean;
  /** --stock-strategy of every process. */
  strategy: StockStoreDesign;
  /** Each process over its restarts (ServiceCluster.finish). */
  perProcess?: ServiceProcessRecord[];
  /** Every process had ended, none restarting (ms from t0). */
  allDown?: { atMs: number; crowdStopped: boolean; detail: string };
}

export interface ServiceCluster {
  url: string;
  threadsPerProcess: number;
  record: StoresRecord;
  processes: readonly ServiceProcess[];
  /** What faults may act on. */
  faults: StoresUnderFault;
  /** Every process the cluster runs now (the service processes, the own redis-server). */
  pids(): number[];
  /** The sale's orders as PostgreSQL holds them, read by the run itself (not through any process). */
  readLedger(): Promise<AckedOrder[]>;
  /** Problems a reader must know: a process that ended without being asked. */
  warnings(): string[];
  /**
   * Called once, at once, when every process has ended and none is inside a kill fault that will restart
   * it (after the start, until loadEnded): `detail` names each process, how and when it ended.
   */
  onAllDown(listener: (detail: string) => void): void;
  /** The load's t0 (epoch ms): the times said from then on count from it. */
  loadStarted(t0EpochMs: number): void;
  /** The load is over: an end from now on no longer means the target died under it. */
  loadEnded(): void;
  /**
   * Once the audit has read what it needs: a last health round (what each process served), then every
   * process stopped; the record with each process's part (times from t0) and whether all went down.
   */
  finish(t0EpochMs: number, crowdStopped: boolean): Promise<StoresRecord>;
  /** Stops everything, drops the schema and keys unless kept; resolves with what it did, for the log. */
  close(): Promise<string[]>;
}

export interface ClusterOptions {
  run: StoresRun;
  sale: SaleDefinition;
  /** Where the sale file goes (the run's out dir). */
  dir: string;
  adminToken: string;
  threadsPerProcess?: number;
  seed?: number;
  /** Put a TCP gate between the processes and PostgreSQL (for stop-postgres faults). */
  gate: boolean;
  log?(line: string): void;
}

/** Lines of a process's stderr worth showing during a run: what it did about a failing store. */
const NOTEWORTHY = /rebuil|unavailable|fail|error|lost/i;

export async function startServiceCluster(o: ClusterOptions): Promise<ServiceCluster> {
  const { run } = o;
  await probePostgres(run.ledger);
  const ownRedis = run.stockStore === 'redis-server' ? await OwnRedisServer.start() : null;
  const processes: ServiceProcess[] = [];
  let gate: TcpGate | null = null;
  // Only processes still running: an ended one's pid may belong to another process by now.
  const livePids = () => [...processes.filter((p) => p.running).map((p) => p.pid), ownRedis?.pid ?? null].filter((p): p is number => p !== null);
  const killNow = () => {
    for (const pid of livePids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  // The last resort: the run's process is exiting without its finally blocks (process.exit on a second Ctrl-C).
  process.on('exit', killNow);
  const schema = storesName();
  const prefix = `flashsale:${schema}`;
  const redisUrl = ownRedis?.url ?? run.stockStore;
  const threads = o.threadsPerProcess ?? 1;
  let dropped = false;

  const drop = async (): Promise<string[]> => {
    if (dropped) return [];
    dropped = true;
    if (run.keep) {
      return [`stores kept (--keep-stores): PostgreSQL schema ${schema} on ${redactUrl(run.ledger)}${ownRedis ? "; the Redis keys went with the run's own redis-server" : `, Redis keys ${prefix}:* on ${redactUrl(redisUrl)}`}`];
    }
    const said: string[] = [];
    await pgQuery(run.ledger, `DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((e: unknown) => said.push(`could not drop PostgreSQL schema ${schema}: ${messageOf(e)}`));
    if (!ownRedis) await dropKeysUnder(redisUrl, prefix).catch((e: unknown) => said.push(`could not delete the Redis keys ${prefix}:*: ${messageOf(e)}`));
    return said;
  };

  let health: ProcessHealthWatch | null = null;
  const lives = new ProcessLives(run.processes, (i) => processes[i]?.running ?? false);
  const close = async (): Promise<string[]> => {
    lives.stopWatching();
    await health?.stop();
    await Promise.all(processes.map((p) => p.stop(STOP_TIMEOUT_MS).catch(() => null)));
    await gate?.cut();
    const said = await drop();
    await ownRedis?.stop();
    process.off('exit', killNow);
    return said;
  };

  try {
    if (!ownRedis) await probeRedis(redisUrl);
    let ledgerUrl = run.ledger;
    if (o.gate) {
      const target = parsePostgresUrl(run.ledger);
      gate = new TcpGate(target.host, target.port);
      await gate.open();
      const through = new URL(run.ledger);
      through.hostname = '127.0.0.1';
      through.port = String(gate.port);
      ledgerUrl = through.href;
    }
    const saleFile = join(o.dir, 'sale.json');
    writeFileSync(saleFile, `${JSON.stringify(o.sale)}\n`);
    const base = ['--host', '127.0.0.1', '--threads', String(threads), '--sale', saleFile, '--stock-store', redisUrl, '--ledger', ledgerUrl, '--store-schema', schema, '--store-prefix', prefix, '--stock-strategy', run.strategy];
    if (o.seed !== undefined) base.push('--seed', String(o.seed));
    // Process 0 claims a free port; every other process, and any process restarted after a kill,
    // joins it; a restart first rebuilds the stock from the ledger (the dead one's holds go back).
    const restarted: boolean[] = [];
    // A first start always loads the stock ("Redis holds no stock"): news only once the service is up.
    let up = false;
    let sharedPort = 0;
    const make = (i: number) =>
      new ServiceProcess({
        file: process.execPath,
        args: (port) => [SERVE_BIN, 'serve', ...base, '--port', String(port), ...(i > 0 || restarted[i] ? ['--join-port'] : []), ...(restarted[i] ? ['--rebuild-stock'] : [])],
        port: sharedPort,
        threads,
        adminToken: o.adminToken,
        // Each process answers for its own health there (process-health.ts), not through the shared URL.
        ipc: true,
        log: (line) => {
          if (up && NOTEWORTHY.test(line)) o.log?.(`service process ${i}: ${line.replace(/^flashsale serve: /, '')}`);
        },
        onExit: (x) => lives.ended(i, x),
      });
    const startOne = async (i: number) => {
      const startedAt = Date.now();
      const info = await processes[i].start();
      lives.started(i, info.pid, 'run', startedAt);
      return info;
    };
    processes.push(make(0));
    const first = await startOne(0);
    sharedPort = Number(new URL(first.url).port);
    for (let i = 1; i < run.processes; i++) processes.push(make(i));
    await Promise.all(processes.slice(1).map((_p, k) => startOne(k + 1)));
    health = new ProcessHealthWatch(processes, (line) => o.log?.(line), (at) => lives.when(at));
    await health.ready(START_TIMEOUT_MS);
    health.start();
    up = true;
    lives.watch();
    const faultProcesses: StoreProcessUnderFault[] = processes.map((p, i) => ({
      async kill() {
        lives.faultDown(i);
        try {
          return await p.kill();
        } catch (e) {
          lives.faultKillFailed(i);
          throw e;
        }
      },
      async restart() {
        restarted[i] = true;
        lives.faultDown(i);
        const startedAt = Date.now();
        try {
          const info = await p.restart();
          lives.restarted(i, { pid: info.pid, startedAt });
          return info;
        } catch (e) {
          lives.restarted(i, { pid: p.pid, failure: messageOf(e) });
          throw e;
        }
      },
    }));
    const served = (pid: number, from: number) => {
      const a = health?.served(pid) ?? null;
      return a === null ? null : { atMs: a.at - from, ...a.served };
    };
    const record: StoresRecord = {
      processes: run.processes,
      threadsPerProcess: threads,
      stockStore: ownRedis ? `redis-server (${ownRedis.url}, the run's own)` : redactUrl(run.stockStore),
      ownRedis: ownRedis !== null,
      ledger: redactUrl(run.ledger),
      schema,
      prefix,
      kept: run.keep,
      strategy: run.strategy,
    };
    return {
      url: first.url,
      threadsPerProcess: threads,
      record,
      processes,
      faults: { processes: faultProcesses, redis: ownRedis, postgresGate: gate },
      async readLedger() {
        // The run's schema holds one sale: every order in it is this run's. Straight from the server (not the gate).
        const r = await withTimeout('reading the ledger from PostgreSQL', LEDGER_READ_TIMEOUT_MS, pgQuery(run.ledger, `SELECT order_id, sku, user_id, qty FROM ${schema}.orders ORDER BY seq`));
        return r.rows.map((row: { order_id: string; sku: string; user_id: string; qty: number }) => ({ orderId: row.order_id, sku: row.sku, userId: row.user_id, qty: Number(row.qty) }));
      },
      pids: livePids,
      warnings: () => [
        ...processes.flatMap((p, i) => p.unexpectedExits.map((x) => `service process ${i} (pid ${x.pid}) ended without being asked (${x.signal ?? `exit code ${x.code}`}): ${p.stderr().trim().split('\n').slice(-2).join(' | ')}`)),
        ...(health?.notes() ?? []),
      ],
      onAllDown: (listener) => lives.onAllDown(listener),
      loadStarted: (at) => lives.loadStarted(at),
      loadEnded: () => lives.stopWatching(),
      async finish(from, crowdStopped) {
        lives.stopWatching();
        await health?.stop();
        // The last counters, with the load over: what each process served in all.
        await health?.check().catch(() => undefined);
        await Promise.all(processes.map((p) => p.stop(STOP_TIMEOUT_MS).catch(() => null)));
        const allDown = lives.allDown;
        return {
          ...record,
          perProcess: lives.record(from, sharedPort, (i) => health?.troubles(i) ?? [], served),
          ...(allDown ? { allDown: { atMs: allDown.at - from, crowdStopped, detail: allDown.detail } } : {}),
        };
      },
      close,
    };
  } catch (e) {
    const said = await close().catch(() => []);
    for (const line of said) o.log?.(line);
    throw e;
  }
}
