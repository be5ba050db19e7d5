// Where each word lives in the stock SharedArrayBuffers. Every hot counter gets its own 128-byte stride:
// a cache line of its own, and its own pair of lines, because Intel's spatial prefetcher pulls lines in
// pairs (padding only to 64 bytes still shows false sharing there).

/** Int32 words per stride: 128 bytes. */
export const STRIDE = 32;

// Offsets inside a SKU's stride in the `counters` buffer. `available` is the only hot word for naive and
// atomic; the others are touched by mutex (lock) and by leased on refills and at sell-out only.
export const AVAILABLE = 0;
export const LOCK = 1;
/** leased: transfers (global→lease, lease→lease, lease→global) under way right now. */
export const IN_FLIGHT = 2;
/** leased: transfers completed so far; a sell-out verdict needs it unchanged across its scan. */
export const GENERATION = 3;
/** leased: GENERATION + 1 as of a scan that found no unit anywhere; stale (and ignored) once GENERATION moves. */
export const SOLD_OUT_AT = 4;

/** Largest stock a counter can hold (Int32: Atomics.wait needs an Int32Array). */
export const MAX_UNITS = 0x7fff_ffff;

export function skuBase(sku: number): number {
  return sku * STRIDE;
}

/** Per-thread, per-SKU slot (lease for leased, sold tally for naive), each on its own stride. */
export function threadSlotBase(threadIndex: number, sku: number, skuCount: number): number {
  return (threadIndex * skuCount + sku) * STRIDE;
}
