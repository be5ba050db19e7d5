// Reservations on redis-leased. The hold is Redis's, as on redis-lua — the same record in the SKU's holds
// hash and the same entry in its expiry set, so claiming (ZREM: one winner among pays, releases and
// sweepers on any process), unclaiming, paying (held → sold) and keys of reserves and pays are
// RedisReservations' own. What differs:
//   reserve  the key first (KEY_BEGIN, under the SKU's tag: a pay names no user, and a reserve's key must
//            outlive its hold), then the units from this process's lease and the allowance under the
//            user's tag (RedisLeasedStock.take: exact at sell-out through the same drain as a checkout),
//            then HOLD moves them from the lease to the SKU's held count (RedisLeasedStock.holdReserved)
//   release, expiry  units back to the SKU's pool, where every owner's next LEASE finds them; the user's
//            allowance, under another hash tag, in a second call. A process dying between the two leaves
//            the allowance taken (the user may be refused 429, never sold over the limit) until a rebuild.
import type { TakeRequest, TakeResult } from '../stock-store.ts';
import type { RedisLink } from './link.ts';
import { DROP, SWEEP } from './leased-reserve-lua.ts';
import { KEY_REMEMBER } from './reserve-lua.ts';
import { RedisReservations, SWEEP_BATCH, unexpected } from './reservations.ts';

/** What reservations need of the leased store (RedisLeasedStock), named here so the two files do not import each other. */
export interface LeasedHolder {
  holdReserved(r: TakeRequest, expiresAt: number): Promise<TakeResult>;
  epochOf(sku: number): number;
  userKeyHash(userId: string, epoch: number): string;
  giveAllowance(users: ReadonlyArray<[userId: string, qty: number]>, epoch: number): Promise<void>;
}

export class LeasedReservations extends RedisReservations {
  readonly #link: RedisLink;
  readonly #store: LeasedHolder;

  constructor(link: RedisLink, store: LeasedHolder, options: { prefix: string; saleId: number; skuCount: number }) {
    super(link, { ...options, layout: 'sku' }); // redis-leased's SKU keys are the 'sku' layout's
    this.#link = link;
    this.#store = store;
  }

  override async reserve(r: TakeRequest, expiresAt: number): Promise<TakeResult> {
    if (r.key !== null) {
      const b = await this.keyBegin(r.sku, r.key, r.fingerprint, r.holdId);
      if (b.kind === 'mismatch') return { kind: 'mismatch' };
      if (b.kind === 'replay') return { kind: 'replay', holdId: b.holdId, answer: b.answer };
    }
    try {
      return await this.#store.holdReserved(r, expiresAt);
    } catch (e) {
      if (r.key !== null) await this.keyEnd(r.sku, r.key, r.holdId, null).catch(() => {});
      throw e;
    }
  }

  override async drop(sku: number, holdIds: readonly string[]): Promise<number> {
    if (holdIds.length === 0) return 0;
    const k = this.keysOf(sku);
    const reply = await DROP.run(this.#link, [k.stock, k.holds, k.expiry], holdIds);
    if (!Array.isArray(reply) || reply.length < 2) throw unexpected('leased_drop', reply);
    await this.#allowances(reply, 2);
    return Number(reply[0]);
  }

  override async sweepBatch(sku: number, now: number): Promise<{ expired: number; more: boolean }> {
    const k = this.keysOf(sku);
    const reply = await SWEEP.run(this.#link, [k.stock, k.holds, k.expiry], [now, SWEEP_BATCH]);
    if (!Array.isArray(reply) || reply.length < 3) throw unexpected('leased_sweep', reply);
    await this.#allowances(reply, 3);
    return { expired: Number(reply[0]), more: Number(reply[1]) === 1 };
  }

  /** redis-leased: checkouts' keys are under the user's tag, per stock epoch. */
  override async keyRemember(c: { sku: number; userId: string; key: string; fingerprint: number; holdId: string }, answer: string, epoch: number | null): Promise<void> {
    const e = epoch ?? this.#store.epochOf(c.sku);
    if (e < 0) return; // no lease yet: nothing to key it under (a retry runs again)
    await KEY_REMEMBER.run(this.#link, [this.#store.userKeyHash(c.userId, e)], [c.key, String(c.fingerprint), c.holdId, answer]);
  }

  /** reply[at - 1] is the stock epoch, then user, qty pairs: their allowances go back. */
  async #allowances(reply: unknown[], at: number): Promise<void> {
    const users: Array<[string, number]> = [];
    for (let i = at; i + 1 < reply.length; i += 2) users.push([String(reply[i]), Number(reply[i + 1])]);
    if (users.length > 0) await this.#store.giveAllowance(users, Number(reply[at - 1]));
  }
}
