// The stock core's contract, shared by every strategy. Kept apart from index.ts so strategy files can
// import it without a cycle.

export type StrategyName = 'naive' | 'mutex' | 'atomic' | 'leased';

/** Plain data + SharedArrayBuffers only: postMessage / workerData-safe. */
export interface StockShared {
  strategy: StrategyName;
  skuCount: number;
  /** How many threads may attach at once (indices 0..maxThreads-1). */
  maxThreads: number;
  /** leased: units a thread takes from the global counter per refill. */
  leaseSize: number;
  /** Int32 per SKU: the units the sale started with (available + sold at creation). Written once. */
  initial: SharedArrayBuffer;
  /** One 128-byte stride per SKU: available (global), lock, in-flight, generation. */
  counters: SharedArrayBuffer;
  /** One stride per (thread, SKU): leased's lease, naive's sold tally; empty for mutex and atomic. */
  threadSlots: SharedArrayBuffer;
}

export interface StockSnapshot {
  initial: number;
  available: number;
  sold: number;
}

export interface StockCounter {
  readonly strategy: StrategyName;
  /** Takes qty units of sku if there are that many; never lets stock go below zero (except naive, on purpose). */
  tryTake(sku: number, qty: number): boolean;
  /** Units come back (expired reservation, declined payment). */
  release(sku: number, qty: number): void;
  /** sold = taken and not released; for exact strategies initial = available + sold (units parked in leases count as available). */
  snapshot(sku: number): StockSnapshot;
  /** leased: return this thread's leftovers to the global pool; others: no-op. */
  flush(): void;
}
