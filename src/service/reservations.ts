// Reservations in a SharedArrayBuffer, so a pay or DELETE that lands on another HTTP thread (reusePort
// spreads connections) finds the hold without a round trip to the thread that made it.
//
// A slot: state, generation, SKU index, qty, user id bytes, expiry. A reservation id names the slot
// and its generation (plus the sale's nonce), so an id from a reused slot or an earlier sale is
// recognised as gone. States move only by compare-and-swap, so exactly one thread wins each hold.
import { MAX_USER_ID_BYTES } from '../contract/sale.ts';

const FREE = 0;
const WRITING = 1; // being filled by the allocating thread
const HELD = 2;
const CLAIMED = 3; // a thread is paying, deleting or expiring it

const STATE = 0;
const GEN = 1;
const SKU = 2;
const QTY = 3;
const USER_LEN = 4;
const OWNER = 5; // the HTTP thread that made the hold and expires it (a restarted thread takes its holds back)
const STRIDE = 8; // Int32 words per slot

export { MAX_USER_ID_BYTES };
const PROBE_LIMIT = 4096;

export interface ReservationTableShared {
  capacity: number;
  meta: SharedArrayBuffer;
  expires: SharedArrayBuffer;
  users: SharedArrayBuffer;
}

/** What createReservationTable(capacity) allocates, in bytes (checked before allocating). */
export function reservationTableBytes(capacity: number): number {
  return capacity * (STRIDE * 4 + 8 + MAX_USER_ID_BYTES);
}

export function createReservationTable(capacity: number): ReservationTableShared {
  return {
    capacity,
    meta: new SharedArrayBuffer(capacity * STRIDE * 4),
    expires: new SharedArrayBuffer(capacity * 8),
    users: new SharedArrayBuffer(capacity * MAX_USER_ID_BYTES),
  };
}

export interface Hold { slot: number; gen: number; sku: number; qty: number; userId: string }

/** Result of trying to claim a reservation by id. */
export type Claim =
  | { kind: 'claimed'; hold: Hold; expired: boolean }
  | { kind: 'gone' } // expired and swept, paid, or released
  | { kind: 'busy' } // another request is paying or releasing it right now
  | { kind: 'unknown' }; // never existed in this sale

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ReservationTable {
  readonly capacity: number;
  private readonly threadIndex: number;
  private readonly meta: Int32Array;
  private readonly expires: Float64Array;
  private readonly users: Uint8Array;
  private cursor: number;
  // This thread's holds in creation order. With one TTL per sale, creation order is expiry order,
  // so the sweep pops from the head: a timer wheel with a single bucket width, O(expired) per tick.
  private queueSlots = new Int32Array(1024);
  private queueGens = new Int32Array(1024);
  private head = 0;
  private tail = 0;

  /** threadIndex -1: a view that makes and expires no holds (the main thread's, for recovery). */
  constructor(shared: ReservationTableShared, threadIndex: number, threads: number) {
    this.capacity = shared.capacity;
    this.threadIndex = threadIndex;
    this.meta = new Int32Array(shared.meta);
    this.expires = new Float64Array(shared.expires);
    this.users = new Uint8Array(shared.users);
    // Threads start allocating in different regions so they rarely race for the same free slot.
    this.cursor = Math.max(0, Math.floor((shared.capacity * threadIndex) / Math.max(1, threads)));
    if (threadIndex >= 0) this.adoptOwnHolds();
  }

  /**
   * The expiry queue lives in the thread's memory: a thread that replaces a crashed one (same index), or a
   * thread handed a rebuilt sale, queues again the live holds its index made, in expiry order, or they
   * would never expire. One scan of the table, at thread start or after a recovery only.
   */
  private adoptOwnHolds(): void {
    const own: number[] = [];
    for (let slot = 0; slot < this.capacity; slot++) {
      const base = slot * STRIDE;
      if (Atomics.load(this.meta, base + STATE) === HELD && this.meta[base + OWNER] === this.threadIndex) own.push(slot);
    }
    own.sort((a, b) => this.expires[a] - this.expires[b]);
    for (const slot of own) this.enqueue(slot, Atomics.load(this.meta, slot * STRIDE + GEN));
  }

  /**
   * Recovery, with every live thread paused: holds caught mid-write or mid-claim can only be the dead
   * thread's. They are freed (a claimed hold's order, if it reached the ledger, is counted from there).
   * Returns how many were freed.
   */
  freeOrphans(): number {
    let freed = 0;
    for (let slot = 0; slot < this.capacity; slot++) {
      const at = slot * STRIDE + STATE;
      const state = Atomics.load(this.meta, at);
      if (state === CLAIMED || state === WRITING) {
        Atomics.store(this.meta, at, FREE);
        freed++;
      }
    }
    return freed;
  }

  /** Every live hold (any thread's): what a recovery counts as reserved. */
  forEachHeld(visit: (sku: number, qty: number, userId: string) => void): void {
    for (let slot = 0; slot < this.capacity; slot++) {
      const base = slot * STRIDE;
      if (Atomics.load(this.meta, base + STATE) !== HELD) continue;
      const hold = this.read(slot, this.meta[base + GEN]);
      visit(hold.sku, hold.qty, hold.userId);
    }
  }

  /** Holds qty of sku for userId until expiresAt; null when no free slot is found (table full). */
  create(sku: number, qty: number, userId: string, expiresAt: number): Hold | null {
    const meta = this.meta;
    for (let probes = 0; probes < PROBE_LIMIT && probes < this.capacity; probes++) {
      const slot = this.cursor;
      this.cursor = slot + 1 === this.capacity ? 0 : slot + 1;
      const base = slot * STRIDE;
      if (Atomics.load(meta, base + STATE) !== FREE) continue;
      if (Atomics.compareExchange(meta, base + STATE, FREE, WRITING) !== FREE) continue;
      const gen = (Atomics.add(meta, base + GEN, 1) + 1) | 0;
      meta[base + SKU] = sku;
      meta[base + QTY] = qty;
      const { written } = encoder.encodeInto(userId, this.users.subarray(slot * MAX_USER_ID_BYTES, (slot + 1) * MAX_USER_ID_BYTES));
      meta[base + USER_LEN] = written;
      meta[base + OWNER] = this.threadIndex;
      this.expires[slot] = expiresAt;
      Atomics.store(meta, base + STATE, HELD);
      this.enqueue(slot, gen);
      return { slot, gen, sku, qty, userId };
    }
    return null;
  }

  /** Takes a hold for paying or releasing it; the caller must then free() it. */
  claim(slot: number, gen: number, now: number): Claim {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.capacity) return { kind: 'unknown' };
    const meta = this.meta;
    const base = slot * STRIDE;
    const current = Atomics.load(meta, base + GEN);
    if (gen > current || gen <= 0) return { kind: 'unknown' };
    if (gen !== current) return { kind: 'gone' };
    const prev = Atomics.compareExchange(meta, base + STATE, HELD, CLAIMED);
    if (prev !== HELD) return prev === CLAIMED ? { kind: 'busy' } : { kind: 'gone' };
    if (Atomics.load(meta, base + GEN) !== gen) {
      // The slot was freed and reused between our two reads: that hold is someone else's.
      Atomics.store(meta, base + STATE, HELD);
      return { kind: 'gone' };
    }
    return { kind: 'claimed', hold: this.read(slot, gen), expired: this.expires[slot] <= now };
  }

  private read(slot: number, gen: number): Hold {
    const base = slot * STRIDE;
    const at = slot * MAX_USER_ID_BYTES;
    const userId = decoder.decode(this.users.subarray(at, at + this.meta[base + USER_LEN]));
    return { slot, gen, sku: this.meta[base + SKU], qty: this.meta[base + QTY], userId };
  }

  /** Ends a claimed hold (paid, released or expired): the slot can be reused. */
  free(slot: number): void {
    Atomics.store(this.meta, slot * STRIDE + STATE, FREE);
  }

  /** Claims this thread's holds whose time has come and hands each to onExpire (which must free it). */
  sweep(now: number, onExpire: (hold: Hold) => void): number {
    let expired = 0;
    // Counted, not compared with tail: an entry re-queued below must wait for the next sweep.
    for (let left = this.tail - this.head; left > 0; left--) {
      const i = this.head & (this.queueSlots.length - 1);
      const slot = this.queueSlots[i];
      const gen = this.queueGens[i];
      const base = slot * STRIDE;
      const sameHold = Atomics.load(this.meta, base + GEN) === gen;
      const state = Atomics.load(this.meta, base + STATE);
      const live = sameHold && state === HELD;
      if (live && this.expires[slot] > now) break;
      this.head++;
      // Claimed right now: being paid or released, or briefly claimed by a stale id that will put it
      // back to HELD. Look again next sweep rather than lose the only entry that would expire it.
      if (sameHold && state === CLAIMED) {
        this.enqueue(slot, gen);
        continue;
      }
      if (!live) continue; // already paid or released
      const c = this.claim(slot, gen, now);
      if (c.kind === 'claimed') {
        expired++;
        onExpire(c.hold);
      }
    }
    return expired;
  }

  /** Holds not yet paid, released or expired (any thread's). For tests and /metrics; O(capacity). */
  countHeld(): number {
    let n = 0;
    for (let s = 0; s < this.capacity; s++) {
      const st = Atomics.load(this.meta, s * STRIDE + STATE);
      if (st === HELD || st === CLAIMED) n++;
    }
    return n;
  }

  private enqueue(slot: number, gen: number): void {
    if (this.tail - this.head === this.queueSlots.length) this.grow();
    const i = this.tail & (this.queueSlots.length - 1);
    this.queueSlots[i] = slot;
    this.queueGens[i] = gen;
    this.tail++;
  }

  private grow(): void {
    const n = this.queueSlots.length;
    const slots = new Int32Array(n * 2);
    const gens = new Int32Array(n * 2);
    for (let k = 0; k < n; k++) {
      slots[k] = this.queueSlots[(this.head + k) & (n - 1)];
      gens[k] = this.queueGens[(this.head + k) & (n - 1)];
    }
    this.queueSlots = slots;
    this.queueGens = gens;
    this.tail = n;
    this.head = 0;
  }
}
