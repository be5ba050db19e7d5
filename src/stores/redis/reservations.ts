// Reservations on redis-lua (the scripts: reserve-lua.ts). Holds live beside the checkout's, under the
// same keys and hash tag as the SKU's stock, so reserving costs one script call, and any process can pay,
// release or expire any process's reservation. redis-leased's (leased-reservations.ts) keeps the same
// records under the same keys and differs only in how a reserve takes its units and where allowances live.
import { StoreUnavailableError } from '../../errors.ts';
import type { TakeRequest, TakeResult } from '../stock-store.ts';
import { skuKeys, type KeyLayout, type SkuKeys } from './keys.ts';
import type { RedisLink } from './link.ts';
import { decodeTake } from './lua-store.ts';
import { CLAIM, DROP, KEY_BEGIN, KEY_END, KEY_REMEMBER, RESERVE, SWEEP, UNCLAIM } from './reserve-lua.ts';
import { CONFIRM } from './lua.ts';

export interface ReservedHold { sku: number; holdId: string; qty: number; userId: string; limited: boolean; expiresAt: number }

export type ClaimResult =
  | { kind: 'claimed'; hold: ReservedHold; epoch: number }
  | { kind: 'busy' }
  | { kind: 'gone' }
  | { kind: 'missing' };

export type KeyBegin = { kind: 'run' } | { kind: 'mismatch' } | { kind: 'replay'; holdId: string; answer: string | null };

/** Reservations' holds in Redis, whichever strategy sells the stock (store-reservations.ts uses only this). */
export interface ReservationHolds {
  /**
   * Takes units and the allowance (and, keyed, the key) and holds them until expiresAt. A keyed request
   * answered taken, sold_out or limit leaves its key naming holdId, in flight: the caller settles it with keyEnd.
   */
  reserve(r: TakeRequest, expiresAt: number): Promise<TakeResult>;
  claim(sku: number, holdId: string): Promise<ClaimResult>;
  unclaim(hold: ReservedHold): Promise<void>;
  /** The claimed hold's order is durable: its units become sold. */
  paid(hold: ReservedHold): Promise<void>;
  drop(sku: number, holdIds: readonly string[]): Promise<number>;
  sweep(sku: number, now: number): Promise<number>;
  keyBegin(sku: number, key: string, fingerprint: number, holdId: string): Promise<KeyBegin>;
  keyEnd(sku: number, key: string, holdId: string, answer: string | null): Promise<void>;
  /**
   * A keyed checkout's final refusal (sold out, limit, declined, refused by the ledger), kept where the
   * strategy's checkouts look their keys up, so a retry replays it. `epoch`: the stock epoch the take ran
   * under, when it took units (redis-leased keeps keys per epoch).
   */
  keyRemember(c: { sku: number; userId: string; key: string; fingerprint: number; holdId: string }, answer: string, epoch: number | null): Promise<void>;
}

/** Most reservations one sweep call expires (the script blocks Redis while it runs). */
export const SWEEP_BATCH = 256;
/** Most sweep calls one sweep makes. */
const SWEEP_ROUNDS = 64;

export class RedisReservations implements ReservationHolds {
  readonly #link: RedisLink;
  readonly #keys: SkuKeys[];

  constructor(link: RedisLink, options: { prefix: string; saleId: number; skuCount: number; layout: KeyLayout }) {
    this.#link = link;
    this.#keys = Array.from({ length: options.skuCount }, (_, sku) => skuKeys(options.prefix, options.saleId, sku, options.layout));
  }

  /** Takes units, the allowance and the key as a checkout take does, and holds them until expiresAt. */
  async reserve(r: TakeRequest, expiresAt: number): Promise<TakeResult> {
    const k = this.#of(r.sku);
    const reply = await RESERVE.run(this.#link, [k.stock, k.users, k.keys, k.holds, k.expiry], [r.qty, r.userId, r.limit, r.key ?? '', r.key === null ? '' : String(r.fingerprint), r.holdId, expiresAt]);
    if (!Array.isArray(reply) || reply.length !== 2) throw unexpected('reserve', reply);
    return decodeTake(String(reply[0]), String(reply[1]));
  }

  /** Owns the reservation if it is still open (pay and release start here). */
  async claim(sku: number, holdId: string): Promise<ClaimResult> {
    const k = this.#of(sku);
    const reply = await CLAIM.run(this.#link, [k.stock, k.holds, k.expiry], [holdId]);
    if (!Array.isArray(reply) || reply.length === 0) throw unexpected('claim', reply);
    const code = String(reply[0]);
    if (code === 'busy' || code === 'gone' || code === 'missing') return { kind: code };
    if (code !== 'claimed' || reply.length !== 4) throw unexpected('claim', reply);
    const record = String(reply[1]);
    // qty|limited|0||userId (reservation holds carry no key)
    const a = record.indexOf('|');
    const b = record.indexOf('|', a + 1);
    const c = record.indexOf('|', b + 1);
    const hold: ReservedHold = { sku, holdId, qty: Number(record.slice(0, a)), limited: record.slice(a + 1, b) === '1', userId: record.slice(c + 1), expiresAt: Number(reply[2]) };
    return { kind: 'claimed', hold, epoch: Number(reply[3]) };
  }

  async paid(hold: ReservedHold): Promise<void> {
    const k = this.keysOf(hold.sku);
    await CONFIRM.run(this.#link, [k.stock, k.users, k.keys, k.holds], [1, hold.holdId, '']);
  }

  /** Puts a claimed reservation back in the expiry set. */
  async unclaim(hold: ReservedHold): Promise<void> {
    const k = this.#of(hold.sku);
    await UNCLAIM.run(this.#link, [k.holds, k.expiry], [hold.holdId, hold.expiresAt]);
  }

  /** Ends reservations: units and allowance go back, once (a hold already gone is skipped). Returns how many it ended. */
  async drop(sku: number, holdIds: readonly string[]): Promise<number> {
    const k = this.#of(sku);
    return Number(await DROP.run(this.#link, [k.stock, k.users, k.holds, k.expiry], holdIds));
  }

  /** Expires the reservations of `sku` due by `now`; returns how many. */
  async sweep(sku: number, now: number): Promise<number> {
    let total = 0;
    // Bounded: at most SWEEP_ROUNDS × SWEEP_BATCH per call; the next tick goes on.
    for (let rounds = 0; rounds < SWEEP_ROUNDS; rounds++) {
      const { expired, more } = await this.sweepBatch(sku, now);
      total += expired;
      if (!more) break;
    }
    return total;
  }

  /** One sweep script call: how many reservations it expired, and whether more were due. */
  async sweepBatch(sku: number, now: number): Promise<{ expired: number; more: boolean }> {
    const k = this.#of(sku);
    const reply = await SWEEP.run(this.#link, [k.stock, k.users, k.holds, k.expiry], [now, SWEEP_BATCH]);
    if (!Array.isArray(reply) || reply.length !== 2) throw unexpected('sweep', reply);
    return { expired: Number(reply[0]), more: Number(reply[1]) === 1 };
  }

  /** A keyed request that takes no stock (pay) claims its key under the SKU's tag. */
  async keyBegin(sku: number, key: string, fingerprint: number, holdId: string): Promise<KeyBegin> {
    const reply = await KEY_BEGIN.run(this.#link, [this.#of(sku).keys], [key, String(fingerprint), holdId]);
    if (!Array.isArray(reply) || reply.length !== 2) throw unexpected('key_begin', reply);
    const code = String(reply[0]);
    if (code === 'run' || code === 'mismatch') return { kind: code };
    const value = String(reply[1]);
    const bar = value.indexOf('|');
    const answer = value.slice(bar + 1);
    return { kind: 'replay', holdId: value.slice(0, bar), answer: answer === '' ? null : answer };
  }

  /** redis-lua: checkouts' keys are in the SKU's keys hash (this layout's, the take's). */
  async keyRemember(c: { sku: number; userId: string; key: string; fingerprint: number; holdId: string }, answer: string, _epoch: number | null): Promise<void> {
    await KEY_REMEMBER.run(this.#link, [this.#of(c.sku).keys], [c.key, String(c.fingerprint), c.holdId, answer]);
  }

  /** Stores the key's answer (a retry replays it), or forgets the key (answer null: a retry runs again). */
  async keyEnd(sku: number, key: string, holdId: string, answer: string | null): Promise<void> {
    await KEY_END.run(this.#link, [this.#of(sku).keys], [key, holdId, answer ?? '']);
  }

  /** The keys of a SKU (for redis-leased's reservations, which share the claim and key scripts). */
  keysOf(sku: number): SkuKeys {
    return this.#of(sku);
  }

  #of(sku: number): SkuKeys {
    const k = this.#keys[sku];
    if (k === undefined) throw new RangeError(`SKU index ${sku} is not in [0, ${this.#keys.length})`);
    return k;
  }
}

export function unexpected(script: string, reply: unknown): Error {
  return new StoreUnavailableError(`Redis ${script} script answered ${JSON.stringify(reply).slice(0, 80)}`);
}
