// `serve --stock-store redis://… --ledger postgres://…`: the checkout service as one of any number of
// processes sharing one sale — stock, per-user limits and idempotency keys in Redis, orders in
// PostgreSQL. Start-up runs under a PostgreSQL advisory lock (one start at a time per ledger schema):
// it picks the sale (continue the ledger's latest one, or a new one — never silently replace a sale with
// orders), checks what Redis holds for it against the ledger (stock epoch and initial stock: a store
// another sale wrote is refused, a stale or missing one rebuilt), then starts the HTTP threads.
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { messageOf, SaleConflictError, StoreUnavailableError, UsageError } from '../errors.ts';
import { PgLedger } from '../stores/postgres/ledger.ts';
import { checkSchemaName } from '../stores/postgres/schema.ts';
import { rebuildStock } from '../stores/rebuild.ts';
import { STOCK_STORE_DESIGNS, type StockStoreDesign } from '../stores/stock-store.ts';
import { parsePostgresUrl, parseRedisUrl, redactUrl } from '../stores/url.ts';
import { chooseSaleStart } from './continuation.ts';
import { claimPort, guardPort } from './port-guard.ts';
import { parseSale, type SaleDefinition } from './sale.ts';
import { defaultLog, type ServiceLog } from './log.ts';
import { describeRebuild, openStoreLinks, type StoreConfig, type StoreLinks } from './store-links.ts';
import type { FromStoreThread, StoreThreadData, ToStoreThread } from './store-thread.ts';
import { createRequestCounters, ROUTE, ROUTES, routeTotals } from './prometheus.ts';
import { createStoreStats, storeErrorTotals, type StoreThreadMetrics } from './store-metrics.ts';
import { createCommitStats } from '../ledger/commit-stats.ts';
import { FAULTS } from './index.ts';
import { describeLapsed, PeerWatch, peersKey, reapLapsedPeers } from './peer-watch.ts';
import type { ProcessHealth, ProcessServed } from './health-messages.ts';

export { hasPostgresScheme, hasRedisScheme, redactUrl } from '../stores/url.ts';
export { STOCK_STORE_DESIGNS, type StockStoreDesign } from '../stores/stock-store.ts';

const ENTRY = new URL('./store-thread.ts', import.meta.url);
/** A thread that dies this often within a minute is left down rather than restarted in a loop (as supervisor.ts). */
const MAX_RESTARTS_PER_MINUTE = 5;

export interface StoreServiceOptions {
  sale: SaleDefinition;
  redisUrl: string;
  ledgerUrl: string;
  /** Ledger schema, default "flashsale". */
  schema?: string;
  /** Redis key prefix, default "flashsale:<schema>" (so a schema of its own isolates the keys too). */
  prefix?: string;
  /**
   * Listen on `port` beside another service on the same stores that owns it (reusePort: the kernel spreads
   * connections over every process on the port). Safe only because the stock is shared: the in-process
   * service refuses a second service on its port (see port-guard.ts).
   */
  joinPort?: boolean;
  /** How processes share the Redis stock (default redis-lua); every process of a sale must use the same. */
  strategy?: StockStoreDesign;
  /** Rebuild the stock from the ledger at start even when Redis holds it. */
  rebuildStock?: boolean;
  /**
   * The peers' heartbeat (peer-watch.ts): on by default, with its TTL and renewal; false turns it off
   * (this process then neither renews nor judges).
   */
  peerWatch?: false | { ttlMs?: number; renewMs?: number };
  newSale?: boolean;
  port?: number;
  host?: string;
  threads?: number;
  adminToken?: string;
  maxInFlightPerThread?: number;
  requestTimeoutMs?: number;
  maxConnectionsPerThread?: number;
  shutdownTimeoutMs?: number;
  seed?: number;
  log?: ServiceLog;
}

export interface RunningStoreService {
  url: string;
  port: number;
  threads: number;
  saleId: number;
  close(): Promise<void>;
  /** This process's own health (health-messages.ts): its threads serving now, its peers' heartbeat. */
  health(): ProcessHealth;
  /** Fault injection for tests only, as the in-process service's (src/service/index.ts FAULTS): ends an HTTP thread the way a crash does. */
  [FAULTS]: { crash(thread: 'http' | 'ledger', index?: number): Promise<void> };
}

export function storeConfig(o: Pick<StoreServiceOptions, 'redisUrl' | 'ledgerUrl' | 'schema' | 'prefix' | 'strategy'>): StoreConfig {
  parseRedisUrl(o.redisUrl, '--stock-store');
  parsePostgresUrl(o.ledgerUrl, '--ledger');
  const schema = o.schema ?? 'flashsale';
  try {
    checkSchemaName(schema);
  } catch (e) {
    throw new UsageError(`--store-schema: ${messageOf(e)}`);
  }
  const prefix = o.prefix ?? `flashsale:${schema}`;
  if (prefix === '' || /[{}\s]/.test(prefix)) throw new UsageError(`--store-prefix ${JSON.stringify(prefix)}: must be non-empty, without braces or spaces (braces would change the keys' hash tags)`);
  const strategy = o.strategy ?? 'redis-lua';
  if (!STOCK_STORE_DESIGNS.includes(strategy)) throw new UsageError(`--stock-strategy ${JSON.stringify(strategy)}: expected one of ${STOCK_STORE_DESIGNS.join(', ')}`);
  return { redisUrl: o.redisUrl, ledgerUrl: o.ledgerUrl, schema, prefix, strategy };
}

/** Picks the sale and makes Redis hold it, under the start lock. Returns the sale id. */
async function prepare(config: StoreConfig, sale: SaleDefinition, o: StoreServiceOptions, log: ServiceLog): Promise<number> {
  const ledger = await PgLedger.open(config.ledgerUrl, { schema: config.schema });
  const lock = new pg.Client({ connectionString: config.ledgerUrl, connectionTimeoutMillis: 5000 });
  lock.on('error', () => {});
  try {
    try {
      await lock.connect();
      await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`flashsale start ${config.schema}`]);
    } catch (e) {
      throw new StoreUnavailableError(`cannot take the start lock on the ledger at ${redactUrl(config.ledgerUrl)}: ${messageOf(e)}`, undefined, { cause: e });
    }
    const latest = await ledger.latestSale();
    const recovery = latest === null ? null : await ledger.recover(latest.id);
    const where = `${redactUrl(config.ledgerUrl)} schema ${config.schema}`;
    const start = chooseSaleStart(latest && recovery && { ...latest, recovery: { ...recovery, keys: [] } }, sale, o.newSale === true, where);
    const saleId = start.kind === 'continue' ? start.saleId : await ledger.newSale(JSON.stringify(sale));
    log('info', start.kind === 'continue' ? start.log : start.log(saleId));
    const links = await openStoreLinks(config, saleId, sale, log);
    try {
      // One strategy per sale: a redis-lua take and a redis-leased lease on one pool would each count it their own way.
      const mark = `${config.prefix}:s${saleId}:strategy`;
      await links.link.call(['SET', mark, config.strategy, 'NX']);
      const used = await links.link.call(['GET', mark]);
      if (used !== config.strategy) {
        throw new SaleConflictError(`sale ${saleId} under ${config.prefix} is sold with --stock-strategy ${String(used)} by other processes: every process of a sale must use the same strategy (this one asked for ${config.strategy}; once every process is stopped, deleting the key ${mark} lets the sale change strategy)`);
      }
      const epoch = await ledger.stockEpoch(saleId);
      let why: string | null = o.rebuildStock === true ? '--rebuild-stock' : null;
      for (let sku = 0; sku < sale.skus.length && why === null; sku++) {
        const snap = await links.store.snapshot(sku);
        if (snap === null) why = `Redis holds no stock for sale ${saleId} under ${config.prefix}`;
        else if (snap.initial !== sale.skus[sku].stock || snap.epoch > epoch) {
          throw new SaleConflictError(
            `Redis (${redactUrl(config.redisUrl)}, prefix ${config.prefix}) holds sale ${saleId} SKU "${sale.skus[sku].id}" with stock ${snap.initial} at stock epoch ${snap.epoch}, ` +
              `but the ledger (${where}) has stock ${sale.skus[sku].stock} at epoch ${epoch}: another ledger's sale shares this prefix. ` +
              'Give each ledger its own --store-prefix (or --store-schema), or clear those keys.',
          );
        } else if (snap.epoch < epoch) why = `Redis holds stock epoch ${snap.epoch}, the ledger ${epoch} (a rebuild did not finish)`;
      }
      if (why !== null) {
        log('warn', `rebuilding the stock from the ledger: ${why}`);
        // Peers past their heartbeat now are covered by this count (see peer-watch.ts).
        const reaped = await reapLapsedPeers(links.link, peersKey(config.prefix, saleId)).catch(() => []);
        const report = describeRebuild(await rebuildStock(ledger, links.store, saleId, sale));
        log('warn', reaped.length > 0 ? `peer ${describeLapsed(reaped)} lapsed: stock rebuilt from the ledger, its uncommitted holds back on sale (${report})` : report);
      }
    } finally {
      await links.close();
    }
    return saleId;
  } finally {
    await lock.query('SELECT pg_advisory_unlock_all()').catch(() => {});
    await lock.end().catch(() => {});
    await ledger.close();
  }
}

export async function startStoreService(options: StoreServiceOptions): Promise<RunningStoreService> {
  const sale = parseSale(options.sale);
  const config = storeConfig(options);
  const log = options.log ?? defaultLog;
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const threads = options.threads ?? 1;
  const urlOf = (p: number) => `http://${host.includes(':') ? `[${host}]` : host}:${p}`;
  if (options.joinPort === true && port === 0) throw new UsageError('--join-port needs the --port of the service to join (not 0)');
  // --join-port shares the first process's port on purpose: that one holds the claim.
  let guard = options.joinPort === true ? null : await claimPort(host, port, urlOf(port));
  let saleId: number;
  try {
    saleId = await prepare(config, sale, options, log);
  } catch (e) {
    guard?.release();
    throw e;
  }
  const workers: Array<Worker | null> = [];
  /** Threads listening now (health): a restarted one counts once it listens again. */
  const serving: boolean[] = Array.from({ length: threads }, () => false);
  const crashes: number[][] = Array.from({ length: threads }, () => []);
  let closing = false;
  // /metrics: every thread's request counters, store round trips and commits, summed by whichever thread is scraped.
  const metrics: StoreThreadMetrics = { requests: createRequestCounters(threads), stores: createStoreStats(threads), commits: Array.from({ length: threads }, () => createCommitStats()), threads };
  const spawn = (threadIndex: number, threadPort: number, restarted = false): Promise<number> => {
    const data: StoreThreadData = {
      threadIndex,
      host,
      port: threadPort,
      config,
      saleId,
      sale,
      adminToken: options.adminToken,
      maxInFlight: options.maxInFlightPerThread ?? 2048,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      maxConnections: options.maxConnectionsPerThread ?? 10_000,
      seed: options.seed ?? 1,
      metrics,
      restarted,
    };
    const worker = new Worker(ENTRY, { workerData: data });
    workers[threadIndex] = worker;
    let listening = false;
    return new Promise((resolve, reject) => {
      worker.on('message', (m: FromStoreThread) => {
        if (m.type === 'listening') {
          listening = true;
          serving[threadIndex] = true;
          resolve(m.port);
        } else if (m.type === 'error') reject(new StoreUnavailableError(`HTTP thread ${threadIndex}: ${m.message}`));
        else if (m.type === 'log') log(m.level, m.message);
      });
      worker.on('error', (e) => reject(e));
      worker.on('exit', (code) => {
        reject(new StoreUnavailableError(`HTTP thread ${threadIndex} exited (code ${code}) before listening`));
        if (workers[threadIndex] === worker) {
          workers[threadIndex] = null;
          serving[threadIndex] = false;
        }
        if (closing || !listening) return;
        restart(threadIndex, code);
      });
    });
  };
  /**
   * A thread died serving: a new one takes its index (its counters go on in the same block). What it held
   * goes back by the normal recovery rules, run by the new thread: one rebuild from the ledger (its checkouts
   * and pays in flight either committed — sold — or did not — back on sale; its keys in flight answer again);
   * its open reservations stay open (every process's sweeper expires them; any process can pay them).
   */
  const restart = (index: number, code: number): void => {
    const now = Date.now();
    const recent = (crashes[index] = crashes[index].filter((t) => now - t < 60_000));
    recent.push(now);
    if (recent.length > MAX_RESTARTS_PER_MINUTE) {
      log('error', `HTTP thread ${index} died ${recent.length} times within a minute: not restarting it; the other threads and processes go on selling`);
      return;
    }
    log('error', `HTTP thread ${index} died (exit code ${code}): restarting it; the stock is rebuilt from the ledger so what it held goes back`);
    spawn(index, boundPort, true).then(
      () => log('warn', `HTTP thread ${index} restarted`),
      (e: unknown) => log('error', `HTTP thread ${index} could not be restarted: ${messageOf(e)}`),
    );
  };
  let boundPort: number;
  try {
    boundPort = await spawn(0, port);
    await Promise.all(Array.from({ length: threads - 1 }, (_, i) => spawn(i + 1, boundPort)));
    if (options.joinPort !== true) guard ??= await guardPort(boundPort, urlOf(boundPort));
  } catch (e) {
    closing = true;
    await Promise.all(workers.map((w) => w?.terminate()));
    guard?.release();
    throw e;
  }
  const owned = guard;
  let watch: { peers: PeerWatch; links: StoreLinks } | null = null;
  try {
    watch = options.peerWatch === false ? null : await watchPeers(config, saleId, sale, boundPort, options.peerWatch ?? {}, log);
  } catch (e) {
    log('warn', `the peers' heartbeat could not start (${messageOf(e)}): this process neither renews nor judges one; a peer killed meanwhile waits for another rebuild`);
  }
  let closed: Promise<void> | null = null;
  const close = async () => {
    closing = true;
    const deadlineMs = options.shutdownTimeoutMs ?? 10_000;
    let forced = false;
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w === null || w.threadId === -1) return resolve();
            w.once('exit', () => resolve());
            w.postMessage({ type: 'close', deadlineMs } satisfies ToStoreThread);
            setTimeout(() => {
              forced = true;
              void w.terminate();
            }, deadlineMs + 5000).unref();
          }),
      ),
    );
    // Leave the peers only when every thread settled what it held; a thread ended by force leaves its
    // holds in doubt, and a peer's rebuild after this heartbeat lapses gives them back.
    await watch?.peers.stop(!forced);
    await watch?.links.close();
    owned?.release();
  };
  const crash = async (thread: 'http' | 'ledger', index = 0): Promise<void> => {
    if (thread !== 'http') throw new UsageError('the service on the stores has no ledger thread (PostgreSQL is the ledger)');
    const w = workers[index];
    if (!w) throw new UsageError(`HTTP thread ${index} is not running`);
    await w.terminate();
  };
  // What it served so far, from the /metrics counters (read here, on a health ask: nothing on the request path).
  const served = (): ProcessServed => {
    let unavailable = 0;
    for (let r = 0; r < ROUTES.length; r++) unavailable += routeTotals(metrics.requests, threads, r).unavailable;
    return {
      checkout: routeTotals(metrics.requests, threads, ROUTE.checkout),
      reserve: routeTotals(metrics.requests, threads, ROUTE.reserve),
      pay: routeTotals(metrics.requests, threads, ROUTE.pay),
      unavailable,
      storeErrors: storeErrorTotals(metrics.stores, threads),
    };
  };
  const health = (): ProcessHealth => ({
    threads,
    threadsUp: serving.filter(Boolean).length,
    heartbeat: watch === null ? 'off' : watch.peers.renewing ? 'ok' : 'failing',
    served: served(),
  });
  return { url: urlOf(boundPort), port: boundPort, threads, saleId, health, close: () => (closed ??= close()), [FAULTS]: { crash } };
}

/**
 * This process's heartbeat among the sale's peers, and the rebuild it runs for a peer it judges lapsed:
 * through connections of the main thread's own (which does little else, so its timer is rarely late).
 */
async function watchPeers(config: StoreConfig, saleId: number, sale: SaleDefinition, port: number, timing: { ttlMs?: number; renewMs?: number }, log: ServiceLog): Promise<{ peers: PeerWatch; links: StoreLinks }> {
  const links = await openStoreLinks(config, saleId, sale, log);
  const peers = new PeerWatch({
    link: links.link,
    key: peersKey(config.prefix, saleId),
    me: `${hostname()}:${port}/pid ${process.pid}/${randomBytes(3).toString('hex')}`,
    ...timing,
    onLapsed: (lapsed) => links.peersLapsed(lapsed),
    log,
  });
  try {
    await peers.start();
  } catch (e) {
    await links.close();
    throw e;
  }
  return { peers, links };
}
