// leased: the Linux percpu_counter idea applied to stock. Each thread owns a lease slot per SKU (its own
// 128-byte stride) and sells from it with an uncontended CAS; it refills in batches from the SKU's global
// counter, so the contended line is touched once per batch instead of once per sale.
//
// Exact at sell-out: when the global counter is empty, a thread steals from other threads' leases (CAS,
// so an owner and a thief never both get a unit). Moving units between two words cannot be one atomic
// step, so for a moment they are in neither; every such transfer is bracketed by IN_FLIGHT (+1 before,
// -1 after) and counted in GENERATION. A thread says "sold out" only after a scan that found nothing
// while no transfer was under way or completed (IN_FLIGHT 0 and GENERATION unchanged): no unit is ever
// hidden from it. Stealing happens under the SKU's drain lock so thieves cannot ping-pong units between
// each other forever; the lock is only reached once the global counter is empty.
// After sell-out the crowd keeps coming: a scan that finds no unit at all records the generation it saw
// (SOLD_OUT_AT), and later refusals need only two loads to see nothing has moved since. Units can only come
// back through a release or a transfer, both of which bump GENERATION, so a stale mark never matches.
import { casGive, casTake } from './atomic.ts';
import { checkTake } from './check.ts';
import { lock, unlock } from './lock.ts';
import { AVAILABLE, GENERATION, IN_FLIGHT, LOCK, SOLD_OUT_AT, skuBase, threadSlotBase } from './layout.ts';
import type { StockCounter, StockShared, StockSnapshot } from './types.ts';

const SNAPSHOT_ATTEMPTS = 1000;
const SPINS_BEFORE_NAP = 64;

export class LeasedStock implements StockCounter {
  readonly strategy = 'leased' as const;
  readonly #counters: Int32Array;
  readonly #leases: Int32Array;
  readonly #initial: Int32Array;
  readonly #skuCount: number;
  readonly #maxThreads: number;
  readonly #leaseSize: number;
  readonly #thread: number;
  /** This thread's lease slot index for each SKU. */
  readonly #ownSlots: Int32Array;

  constructor(shared: StockShared, threadIndex: number) {
    this.#counters = new Int32Array(shared.counters);
    this.#leases = new Int32Array(shared.threadSlots);
    this.#initial = new Int32Array(shared.initial);
    this.#skuCount = shared.skuCount;
    this.#maxThreads = shared.maxThreads;
    this.#leaseSize = shared.leaseSize;
    this.#thread = threadIndex;
    this.#ownSlots = Int32Array.from({ length: shared.skuCount }, (_, sku) => threadSlotBase(threadIndex, sku, shared.skuCount));
  }

  tryTake(sku: number, qty: number): boolean {
    // Kept tiny so it inlines into the caller's loop. A SKU outside [0, skuCount) (or not a whole number)
    // finds no slot and goes the checked way, which throws.
    const own = this.#ownSlots[sku];
    // One unit, the common order: a fetch-sub on our own line, cheaper than a CAS loop. If the lease was
    // empty it dips to -1 for an instant and we add it back; that instant hides no unit (there was none),
    // and thieves and scans read a negative lease as empty.
    if (qty === 1 && own !== undefined) {
      if (Atomics.sub(this.#leases, own, 1) > 0) return true;
      Atomics.add(this.#leases, own, 1);
      return this.#takeSlow(sku, 1);
    }
    return this.#takeChecked(sku, qty);
  }

  #takeChecked(sku: number, qty: number): boolean {
    checkTake(sku, qty, this.#skuCount);
    return casTake(this.#leases, this.#ownSlots[sku], qty) || this.#takeSlow(sku, qty);
  }

  /** Returned units go to this thread's own lease, where thieves can still reach them; GENERATION moves so no sold-out mark outlives them. */
  release(sku: number, qty: number): void {
    checkTake(sku, qty, this.#skuCount);
    casGive(this.#leases, this.#ownSlots[sku], qty);
    Atomics.add(this.#counters, skuBase(sku) + GENERATION, 1);
  }

  snapshot(sku: number): StockSnapshot {
    checkTake(sku, 1, this.#skuCount);
    const initial = this.#initial[sku];
    const available = this.#available(sku);
    return { initial, available, sold: initial - available };
  }

  flush(): void {
    for (let sku = 0; sku < this.#skuCount; sku++) {
      const own = this.#ownSlots[sku];
      let units = Atomics.load(this.#leases, own);
      while (units > 0) {
        const base = skuBase(sku);
        Atomics.add(this.#counters, base + IN_FLIGHT, 1);
        const seen = Atomics.compareExchange(this.#leases, own, units, 0);
        if (seen === units) {
          Atomics.add(this.#counters, base + AVAILABLE, units);
          Atomics.add(this.#counters, base + GENERATION, 1);
        }
        Atomics.sub(this.#counters, base + IN_FLIGHT, 1);
        if (seen === units) break;
        units = seen;
      }
    }
  }

  #takeSlow(sku: number, qty: number): boolean {
    const own = this.#ownSlots[sku];
    const words = this.#counters;
    const base = skuBase(sku);
    if (Atomics.load(words, base + SOLD_OUT_AT) === Atomics.load(words, base + GENERATION) + 1) return false;
    // Lock-free while the global counter still has units.
    while (this.#refill(sku, qty)) {
      if (casTake(this.#leases, own, qty)) return true;
    }
    // After sell-out every refusal lands here: answer from a quiet read-only scan when it proves there are
    // not enough units anywhere, so refusals do not queue on the lock.
    if (this.#surelyShort(sku, qty)) return false;
    lock(words, base + LOCK);
    try {
      for (let idle = 0; ; idle++) {
        const generation = Atomics.load(words, base + GENERATION);
        if (casTake(this.#leases, own, qty)) return true;
        if (this.#refill(sku, qty) || this.#steal(sku, qty)) continue;
        const inFlight = Atomics.load(words, base + IN_FLIGHT);
        if (inFlight === 0 && Atomics.load(words, base + GENERATION) === generation) return false;
        // Someone's transfer is landing: a few instructions, unless its thread lost the CPU mid-way (more
        // threads than cores). Spin a little, then nap 50 µs at a time so that thread can finish.
        if (idle >= SPINS_BEFORE_NAP && inFlight !== 0) Atomics.wait(words, base + IN_FLIGHT, inFlight, 0.05);
      }
    } finally {
      unlock(words, base + LOCK);
    }
  }

  /** Moves a batch from the global counter into this thread's lease. False if the global counter was empty. */
  #refill(sku: number, qty: number): boolean {
    const words = this.#counters;
    const base = skuBase(sku);
    const own = this.#ownSlots[sku];
    let global = Atomics.load(words, base + AVAILABLE);
    while (global > 0) {
      // Smaller batches as the pool runs low, so the last units spread out instead of piling up in one lease.
      const batch = Math.min(this.#leaseSize, Math.ceil(global / this.#maxThreads));
      const grab = Math.min(global, Math.max(qty - Atomics.load(this.#leases, own), batch));
      Atomics.add(words, base + IN_FLIGHT, 1);
      const seen = Atomics.compareExchange(words, base + AVAILABLE, global, global - grab);
      if (seen === global) {
        Atomics.add(this.#leases, own, grab);
        Atomics.add(words, base + GENERATION, 1);
      }
      Atomics.sub(words, base + IN_FLIGHT, 1);
      if (seen === global) return true;
      global = seen;
    }
    return false;
  }

  /** Takes what this order still lacks from the first other lease that has any. Only under the drain lock. */
  #steal(sku: number, qty: number): boolean {
    const words = this.#counters;
    const leases = this.#leases;
    const base = skuBase(sku);
    const own = this.#ownSlots[sku];
    const need = qty - Atomics.load(leases, own);
    if (need <= 0) return true;
    for (let t = 0; t < this.#maxThreads; t++) {
      if (t === this.#thread) continue;
      const victim = threadSlotBase(t, sku, this.#skuCount);
      let units = Atomics.load(leases, victim);
      while (units > 0) {
        const take = Math.min(units, need);
        Atomics.add(words, base + IN_FLIGHT, 1);
        const seen = Atomics.compareExchange(leases, victim, units, units - take);
        if (seen === units) {
          Atomics.add(leases, own, take);
          Atomics.add(words, base + GENERATION, 1);
        }
        Atomics.sub(words, base + IN_FLIGHT, 1);
        if (seen === units) return true;
        units = seen;
      }
    }
    return false;
  }

  /** True when global + all leases < qty, read while no transfer was under way; false when unsure. */
  #surelyShort(sku: number, qty: number): boolean {
    const words = this.#counters;
    const base = skuBase(sku);
    // No IN_FLIGHT check up front: a transfer under way now either lands before the end (GENERATION moves)
    // or is still under way there (IN_FLIGHT ≠ 0); the checks at the end catch both.
    const generation = Atomics.load(words, base + GENERATION);
    let sum = Atomics.load(words, base + AVAILABLE);
    for (let t = 0; t < this.#maxThreads && sum < qty; t++) sum += Math.max(0, Atomics.load(this.#leases, threadSlotBase(t, sku, this.#skuCount)));
    if (sum >= qty || Atomics.load(words, base + IN_FLIGHT) !== 0 || Atomics.load(words, base + GENERATION) !== generation) return false;
    if (sum === 0) Atomics.store(words, base + SOLD_OUT_AT, generation + 1);
    return true;
  }

  /** Global + every lease, read while no transfer is under way, so units in flight are not missed. */
  #available(sku: number): number {
    const words = this.#counters;
    const base = skuBase(sku);
    let sum = 0;
    for (let attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
      const generation = Atomics.load(words, base + GENERATION);
      sum = Atomics.load(words, base + AVAILABLE);
      for (let t = 0; t < this.#maxThreads; t++) sum += Math.max(0, Atomics.load(this.#leases, threadSlotBase(t, sku, this.#skuCount)));
      if (Atomics.load(words, base + IN_FLIGHT) === 0 && Atomics.load(words, base + GENERATION) === generation) return sum;
    }
    // Transfers never stopped for a thousand scans: the sum may miss a batch in flight at this instant.
    return sum;
  }
}
