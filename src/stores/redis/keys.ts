// Key layout for Redis Cluster. A Lua script may only touch keys of one hash slot, so every key one take
// reads or writes carries the same hash tag (the part in {braces}):
//   layout 'sku'  — one tag per SKU, {s<sale>.<sku index>}: SKUs spread over the cluster's shards; the
//                   per-user count lives under the SKU's tag, so a limit is held per (user, SKU). Exact for
//                   a one-SKU sale (the flash-sale case) or a per-SKU limit; a sale-wide limit over several
//                   SKUs is NOT held (a user could buy `limit` of each) — createRedisLuaStock refuses that.
//   layout 'sale' — one tag for the whole sale, {s<sale>}: a sale-wide limit is exact, but the whole sale
//                   lives on one shard (a cluster adds no throughput to it).
// redis-leased keeps users under their own tag ({s<sale>:u:<user>}), which holds a sale-wide limit and
// spreads over shards; see docs/stores.md "Key layout".
// SKUs are named by index, not id: ids are user input, and a '}' in one would end the tag early.

import { keySlot, slotTag } from './slots.ts';

export type KeyLayout = 'sku' | 'sale';

export interface SkuKeys {
  /** Hash: initial, avail, held, sold, epoch (+ leased, for redis-leased). */
  stock: string;
  /** Hash: userId → units (per SKU or per sale, by layout). */
  users: string;
  /** Hash: idempotency key → fingerprint|holdId|answer. */
  keys: string;
  /** Hash: holdId → qty|limited|keyLength|key user. */
  holds: string;
  /** redis-leased: hash owner → units leased, and owner → lease deadline (ms, Redis clock). */
  leases: string;
  deadlines: string;
  /** Sorted set: reservation holdId → expiry (ms). A hold is in it exactly while it is open and unclaimed. */
  expiry: string;
}

export function skuTag(saleId: number, sku: number, layout: KeyLayout): string {
  return layout === 'sku' ? `{s${saleId}.${sku}}` : `{s${saleId}}`;
}

export function skuKeys(prefix: string, saleId: number, sku: number, layout: KeyLayout): SkuKeys {
  const tag = skuTag(saleId, sku, layout);
  const base = `${prefix}:${tag}`;
  // Under 'sale' every SKU shares the tag, so the per-SKU keys carry the index and users are sale-wide.
  const own = layout === 'sku' ? base : `${base}:${sku}`;
  return {
    stock: `${own}:stock`,
    users: `${base}:users`,
    keys: `${base}:keys`,
    holds: `${own}:holds`,
    leases: `${own}:leases`,
    deadlines: `${own}:deadlines`,
    expiry: `${own}:expiry`,
  };
}

/**
 * redis-leased: one user's count and keys, under the user's own tag, per stock epoch: a rebuild writes the
 * new epoch's keys before any process can use them, so a take never races the rebuild's writes.
 */
export function userKeys(prefix: string, saleId: number, userId: string, epoch: number): { units: string; keys: string } {
  const base = `${prefix}:{s${saleId}:u:${userId}}:e${epoch}`;
  return { units: `${base}:n`, keys: `${base}:keys` };
}

/**
 * redis-leased: the sale's marker in one cluster slot, under a tag chosen to hash to that slot (slots.ts),
 * holding the stock epoch of the last rebuild. A rebuild writes one in every slot; a user's CLAIM reads
 * the one in its own slot, so a master that came back empty (its markers gone with its users' counts and
 * keys) answers 'missing' and a rebuild follows. See docs/stores.md "On a Redis Cluster".
 */
export function slotMarkKey(prefix: string, saleId: number, slot: number): string {
  return `${prefix}:{${slotTag(slot)}}:s${saleId}:mark`;
}

/** The marker next to a user's count and keys: in the slot their names hash to. */
export function userMarkKey(prefix: string, saleId: number, userId: string): string {
  return slotMarkKey(prefix, saleId, keySlot(userKeys(prefix, saleId, userId, 0).units));
}
