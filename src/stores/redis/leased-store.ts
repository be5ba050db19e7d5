// redis-leased: each process (an "owner") leases units of a SKU from Redis in batches and sells them
// from its own SharedArrayBuffer counter — src/stock/leased.ts's per-thread leases, one level up: the
// SKU's pool in Redis is touched once per batch, not once per sale.
//
// Exact at sell-out: when the pool cannot serve a take, the SKU is marked draining; every live owner
// returns its unsold units at its next heartbeat (every heartbeatMs), and grants shrink to exactly what
// a take needs. "Sold out" is answered only when the pool is short and no other owner reports unsold
// units. Owners that stopped renewing (dead, or cut off from Redis) may hold units Redis cannot count
// (sold after their last report): those are recovered by a rebuild from the ledger, and until then a take
// that would need them answers 'missing' (503), never a false sold-out and never a unit sold twice.
//
// An owner sells from its lease only before its local deadline (taken from the clock BEFORE it sent the
// renewal, minus a margin), which ends before Redis's deadline for it: a cut-off owner stops selling
// before anyone may treat its lease as expired.
//
// Per-user limits and idempotency keys cannot live in the process: a take with a limit or a key costs
// one CLAIM round trip on the user's own tag (sale-wide limit, exact; spreads over a cluster). A take
// with neither costs no round trip at all.
//
// Reservations (leased-reservations.ts): a reserve takes its units as a take does, then moves them from
// this owner's lease to the SKU's held count in Redis (holdReserved), where any process can settle them;
// units of a released or expired reservation go back to the pool, which every owner's next LEASE sees.
import type { HoldRef, StockLoad, StockStore, StoreSnapshot, TakeRequest, TakeResult } from '../stock-store.ts';
import { StoreUnavailableError } from '../../errors.ts';
import { skuKeys, slotMarkKey, userKeys, userMarkKey, type SkuKeys } from './keys.ts';
import type { RedisLink } from './link.ts';
import { CLAIM, LEASE, MARK, RETURN, SETTLE } from './lease-lua.ts';
import { HOLD } from './leased-reserve-lua.ts';
import { LeasedReservations } from './leased-reservations.ts';
import { LOAD } from './lua.ts';
import { PEEK } from './node-lua.ts';
import { SLOTS, slotTag } from './slots.ts';

export interface RedisLeasedOptions {
  prefix: string;
  saleId: number;
  skuCount: number;
  /** This process's name in the leases: unique among the processes selling the sale. */
  owner: string;
  /** How many processes sell the sale (batches shrink to pool / owners near the end). */
  owners: number;
  /** Units per lease while the pool is large. Default 256, as src/stock's leased. */
  leaseSize?: number;
  /** A lease lives this long without renewal. Default 2000 ms. */
  ttlMs?: number;
  /** Renewal, unsold report and draining check. Default 100 ms. */
  heartbeatMs?: number;
  /** Longest a take waits at sell-out for other owners to return units. Default ttlMs + 4 heartbeats. */
  maxWaitMs?: number;
}

interface LeaseAnswer { others: number; expired: number; draining: boolean; pool: number }

const STRIDE = 32; // Int32 words per SKU: one 128-byte line, as src/stock/layout.ts
const UNITS = 0;
const WAIT_STEP_MS = 10;
/** Rebuild writes go in chunks of this many entries (one script call each). */
const LOAD_CHUNK = 500;
/** Slot markers written at once by a rebuild (one MSET on one server; on a cluster, SETs in flight together, pipelined). */
const MARK_CHUNK = 2048;
/** A reserve whose units were taken under an epoch a rebuild just replaced tries again this often. */
const HOLD_TRIES = 3;

export class RedisLeasedStock implements StockStore {
  readonly design = 'redis-leased' as const;
  readonly #link: RedisLink;
  readonly #o: Required<RedisLeasedOptions>;
  readonly #keys: SkuKeys[];
  readonly #loading: string[];
  /** Unsold leased units per SKU. */
  readonly #local: Int32Array;
  /** Stock epoch each SKU's lease belongs to (-1: none yet). */
  readonly #epoch: number[];
  /** Local clock (ms) until which each SKU's lease may be sold from. */
  readonly #deadline: number[];
  /** Epoch of each live hold (those are settled against the user's keys of that epoch). */
  readonly #holds = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  /** The LEASE call in flight per SKU: one at a time, so each reports this owner's unsold units truly (two at once would each report only their own grant). */
  readonly #leasing: Array<Promise<LeaseAnswer | null> | null>;
  /** Whether the SKU was draining at the last LEASE: units released then go straight back to the pool. */
  readonly #draining: boolean[];
  #beating = false;
  /** Reservations on this sale's SKUs: holds in Redis, payable, releasable and expirable by any process. */
  readonly reservations: LeasedReservations;

  constructor(link: RedisLink, options: RedisLeasedOptions) {
    this.#link = link;
    const ttlMs = options.ttlMs ?? 2000;
    const heartbeatMs = options.heartbeatMs ?? 100;
    this.#o = { leaseSize: 256, ttlMs, heartbeatMs, maxWaitMs: ttlMs + 4 * heartbeatMs, ...options };
    if (!(this.#o.heartbeatMs * 4 <= this.#o.ttlMs)) throw new RangeError(`heartbeatMs ${this.#o.heartbeatMs} must be at most a quarter of ttlMs ${this.#o.ttlMs}`);
    // A brace in the prefix would move every key's hash tag, and the slot markers with it (keys.ts).
    if (/[{}]/.test(options.prefix)) throw new RangeError(`redis-leased: the key prefix ${JSON.stringify(options.prefix)} must not contain '{' or '}'`);
    slotTag(0); // the slot markers' tag table, built now (tens of ms) rather than under a buyer's first claim
    this.#keys = Array.from({ length: options.skuCount }, (_, sku) => skuKeys(options.prefix, options.saleId, sku, 'sku'));
    this.#loading = this.#keys.map((k) => k.stock.replace(/:stock$/, ':loading'));
    this.#local = new Int32Array(new SharedArrayBuffer(Math.max(1, options.skuCount) * STRIDE * 4));
    this.#epoch = this.#keys.map(() => -1);
    this.#deadline = this.#keys.map(() => 0);
    this.#leasing = this.#keys.map(() => null);
    this.#draining = this.#keys.map(() => false);
    this.#timer = setInterval(() => void this.#heartbeat(), this.#o.heartbeatMs);
    this.#timer.unref();
    this.reservations = new LeasedReservations(link, this, { prefix: options.prefix, saleId: options.saleId, skuCount: options.skuCount });
  }

  /**
   * A reservation's units: taken as a take's are (this owner's lease, at sell-out the drain; the user's
   * limit under the user's tag — the key is the caller's, under the SKU's tag), then moved from the lease to
   * the SKU's held count with the hold and its expiry entry (HOLD), so any process can settle them.
   * Exact at sell-out as a take is: the units come from the same lease and drain.
   */
  async holdReserved(r: TakeRequest, expiresAt: number): Promise<TakeResult> {
    const k = this.#keysOf(r.sku);
    for (let tries = 1; ; tries++) {
      const t = await this.take({ ...r, key: null });
      if (t.kind !== 'taken') return t;
      let code: string;
      try {
        code = String(await HOLD.run(this.#link, [k.stock, k.leases, k.holds, k.expiry], [this.#o.owner, r.qty, t.epoch, r.holdId, r.limit > 0 ? '1' : '0', r.userId, expiresAt]));
      } catch (e) {
        // Whether HOLD ran is unknown: the units and the allowance stay taken (never sold twice); the
        // next rebuild counts them from the ledger (no order, no reservation row: back on sale).
        this.#holds.delete(r.holdId);
        throw e;
      }
      if (code === 'ok') {
        this.#holds.delete(r.holdId); // Redis's hold now, settled by whoever claims it
        return t;
      }
      await this.release([{ sku: r.sku, qty: r.qty, userId: r.userId, limit: r.limit, key: null, holdId: r.holdId }]);
      if (code === 'missing') return { kind: 'missing' };
      if (code === 'duplicate') throw new RangeError(`hold id ${r.holdId} taken twice: hold ids must be unique (they are order ids)`);
      // 'stale': a rebuild replaced the epoch the lease was taken under (and counted its units): drop the
      // old lease here too, so the next take leases under the new epoch.
      if (this.#epoch[r.sku] === t.epoch) {
        Atomics.store(this.#local, r.sku * STRIDE + UNITS, 0);
        this.#epoch[r.sku] = -1;
      }
      if (tries >= HOLD_TRIES) throw new StoreUnavailableError(`redis-leased: the stock of SKU ${r.sku} was rebuilt ${tries} times while reserving`);
    }
  }

  /** The stock epoch this owner sells a SKU under (-1: none yet). */
  epochOf(sku: number): number {
    return this.#epoch[sku] ?? -1;
  }

  /** The hash of a user's checkout keys under a stock epoch. */
  userKeyHash(userId: string, epoch: number): string {
    return this.#userKeys(userId, epoch)[1];
  }

  /** Allowances of ended reservations back, under the stock epoch their drop saw (a later rebuild recounted them anyway). */
  async giveAllowance(users: ReadonlyArray<[userId: string, qty: number]>, epoch: number): Promise<void> {
    await Promise.all(users.map(([user, qty]) => SETTLE.run(this.#link, this.#userKeys(user, epoch), [qty, '1', '', '', '', 'release'])));
  }

  async take(r: TakeRequest): Promise<TakeResult> {
    this.#keysOf(r.sku);
    let epoch = this.#takeLocal(r.sku, r.qty);
    if (epoch < 0) {
      const slow = await this.#takeSlow(r.sku, r.qty);
      if (slow.kind === 'sold_out' && r.key !== null) {
        // A keyed retry of a purchase that went through must replay it, sold out or not.
        const peek = await this.#claim(r, this.#epoch[r.sku], true);
        if (peek.kind !== 'taken') return peek;
      }
      if (slow.kind !== 'taken') return slow;
      epoch = slow.epoch;
    }
    if (r.limit > 0 || r.key !== null) {
      let claimed: TakeResult;
      try {
        claimed = await this.#claim(r, epoch, false);
      } catch (e) {
        this.#giveBack(r.sku, r.qty, epoch);
        throw e;
      }
      if (claimed.kind !== 'taken') {
        this.#giveBack(r.sku, r.qty, epoch);
        return claimed;
      }
    }
    this.#holds.set(r.holdId, epoch);
    return { kind: 'taken', epoch };
  }

  /** The stock epoch on success, -1 when the lease cannot serve (empty, past its deadline, or none yet). */
  #takeLocal(sku: number, qty: number): number {
    if (this.#epoch[sku] < 0 || Date.now() >= this.#deadline[sku]) return -1;
    const at = sku * STRIDE + UNITS;
    let units = Atomics.load(this.#local, at);
    while (units >= qty) {
      const seen = Atomics.compareExchange(this.#local, at, units, units - qty);
      if (seen === units) return this.#epoch[sku];
      units = seen;
    }
    return -1;
  }

  async #takeSlow(sku: number, qty: number): Promise<TakeResult> {
    const until = Date.now() + this.#o.maxWaitMs;
    for (;;) {
      const have = Math.max(0, Atomics.load(this.#local, sku * STRIDE + UNITS));
      const lease = await this.#lease(sku, Math.max(0, qty - have));
      if (lease === null) return { kind: 'missing' };
      const epoch = this.#takeLocal(sku, qty);
      if (epoch >= 0) return { kind: 'taken', epoch };
      // Units are left in the pool: what this owner was granted went to concurrent takes (waiters on one
      // LEASE all see its grant) — lease again rather than answer sold out with units left.
      if (lease.pool > 0 && Date.now() < until) continue;
      if (lease.others === 0) return lease.expired > 0 ? { kind: 'missing' } : { kind: 'sold_out' };
      // Other owners still report unsold units: they return them at their next heartbeat.
      if (Date.now() >= until) throw new StoreUnavailableError(`redis-leased: other processes kept ${lease.others} units of SKU ${sku} past ${this.#o.maxWaitMs} ms of draining`);
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
  }

  /**
   * One LEASE call at a time per SKU: a caller arriving while one is in flight waits for it (and then
   * tries its own lease again) instead of sending a second.
   */
  async #lease(sku: number, need: number): Promise<LeaseAnswer | null> {
    for (;;) {
      const inFlight = this.#leasing[sku];
      if (inFlight === null) break;
      const answer = await inFlight;
      if (need === 0 || answer === null) return answer;
      const have = Math.max(0, Atomics.load(this.#local, sku * STRIDE + UNITS));
      if (have >= need) return answer;
      need -= have;
    }
    const call = this.#leaseOnce(sku, need).finally(() => (this.#leasing[sku] = null));
    this.#leasing[sku] = call;
    return call;
  }

  /** The LEASE script: renews, reports, takes a batch; adopts a new epoch (dropping the old lease). null: the SKU is missing. */
  async #leaseOnce(sku: number, need: number): Promise<LeaseAnswer | null> {
    const at = sku * STRIDE + UNITS;
    const sentAt = Date.now();
    const unsold = Math.max(0, Atomics.load(this.#local, at));
    const reply = (await LEASE.run(this.#link, this.#leaseKeys(sku), [this.#o.owner, need, this.#o.leaseSize, this.#o.owners, this.#o.ttlMs, unsold])) as unknown[]; // a Lua script answers any RESP value: checked just below
    if (!Array.isArray(reply)) throw new StoreUnavailableError(`Redis lease script answered ${JSON.stringify(reply).slice(0, 80)}`);
    if (reply[0] === 'missing') {
      Atomics.store(this.#local, at, 0);
      this.#epoch[sku] = -1;
      return null;
    }
    const [, granted, epoch, pool, others, draining, expired] = reply.map(Number);
    if (epoch !== this.#epoch[sku]) {
      // A rebuild: units leased under the old epoch are not on sale any more (the rebuild counted them).
      Atomics.store(this.#local, at, 0);
      this.#epoch[sku] = epoch;
    }
    if (granted > 0) Atomics.add(this.#local, at, granted);
    this.#deadline[sku] = sentAt + this.#o.ttlMs - Math.max(this.#o.heartbeatMs, this.#o.ttlMs / 4);
    this.#draining[sku] = draining === 1;
    return { others, expired, draining: draining === 1, pool };
  }

  async #claim(r: TakeRequest, epoch: number, peek: boolean): Promise<TakeResult> {
    const keys = [...this.#userKeys(r.userId, epoch), userMarkKey(this.#o.prefix, this.#o.saleId, r.userId)];
    const reply = (await CLAIM.run(this.#link, keys, [r.qty, r.limit, r.key ?? '', r.key === null ? '' : String(r.fingerprint), r.holdId, peek ? '1' : '0', epoch])) as unknown[]; // the claim script answers a flat array
    const [code, value] = reply.map(String);
    if (code === 'ok') return { kind: 'taken', epoch };
    // The user's slot lost its marker: its master came back empty, this user's count and keys with it.
    if (code === 'missing') return { kind: 'missing' };
    if (code === 'none') return { kind: 'sold_out' };
    if (code === 'limit') return { kind: 'limit' };
    if (code === 'mismatch') return { kind: 'mismatch' };
    if (code === 'replay') {
      const bar = value.indexOf('|');
      const answer = value.slice(bar + 1);
      return { kind: 'replay', holdId: value.slice(0, bar), answer: answer === '' ? null : answer };
    }
    throw new StoreUnavailableError(`Redis claim script answered ${JSON.stringify(reply).slice(0, 80)}`);
  }

  /**
   * Units back into this owner's lease, unless a rebuild has since counted them. While the SKU drains,
   * they go on to the pool at once: others may be deciding "sold out" from this owner's last report.
   */
  #giveBack(sku: number, qty: number, epoch: number): void {
    if (epoch !== this.#epoch[sku]) return;
    Atomics.add(this.#local, sku * STRIDE + UNITS, qty);
    if (this.#draining[sku]) void this.#returnUnsold(sku).catch(() => {});
  }

  async confirm(holds: ReadonlyArray<HoldRef & { answer: string }>): Promise<void> {
    await Promise.all(
      holds.map((h) => {
        const epoch = this.#holds.get(h.holdId);
        this.#holds.delete(h.holdId);
        if (epoch === undefined || h.key === null) return undefined;
        return SETTLE.run(this.#link, this.#userKeys(h.userId, epoch), [h.qty, h.limit > 0 ? '1' : '0', h.key, h.holdId, h.answer, 'confirm']);
      }),
    );
  }

  async release(holds: readonly HoldRef[]): Promise<void> {
    await Promise.all(
      holds.map((h) => {
        const epoch = this.#holds.get(h.holdId);
        if (epoch === undefined) return undefined; // released already, or never taken here
        this.#holds.delete(h.holdId);
        this.#giveBack(h.sku, h.qty, epoch);
        if (h.limit === 0 && h.key === null) return undefined;
        return SETTLE.run(this.#link, this.#userKeys(h.userId, epoch), [h.qty, h.limit > 0 ? '1' : '0', h.key ?? '', h.holdId, '', 'release']);
      }),
    );
  }

  /** available: the pool plus every owner's unsold units as last reported (this owner's as of now); sold: the ledger's count at the last rebuild plus units that left leases sold since, as far as Redis knows. */
  async snapshot(sku: number): Promise<StoreSnapshot | null> {
    const keys = this.#keysOf(sku);
    // Through the node fence (node-lua.ts PEEK): a stale replica's stock reads as missing, not as stock.
    const stock = (await PEEK.run(this.#link, [keys.stock], ['initial', 'avail', 'leased', 'epoch', 'sold', 'held'])) as Array<string | null> | null; // PEEK answers HMGET's array of strings or nulls, or nil
    if (!Array.isArray(stock) || stock[1] === null || stock[1] === undefined) return null;
    // 'sold': what the ledger counted at the last rebuild (LOAD) plus paid reservations; 'leased': units
    // leased since, less those moved to reservations ('held').
    const [initial, pool, leased, epoch, rebuiltSold, held] = stock.map(Number);
    const fields = (await this.#link.call(['HGETALL', keys.leases])) as string[] | Record<string, string>; // HGETALL answers a flat array (RESP2) or a map (RESP3)
    const pairs = Array.isArray(fields) ? fields : Object.entries(fields).flat();
    let unsold = 0;
    for (let i = 0; i < pairs.length; i += 2) {
      if (!pairs[i].endsWith(':unsold')) continue;
      unsold += pairs[i] === `${this.#o.owner}:unsold` ? Math.max(0, Atomics.load(this.#local, sku * STRIDE + UNITS)) : Number(pairs[i + 1]);
    }
    return { initial, available: pool + unsold, held: Number.isFinite(held) ? held : 0, sold: (Number.isFinite(rebuiltSold) ? rebuiltSold : 0) + leased - unsold, epoch };
  }

  /**
   * Rebuild: pool = initial − sold − held, no leases; users' counts and checkouts' keys under the new
   * epoch's names; open reservations as holds with their expiry, and keys of reserves and pays, under the SKU's tag.
   * First (once every SKU is loading, before any user's data) the new epoch in every slot's marker: a
   * master that loses its data after that loses its markers too, and its users' claims answer 'missing'
   * once the stock is back — a rebuild cut short or undone by a restart is noticed again.
   */
  async load(state: StockLoad): Promise<boolean> {
    const { epoch } = state;
    const all = (sku: number) => [this.#keys[sku].stock, this.#keys[sku].users, this.#keys[sku].keys, this.#keys[sku].holds, this.#keys[sku].leases, this.#keys[sku].deadlines, this.#loading[sku], this.#keys[sku].expiry];
    for (let sku = 0; sku < this.#keys.length; sku++) {
      if ((await LOAD.run(this.#link, all(sku), ['begin', epoch, '1'])) !== 1) return false;
    }
    await this.#mark(epoch);
    // Sale-wide per user (redis-leased holds the limit over all SKUs).
    const units = new Map<string, number>();
    for (const [, user, n] of state.users) units.set(user, (units.get(user) ?? 0) + n);
    for (const [user, n] of units) await this.#link.call(['SET', this.#userKeys(user, epoch)[0], n]);
    const skuKeyPairs: string[][] = this.#keys.map(() => []);
    for (const k of state.keys) {
      const record = `${k.fingerprint ?? 'unverifiable'}|${k.orderId}|${k.answer}`;
      // A reserve's key and a pay's live under the SKU's tag (a pay names no user); a checkout's and a pay's under the user's.
      if (k.of !== 'checkout') skuKeyPairs[k.sku].push(k.key, record);
      if (k.of !== 'reserve') await this.#link.call(['HSET', this.#userKeys(k.userId, epoch)[1], k.key, record]);
    }
    for (let sku = 0; sku < this.#keys.length; sku++) {
      const pairs = skuKeyPairs[sku];
      for (let i = 0; i < pairs.length; i += LOAD_CHUNK * 2) {
        if ((await LOAD.run(this.#link, all(sku), ['put', epoch, 'keys', ...pairs.slice(i, i + LOAD_CHUNK * 2)])) !== 1) return false;
      }
      const mine = (state.holds ?? []).filter((h) => h.sku === sku);
      for (let i = 0; i < mine.length; i += LOAD_CHUNK) {
        const triples = mine.slice(i, i + LOAD_CHUNK).flatMap((h) => [h.holdId, `${h.qty}|${h.limited ? '1' : '0'}|0|${h.userId}`, String(h.expiresAt)]);
        if ((await LOAD.run(this.#link, all(sku), ['put', epoch, 'holds', ...triples])) !== 1) return false;
      }
    }
    for (let sku = 0; sku < this.#keys.length; sku++) {
      const s = state.skus[sku];
      const pool = s.initial - s.sold - s.held;
      if (pool < 0) throw new RangeError(`SKU ${sku}: ${s.sold} sold and ${s.held} held exceed its stock of ${s.initial}`);
      if ((await LOAD.run(this.#link, all(sku), ['end', epoch, s.initial, pool, s.held, s.sold])) !== 1) return false;
      Atomics.store(this.#local, sku * STRIDE + UNITS, 0);
      this.#epoch[sku] = -1;
    }
    return true;
  }

  /**
   * The sale's marker in every cluster slot (on one server too: 16384 small keys, harmless — one server
   * loses everything at once, and the stock answers 'missing' then). On a cluster a command's keys must
   * share a slot: one MARK script per slot, pipelined, writing `epoch|node id` (the node it ran on, so a
   * replica promoted since is noticed by CLAIM); on one server, MSETs of the epoch, a chunk each. A slow
   * rebuild that lost its lock may write an older epoch over a newer one: claims then answer 'missing'
   * and one more rebuild runs (never a wrong answer).
   */
  async #mark(epoch: number): Promise<void> {
    const key = (slot: number) => slotMarkKey(this.#o.prefix, this.#o.saleId, slot);
    for (let from = 0; from < SLOTS; from += MARK_CHUNK) {
      const slots = Array.from({ length: Math.min(SLOTS, from + MARK_CHUNK) - from }, (_, i) => from + i);
      if (this.#link.masters === undefined) await this.#link.call(['MSET', ...slots.flatMap((slot) => [key(slot), epoch])]);
      else await Promise.all(slots.map((slot) => MARK.run(this.#link, [key(slot)], [epoch])));
    }
  }

  /** Returns every unsold unit to the pool and stops the heartbeat. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.allSettled(this.#keys.map((_, sku) => this.#returnUnsold(sku, true)));
    await this.#link.close();
  }

  /** Gives this owner's unsold units of a SKU back to the pool (draining, closing). */
  async #returnUnsold(sku: number, leaving = false): Promise<void> {
    const units = Math.max(0, Atomics.exchange(this.#local, sku * STRIDE + UNITS, 0));
    if (this.#epoch[sku] < 0 || (units === 0 && !leaving)) return;
    await RETURN.run(this.#link, this.#leaseKeys(sku), [this.#o.owner, units, this.#epoch[sku], leaving ? '1' : '0']);
  }

  async #heartbeat(): Promise<void> {
    if (this.#beating) return;
    this.#beating = true;
    try {
      for (let sku = 0; sku < this.#keys.length; sku++) {
        if (this.#epoch[sku] < 0) continue; // never leased: nothing to renew or report
        const lease = await this.#lease(sku, 0);
        if (lease?.draining) await this.#returnUnsold(sku);
      }
    } catch {
      // Redis unreachable: the lease runs out locally (takes go to the slow path, which reports the error).
    } finally {
      this.#beating = false;
    }
  }

  #leaseKeys(sku: number): string[] {
    const k = this.#keys[sku];
    return [k.stock, k.leases, k.deadlines];
  }

  #userKeys(userId: string, epoch: number): string[] {
    const k = userKeys(this.#o.prefix, this.#o.saleId, userId, epoch);
    return [k.units, k.keys];
  }

  #keysOf(sku: number): SkuKeys {
    const keys = this.#keys[sku];
    if (keys === undefined) throw new RangeError(`SKU index ${sku} is not in [0, ${this.#keys.length})`);
    return keys;
  }
}
