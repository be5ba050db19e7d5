// One process's (or thread's) connections to the shared stores — the Redis stock and the PostgreSQL
// ledger — and what it does when one fails. The failure table (docs/stores.md "When a store fails"):
//   Redis unreachable          → 503 store_unavailable (the client fails fast, nothing queued)
//   Redis lost the sale        → 503 stock_rebuilding, and one rebuild from the ledger (a lock in Redis
//                                 keeps the other processes from rebuilding too)
//   a commit failed            → 503 ledger_unavailable; the units stay held (the commit may have
//                                 happened: giving them back could sell them twice), new checkouts get 503
//                                 at once, and the stock is rebuilt from the ledger — which counts exactly
//                                 what committed — as soon as PostgreSQL answers again
//   an order of an old epoch   → 503 stock_rebuilt: the stock was rebuilt after its units were taken
import { messageOf } from '../errors.ts';
import { PgLedger } from '../stores/postgres/ledger.ts';
import { connectRedis } from '../stores/redis/link.ts';
import { RedisLuaStock } from '../stores/redis/lua-store.ts';
import { RedisLeasedStock } from '../stores/redis/leased-store.ts';
import { skuKeys } from '../stores/redis/keys.ts';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { RedisReservations, type ReservationHolds } from '../stores/redis/reservations.ts';
import { PgReservations } from '../stores/postgres/reservations.ts';
import { PgGroupCommitter } from '../stores/postgres/group-commit.ts';
import { rebuildStock, type RebuildReport, type SaleStock } from '../stores/rebuild.ts';
import type { StockStore, StockStoreDesign } from '../stores/stock-store.ts';
import type { RedisLink } from '../stores/redis/link.ts';
import type { LogLevel } from './log.ts';
import { observedLink, type StoreStats } from './store-metrics.ts';
import { describeLapsed, peersKey, reapLapsedPeers, type LapsedPeer } from './peer-watch.ts';
import { RebuildWants, type RebuildAttempt, type Want } from './rebuild-wants.ts';
import type { CommitStatsWriter } from '../ledger/commit-stats.ts';

const RETRY_MS = 500;
const LOCK_MS = 15_000;

export interface StoreLinksOptions {
  saleId: number;
  sale: SaleStock;
  link: RedisLink;
  store: StockStore;
  /** Reservations' holds in Redis (the strategy's: redis-leased takes their units from its lease) and their rows in PostgreSQL. */
  reservations: ReservationHolds;
  pgReservations: PgReservations;
  /** Opens a fresh ledger connection: pg's writer does not come back by itself after PostgreSQL went away. */
  openLedger(): Promise<PgLedger>;
  ledger: PgLedger;
  /** Redis key of the rebuild lock (one rebuild at a time over every process). */
  lockKey: string;
  /** Redis key of the peers' heartbeats (peer-watch.ts): a rebuild covers every lapsed one. */
  peersKey?: string;
  /** Every committed batch of orders (/metrics' ledger histograms). */
  onBatch?: (orders: number, seconds: number) => void;
  log(level: LogLevel, message: string): void;
}

/** Where the shared stores are and how this service's keys and tables are named (plain data: it goes to each thread). */
export interface StoreConfig {
  redisUrl: string;
  ledgerUrl: string;
  /** PostgreSQL schema of the ledger's tables. */
  schema: string;
  /** Prefix of every Redis key of this service. */
  prefix: string;
  /** How the processes share the stock in Redis. */
  strategy: StockStoreDesign;
}

/** Connects to both stores for one sale (each HTTP thread has its own connections). */
export async function openStoreLinks(config: StoreConfig, saleId: number, sale: SaleStock & { perUserLimit: number }, log: StoreLinksOptions['log'], stats?: StoreStats, commits?: CommitStatsWriter): Promise<StoreLinks> {
  const openLedger = () => PgLedger.open(config.ledgerUrl, { schema: config.schema, observe: stats?.postgres });
  const ledger = await openLedger();
  let link: RedisLink;
  try {
    link = await connectRedis(config.redisUrl);
  } catch (e) {
    stats?.failed('redis', 'unavailable');
    await ledger.close();
    throw e;
  }
  if (stats) link = observedLink(link, stats);
  // A sale-wide limit over several SKUs is exact only with the whole sale under one hash tag.
  const layout = sale.skus.length > 1 && sale.perUserLimit > 0 ? 'sale' : 'sku';
  let store: StockStore;
  let reservations: ReservationHolds;
  if (config.strategy === 'redis-leased') {
    const leased = new RedisLeasedStock(link, { prefix: config.prefix, saleId, skuCount: sale.skus.length, owner: `${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`, owners: await countOwners(link, config.prefix, saleId) });
    store = leased;
    reservations = leased.reservations;
  } else {
    store = new RedisLuaStock(link, { prefix: config.prefix, saleId, skuCount: sale.skus.length, layout, perUserLimit: sale.perUserLimit, batch: true });
    reservations = new RedisReservations(link, { prefix: config.prefix, saleId, skuCount: sale.skus.length, layout });
  }
  const pgReservations = new PgReservations(config.ledgerUrl, config.schema, stats?.postgres);
  const onBatch = commits === undefined ? undefined : (orders: number, seconds: number) => commits.record(orders, seconds);
  return new StoreLinks({ saleId, sale, link, store, reservations, pgReservations, ledger, openLedger, lockKey: rebuildLockKey(config.prefix, saleId), peersKey: peersKey(config.prefix, saleId), log, onBatch });
}

/**
 * redis-leased shrinks its batches to pool / owners near the end: the owners already renewing leases on the
 * sale's first SKU, plus this one. An estimate (owners come and go); exactness does not depend on it.
 */
async function countOwners(link: RedisLink, prefix: string, saleId: number): Promise<number> {
  const n = Number(await link.call(['HLEN', skuKeys(prefix, saleId, 0, 'sku').deadlines]));
  return Math.max(2, (Number.isFinite(n) ? n : 0) + 1);
}

export function rebuildLockKey(prefix: string, saleId: number): string {
  return `${prefix}:s${saleId}:rebuild-lock`;
}

export class StoreLinks {
  readonly store: StockStore;
  readonly reservations: ReservationHolds;
  readonly pgReservations: PgReservations;
  readonly link: RedisLink;
  #ledger: PgLedger;
  #committer: PgGroupCommitter;
  readonly #o: StoreLinksOptions;
  /** A commit failed: new checkouts get 503 until a rebuild proves the ledger answers again. */
  ledgerDown = false;
  readonly #wants = new RebuildWants();
  #running: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #token = `${process.pid}.${Math.random().toString(36).slice(2)}`;
  /** Rebuilds this process ran (for tests and logs). */
  rebuilds = 0;

  constructor(o: StoreLinksOptions) {
    this.#o = o;
    this.store = o.store;
    this.reservations = o.reservations;
    this.pgReservations = o.pgReservations;
    this.link = o.link;
    this.#ledger = o.ledger;
    this.#committer = new PgGroupCommitter(o.ledger, o.saleId, { onBatch: o.onBatch });
  }

  get ledger(): PgLedger {
    return this.#ledger;
  }

  get committer(): PgGroupCommitter {
    return this.#committer;
  }

  /** True while this process waits to rebuild or is rebuilding. */
  get rebuilding(): boolean {
    return this.#wants.wanted !== null;
  }

  /** A commit failed as a whole. */
  ledgerFailed(why: string): void {
    if (!this.ledgerDown) this.#o.log('warn', `ledger commit failed (${why}): checkouts answer 503 ledger_unavailable until the stock is rebuilt from the ledger`);
    this.ledgerDown = true;
    this.#want('ledger');
  }

  /** Redis answered `missing` for the sale. */
  stockMissing(): void {
    this.#want(this.#wants.wanted ?? 'missing');
  }

  /** This thread replaces one that died: one rebuild from the ledger gives back what the dead one held (see on-stores.ts). */
  rebuildAfterCrash(): void {
    this.#want('crash');
  }

  /**
   * Peers whose heartbeat lapsed (this process judged them): one rebuild from the ledger, begun after they
   * were judged — here, or by another process meanwhile — gives back what they held.
   */
  peersLapsed(peers: readonly LapsedPeer[]): void {
    if (this.#closed) return;
    this.#wants.addLapsed(peers);
    this.#running ??= this.#attempt();
  }

  #want(why: Want): void {
    if (this.#closed) return;
    this.#wants.add(why);
    this.#running ??= this.#attempt();
  }

  async #attempt(): Promise<void> {
    const attempt = this.#wants.begin();
    if (attempt === null) {
      this.#running = null;
      return;
    }
    let done = false;
    try {
      done = await this.#run(attempt);
    } catch (e) {
      this.#o.log('warn', `stock rebuild failed, retrying in ${RETRY_MS} ms: ${messageOf(e)}`);
    }
    this.#running = null;
    if (done) {
      const next = this.#wants.settled(attempt);
      if (next !== 'ledger') this.ledgerDown = false;
      if (next !== null) this.#want(next);
    } else if (!this.#closed && this.#timer === null) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#running ??= this.#attempt();
      }, RETRY_MS);
      this.#timer.unref();
    }
  }

  /** One attempt's work; true when it settled its reason. */
  async #run({ why, peers }: RebuildAttempt): Promise<boolean> {
    const wants = this.#wants;
    if (why === 'ledger') {
      // The old writer may be dead for good: a fresh connection, and a committer on it.
      const fresh = await this.#o.openLedger();
      const old = this.#ledger;
      await this.#committer.drain().catch(() => {});
      this.#ledger = fresh;
      this.#committer = new PgGroupCommitter(fresh, this.#o.saleId, { onBatch: this.#o.onBatch });
      void old.close();
    }
    if (why === 'peer') {
      const baseline = (wants.lapsedBaseline ??= await this.#ledger.stockEpoch(this.#o.saleId));
      const past = this.#o.sale.skus.map(() => baseline);
      const now = await this.#epochs();
      const report = now.every((e) => e > baseline) ? null : await this.#rebuildLocked(false, past, peers);
      if (report === null) this.#o.log('warn', `peer ${describeLapsed(peers)} lapsed: stock rebuilt by another process since (stock epoch ${Math.max(...(await this.#epochs()))})`);
      return report !== false;
    }
    if (why === 'missing' && this.store.design === 'redis-leased') {
      // 'missing' from redis-leased may be a dead owner's expired lease (the stock is still there): only
      // the ledger can count it, so rebuild — unless another process rebuilt since this want began.
      const baseline = (wants.missingBaseline ??= await this.#epochs());
      const now = await this.#epochs();
      if (now.every((e) => e >= 0) && now.some((e, i) => e > baseline[i])) return true;
      return (await this.#rebuildLocked(false, baseline)) !== false;
    }
    return (await this.#rebuildLocked(why === 'missing')) !== false;
  }

  /**
   * The report of the rebuild run here; null: the store holds the sale again without one (another process
   * rebuilt while it held the lock); false: not done (the lock is taken: retry).
   */
  async #rebuildLocked(onlyIfMissing: boolean, unlessPast: number[] | null = null, judged: readonly LapsedPeer[] = []): Promise<RebuildReport | null | false> {
    const got = await this.link.call(['SET', this.#o.lockKey, this.#token, 'NX', 'PX', LOCK_MS]);
    if (got !== 'OK') {
      if (!onlyIfMissing) return false;
      return (await this.#missingSkus()) === 0 ? null : false;
    }
    try {
      if (onlyIfMissing && (await this.#missingSkus()) === 0) return null;
      if (unlessPast !== null) {
        const now = await this.#epochs();
        if (now.every((e) => e >= 0) && now.some((e, i) => e > unlessPast[i])) return null;
      }
      // Peers past their heartbeat now are covered by this count: no second rebuild for them later.
      const reaped = this.#o.peersKey === undefined ? [] : await reapLapsedPeers(this.link, this.#o.peersKey).catch(() => []);
      const report = await rebuildStock(this.#ledger, this.store, this.#o.saleId, this.#o.sale);
      this.rebuilds++;
      const peers = [...judged, ...reaped];
      this.#o.log('warn', peers.length > 0 ? `peer ${describeLapsed(peers)} lapsed: stock rebuilt from the ledger, its uncommitted holds back on sale (${describeRebuild(report)})` : describeRebuild(report));
      return report;
    } finally {
      await this.link.call(['EVAL', "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, this.#o.lockKey, this.#token]).catch(() => {});
    }
  }

  /** Each SKU's stock epoch in Redis (-1: missing). */
  async #epochs(): Promise<number[]> {
    const out: number[] = [];
    for (let sku = 0; sku < this.#o.sale.skus.length; sku++) out.push((await this.store.snapshot(sku))?.epoch ?? -1);
    return out;
  }

  async #missingSkus(): Promise<number> {
    let n = 0;
    for (let sku = 0; sku < this.#o.sale.skus.length; sku++) if ((await this.store.snapshot(sku)) === null) n++;
    return n;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running?.catch(() => {});
    await this.#committer.drain().catch(() => {});
    await this.pgReservations.close();
    await this.store.close().catch(() => {});
    await this.link.close().catch(() => {});
    await this.#ledger.close().catch(() => {});
  }
}

export function describeRebuild(r: RebuildReport): string {
  return `stock_rebuilt: stock epoch ${r.epoch} rebuilt from the ledger (sold ${r.sold.join('/')}, available ${r.available.join('/')})${r.loaded ? '' : '; a newer epoch was already loaded by another process'}`;
}
