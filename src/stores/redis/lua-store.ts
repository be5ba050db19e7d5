// redis-lua: every take is one script call on the SKU's hash slot — stock, the user's limit and the
// idempotency key checked and taken together. With `batch`, takes for one SKU that arrive while a call
// for it is in flight wait and go together in the next call (group commit, applied to Redis): one round
// trip and one script run for many takes. bench:stores measures whether that pays.
import { StoreUnavailableError } from '../../errors.ts';
import type { HoldRef, StockLoad, StockStore, StoreSnapshot, TakeRequest, TakeResult } from '../stock-store.ts';
import { skuKeys, type KeyLayout, type SkuKeys } from './keys.ts';
import type { RedisLink } from './link.ts';
import { CONFIRM, LOAD, RELEASE, TAKE } from './lua.ts';
import { PEEK } from './node-lua.ts';
import type { RedisScript } from './script.ts';

export interface RedisLuaOptions {
  prefix: string;
  saleId: number;
  skuCount: number;
  layout: KeyLayout;
  /** The sale's per-user limit (0: none); with several SKUs under layout 'sku' it could not be held, so it is refused. */
  perUserLimit: number;
  /** Send takes for one SKU queued behind an in-flight call together. Default false. */
  batch?: boolean;
  /** Most takes in one call (bounds the script's run time, which blocks Redis). Default 128. */
  maxBatch?: number;
}

/** Field/value pairs per LOAD call while rebuilding. */
const LOAD_CHUNK = 1000;

interface Queued { request: TakeRequest; resolve(r: TakeResult): void; reject(e: Error): void }

export class RedisLuaStock implements StockStore {
  readonly design = 'redis-lua' as const;
  readonly #link: RedisLink;
  readonly #keys: SkuKeys[];
  readonly #loading: string[];
  readonly #batch: boolean;
  readonly #maxBatch: number;
  readonly #queues: Queued[][];
  readonly #busy: boolean[];

  constructor(link: RedisLink, options: RedisLuaOptions) {
    if (options.layout === 'sku' && options.skuCount > 1 && options.perUserLimit > 0) {
      throw new RangeError(
        `a per-user limit over ${options.skuCount} SKUs cannot be held with one hash tag per SKU (each SKU's slot sees only its own units): use layout 'sale' (one slot for the sale) or redis-leased (users under their own tag)`,
      );
    }
    this.#link = link;
    this.#keys = Array.from({ length: options.skuCount }, (_, sku) => skuKeys(options.prefix, options.saleId, sku, options.layout));
    this.#loading = this.#keys.map((k) => k.stock.replace(/:stock$/, ':loading'));
    this.#batch = options.batch === true;
    this.#maxBatch = options.maxBatch ?? 128;
    this.#queues = this.#keys.map(() => []);
    this.#busy = this.#keys.map(() => false);
  }

  take(request: TakeRequest): Promise<TakeResult> {
    const keys = this.#keysOf(request.sku);
    if (!this.#batch) return this.#send(keys, [request]).then((r) => r[0]);
    return new Promise((resolve, reject) => {
      this.#queues[request.sku].push({ request, resolve, reject });
      if (!this.#busy[request.sku]) void this.#drain(request.sku);
    });
  }

  async #drain(sku: number): Promise<void> {
    this.#busy[sku] = true;
    const queue = this.#queues[sku];
    while (queue.length > 0) {
      const group = queue.splice(0, this.#maxBatch);
      try {
        const results = await this.#send(this.#keys[sku], group.map((q) => q.request));
        group.forEach((q, i) => q.resolve(results[i]));
      } catch (e) {
        for (const q of group) q.reject(e as Error); // the Redis client rejects with Errors
      }
    }
    this.#busy[sku] = false;
  }

  async #send(keys: SkuKeys, requests: readonly TakeRequest[]): Promise<TakeResult[]> {
    const args: Array<string | number> = [requests.length];
    for (const r of requests) args.push(r.qty, r.userId, r.limit, r.key ?? '', r.key === null ? '' : String(r.fingerprint), r.holdId);
    const reply = await TAKE.run(this.#link, scriptKeys(keys), args);
    if (!Array.isArray(reply) || reply.length !== requests.length * 2) throw unexpected(TAKE, reply);
    const results: TakeResult[] = [];
    for (let i = 0; i < reply.length; i += 2) results.push(decodeTake(String(reply[i]), String(reply[i + 1])));
    return results;
  }

  async confirm(holds: ReadonlyArray<HoldRef & { answer: string }>): Promise<void> {
    await Promise.all(
      this.#bySku(holds).map(([sku, group]) => CONFIRM.run(this.#link, scriptKeys(this.#keys[sku]), [group.length, ...group.flatMap((h) => [h.holdId, h.answer])])),
    );
  }

  async release(holds: readonly HoldRef[]): Promise<void> {
    await Promise.all(this.#bySku(holds).map(([sku, group]) => RELEASE.run(this.#link, scriptKeys(this.#keys[sku]), [group.length, ...group.map((h) => h.holdId)])));
  }

  async snapshot(sku: number): Promise<StoreSnapshot | null> {
    // Through the node fence (node-lua.ts PEEK): a stale replica's stock reads as missing, not as stock.
    const reply = (await PEEK.run(this.#link, [this.#keysOf(sku).stock], ['initial', 'avail', 'held', 'sold', 'epoch'])) as Array<string | null> | null; // PEEK answers HMGET's array of strings or nulls, or nil
    if (!Array.isArray(reply) || reply[1] === null || reply[1] === undefined) return null;
    const [initial, available, held, sold, epoch] = reply.map(Number);
    return { initial, available, held, sold, epoch };
  }

  /** Rebuild: every SKU's gate closes (takes answer 'missing'), users and keys go in, then each gate opens. */
  async load(state: StockLoad): Promise<boolean> {
    const { epoch } = state;
    const all = (sku: number) => [...keyList(this.#keys[sku]), this.#loading[sku], this.#keys[sku].expiry];
    // Every begin wipes the shared users/keys hashes (layout 'sale'); all begins happen before any put.
    for (let sku = 0; sku < this.#keys.length; sku++) {
      if ((await LOAD.run(this.#link, all(sku), ['begin', epoch, '1'])) !== 1) return false;
    }
    const put = async (sku: number, target: 'users' | 'keys', pairs: string[]) => {
      for (let i = 0; i < pairs.length; i += LOAD_CHUNK * 2) {
        if ((await LOAD.run(this.#link, all(sku), ['put', epoch, target, ...pairs.slice(i, i + LOAD_CHUNK * 2)])) !== 1) return false;
      }
      return true;
    };
    for (let sku = 0; sku < this.#keys.length; sku++) {
      // Under layout 'sale' users and keys are one hash for every SKU: sums over SKUs go in with SKU 0.
      const mine = (s: number) => (this.#keys[s].users === this.#keys[sku].users ? true : s === sku);
      const owner = this.#keys.findIndex((k) => k.users === this.#keys[sku].users);
      if (owner !== sku) continue;
      const units = new Map<string, number>();
      for (const [s, user, n] of state.users) if (mine(s)) units.set(user, (units.get(user) ?? 0) + n);
      const userPairs = [...units].flatMap(([user, n]) => [user, String(n)]);
      const keyPairs = state.keys.filter((k) => mine(k.sku)).flatMap((k) => [k.key, `${k.fingerprint ?? 'unverifiable'}|${k.orderId}|${k.answer}`]);
      if (!(await put(sku, 'users', userPairs)) || !(await put(sku, 'keys', keyPairs))) return false;
    }
    // Open reservations: their holds and expiry entries, so they stay payable and still expire.
    for (let sku = 0; sku < this.#keys.length; sku++) {
      const mine = (state.holds ?? []).filter((h) => h.sku === sku);
      for (let i = 0; i < mine.length; i += LOAD_CHUNK) {
        const triples = mine.slice(i, i + LOAD_CHUNK).flatMap((h) => [h.holdId, `${h.qty}|${h.limited ? '1' : '0'}|0|${h.userId}`, String(h.expiresAt)]);
        if ((await LOAD.run(this.#link, all(sku), ['put', epoch, 'holds', ...triples])) !== 1) return false;
      }
    }
    for (let sku = 0; sku < this.#keys.length; sku++) {
      const s = state.skus[sku];
      const avail = s.initial - s.sold - s.held;
      if (avail < 0) throw new RangeError(`SKU ${sku}: ${s.sold} sold and ${s.held} held exceed its stock of ${s.initial}`);
      if ((await LOAD.run(this.#link, all(sku), ['end', epoch, s.initial, avail, s.held, s.sold])) !== 1) return false;
    }
    return true;
  }

  close(): Promise<void> {
    return this.#link.close();
  }

  #keysOf(sku: number): SkuKeys {
    const keys = this.#keys[sku];
    if (keys === undefined) throw new RangeError(`SKU index ${sku} is not in [0, ${this.#keys.length})`);
    return keys;
  }

  #bySku<H extends HoldRef>(holds: readonly H[]): Array<[number, H[]]> {
    const groups = new Map<number, H[]>();
    for (const h of holds) {
      this.#keysOf(h.sku);
      let g = groups.get(h.sku);
      if (g === undefined) groups.set(h.sku, (g = []));
      g.push(h);
    }
    return [...groups];
  }
}

/** The keys a take/confirm/release script touches, in its KEYS order. */
function scriptKeys(k: SkuKeys): string[] {
  return [k.stock, k.users, k.keys, k.holds];
}

/** The keys LOAD touches, without its loading mark. */
function keyList(k: SkuKeys): string[] {
  return [k.stock, k.users, k.keys, k.holds, k.leases, k.deadlines];
}

export function decodeTake(code: string, value: string): TakeResult {
  switch (code) {
    case 'taken':
      return { kind: 'taken', epoch: Number(value) };
    case 'sold_out':
      return { kind: 'sold_out' };
    case 'limit':
      return { kind: 'limit' };
    case 'mismatch':
      return { kind: 'mismatch' };
    case 'missing':
      return { kind: 'missing' };
    case 'replay': {
      const bar = value.indexOf('|');
      const answer = value.slice(bar + 1);
      return { kind: 'replay', holdId: value.slice(0, bar), answer: answer === '' ? null : answer };
    }
    case 'duplicate_hold':
      throw new RangeError(`hold id taken twice: hold ids must be unique (they are order ids)`);
    default:
      throw new StoreUnavailableError(`Redis take script answered an unknown code ${JSON.stringify(code).slice(0, 40)}`);
  }
}

function unexpected(script: RedisScript, reply: unknown): Error {
  return new StoreUnavailableError(`Redis ${script.name} script answered ${JSON.stringify(reply).slice(0, 80)}`);
}
