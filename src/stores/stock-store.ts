// The contract between the checkout service and a stock store shared by many service processes.
// Unlike src/stock/types.ts (sync, in-process, one SharedArrayBuffer), every call may cross the network:
// it is async, and one take carries everything the store must check atomically with it — stock, the
// user's limit and the idempotency key — so a purchase costs one round trip, not three.

export type StockStoreDesign = 'redis-lua' | 'redis-leased';
export const STOCK_STORE_DESIGNS: readonly StockStoreDesign[] = ['redis-lua', 'redis-leased'];

export interface TakeRequest {
  /** SKU index in the sale definition. */
  sku: number;
  qty: number;
  userId: string;
  /** Units a user may hold in this sale; 0: no limit. */
  limit: number;
  /** Idempotency-Key, or null when the request has none. */
  key: string | null;
  /** Fingerprint of the keyed request (src/service/idempotency.ts fingerprint()); ignored without a key. */
  fingerprint: number;
  /** Names this take until it is confirmed or released: the order id the service will write. Unique. */
  holdId: string;
}

export type TakeResult =
  /** Units taken and held for holdId; `epoch`: the stock's rebuild generation, which the ledger checks at commit. */
  | { kind: 'taken'; epoch: number }
  | { kind: 'sold_out' }
  | { kind: 'limit' }
  /** The key was seen before with the same request: its hold (order id) and its stored answer, or null while the first attempt is in flight. */
  | { kind: 'replay'; holdId: string; answer: string | null }
  /** The key was first used with a different request (422). */
  | { kind: 'mismatch' }
  /** The store holds no stock for this sale (Redis restarted or was flushed): 503 until it is rebuilt from the ledger. */
  | { kind: 'missing' };

/** A take the service is done with: confirmed (durable order) or released (declined, expired, failed). */
export interface HoldRef {
  sku: number;
  qty: number;
  userId: string;
  limit: number;
  key: string | null;
  holdId: string;
}

export interface StoreSnapshot {
  initial: number;
  /** Units anyone may still take (for redis-leased: the global pool plus every process's unsold lease, as far as Redis knows). */
  available: number;
  /** Taken and neither confirmed nor released. */
  held: number;
  /** Confirmed. */
  sold: number;
  epoch: number;
}

/** What a rebuild writes: per SKU, the sale's stock and what the ledger says is gone. */
export interface StockLoad {
  /** The ledger's new stock epoch (PgLedger.beginRebuild): orders taken before it can no longer commit. */
  epoch: number;
  skus: Array<{ initial: number; sold: number; held: number }>;
  /** Units per user in durable orders (and open holds), per SKU index. */
  users: Array<[sku: number, userId: string, units: number]>;
  /**
   * Idempotency keys the ledger holds: a retry replays the answer (`answer`, the 201 body). fingerprint null: written
   * before fingerprints were kept (a retry gets 422). `of`: whose key it is — a checkout's order, a reserve (userId ''),
   * or a reservation's pay (an order whose id is a reservation's): stores that keep keys by user tell them apart by it.
   */
  keys: Array<{ sku: number; key: string; fingerprint: number | null; orderId: string; userId: string; answer: string; of: 'checkout' | 'reserve' | 'pay' }>;
  /** Open reservations (not paid, released or expired), loaded as holds that can still be paid and still expire. Their units are in `skus[].held`, their users in `users`. */
  holds?: Array<{ sku: number; holdId: string; qty: number; userId: string; limited: boolean; expiresAt: number }>;
}

export interface StockStore {
  readonly design: StockStoreDesign;
  take(request: TakeRequest): Promise<TakeResult>;
  /** The orders are durable: their holds become sold, their keys answer `answer`. Idempotent (an unknown hold is skipped). */
  confirm(holds: ReadonlyArray<HoldRef & { answer: string }>): Promise<void>;
  /** The units, the users' allowance and the keys go back. Idempotent. */
  release(holds: readonly HoldRef[]): Promise<void>;
  /** null when the store holds no stock for the SKU (lost: rebuild). */
  snapshot(sku: number): Promise<StoreSnapshot | null>;
  /** Replaces the store's state for the sale; false when a newer epoch is already loaded (another process rebuilt first). */
  load(state: StockLoad): Promise<boolean>;
  close(): Promise<void>;
}
