// Per-user purchase limits shared by every thread: a lock-free open-addressing table (linear probing) in
// SharedArrayBuffers. A slot is claimed with one CAS on its state word (EMPTY → CLAIMING), so two threads
// inserting the same new user cannot both get a slot: the loser waits for READY, compares, and finds the
// winner's entry. Full ids are stored (UTF-8 bytes in a shared arena) and compared, so a hash collision
// costs a probe, never a merged count. A full table or arena throws CapacityError: never a silent pass.
import { CapacityError } from '../errors.ts';
import { fnv1a32 } from './hash.ts';

// Slot layout: 8 Int32 words (32 bytes). Counts of different users may share a cache line; one user's
// count is rarely hammered from many threads at once, and a 128-byte stride per user would cost 4× memory.
const SLOT_WORDS = 8;
const STATE = 0;
const HASH = 1;
const COUNT = 2;
const KEY_OFFSET = 3;
const KEY_LENGTH = 4;

const EMPTY = 0;
const CLAIMING = 1;
const READY = 2;

// Header words, each on its own 128-byte stride.
const ARENA_TOP = 0;
const HEADER_WORDS = 32;

export const DEFAULT_LOAD_FACTOR = 0.5;
/** Arena bytes reserved per slot for ids; average, not maximum: ids of any length fit while space lasts. */
export const DEFAULT_ID_BYTES = 32;

export interface UserLimitsShared {
  /** Slots in the table: a power of two ≥ expectedUsers / loadFactor. */
  capacity: number;
  slots: SharedArrayBuffer;
  /** UTF-8 bytes of every stored id. */
  arena: SharedArrayBuffer;
  header: SharedArrayBuffer;
}

export interface UserLimits {
  /** Atomically: if count(userId) + qty <= limit, add qty and return true; else false. Full ids compared, not only hashes. Throws CapacityError (src/errors.ts) when the table is full — never a silent pass. */
  tryAcquire(userId: string, qty: number, limit: number): boolean;
  release(userId: string, qty: number): void;
  count(userId: string): number;
}

export interface UserLimitsAttachOptions {
  /** Replace the hash (tests force collisions with it). Every thread attached to one table must use the same function. */
  hash?: (userId: string) => number;
}

/** Largest table: 2^26 slots (offsets into the id arena stay within an Int32). */
export const MAX_SLOTS = 2 ** 26;
/** Most users a table with the default load factor can be sized for. */
export const MAX_USERS = MAX_SLOTS * DEFAULT_LOAD_FACTOR;

/** What createUserLimits(expectedUsers) allocates with the default load factor and id size, in bytes (checked before allocating). */
export function userLimitsBytes(expectedUsers: number): number {
  return slotsFor(expectedUsers, DEFAULT_LOAD_FACTOR) * (SLOT_WORDS * Int32Array.BYTES_PER_ELEMENT + DEFAULT_ID_BYTES);
}

/** Table slots: the power of two that keeps `expectedUsers` at or under `loadFactor`. */
function slotsFor(expectedUsers: number, loadFactor: number): number {
  let capacity = 1;
  while (capacity < Math.ceil(expectedUsers / loadFactor)) capacity *= 2;
  return capacity;
}

export function createUserLimits(expectedUsers: number, options: { loadFactor?: number; idBytes?: number } = {}): UserLimitsShared {
  const loadFactor = options.loadFactor ?? DEFAULT_LOAD_FACTOR;
  const idBytes = options.idBytes ?? DEFAULT_ID_BYTES;
  if (!Number.isInteger(expectedUsers) || expectedUsers < 1) throw new RangeError(`expectedUsers ${expectedUsers} is not a positive whole number.`);
  if (!(loadFactor > 0 && loadFactor <= 1)) throw new RangeError(`loadFactor ${loadFactor} is not in (0, 1].`);
  if (!Number.isInteger(idBytes) || idBytes < 1) throw new RangeError(`idBytes ${idBytes} is not a positive whole number.`);
  const capacity = slotsFor(expectedUsers, loadFactor);
  if (capacity > MAX_SLOTS) throw new RangeError(`expectedUsers ${expectedUsers} / loadFactor ${loadFactor} needs more than ${MAX_SLOTS} slots.`);
  return {
    capacity,
    slots: new SharedArrayBuffer(capacity * SLOT_WORDS * Int32Array.BYTES_PER_ELEMENT),
    arena: new SharedArrayBuffer(capacity * idBytes),
    header: new SharedArrayBuffer(HEADER_WORDS * Int32Array.BYTES_PER_ELEMENT),
  };
}

export function attachUserLimits(shared: UserLimitsShared, options: UserLimitsAttachOptions = {}): UserLimits {
  return new SharedUserLimits(shared, options.hash);
}

const encoder = new TextEncoder();

function checkQty(name: string, value: number, min: number): void {
  if (!(value >= min && Number.isInteger(value))) throw new RangeError(`${name} ${value} is not a whole number ≥ ${min}.`);
}

class SharedUserLimits implements UserLimits {
  readonly #slots: Int32Array;
  readonly #arena: Uint8Array;
  readonly #header: Int32Array;
  readonly #mask: number;
  readonly #capacity: number;
  readonly #hash: ((userId: string) => number) | undefined;
  readonly #scratch = new Uint8Array(256);

  constructor(shared: UserLimitsShared, hash: ((userId: string) => number) | undefined) {
    this.#slots = new Int32Array(shared.slots);
    this.#arena = new Uint8Array(shared.arena);
    this.#header = new Int32Array(shared.header);
    this.#capacity = shared.capacity;
    this.#mask = shared.capacity - 1;
    this.#hash = hash;
  }

  tryAcquire(userId: string, qty: number, limit: number): boolean {
    checkQty('qty', qty, 1);
    checkQty('limit', limit, 0);
    if (qty > limit) return false;
    const at = this.#find(userId, true) + COUNT;
    const slots = this.#slots;
    let current = Atomics.load(slots, at);
    while (current + qty <= limit) {
      const seen = Atomics.compareExchange(slots, at, current, current + qty);
      if (seen === current) return true;
      current = seen;
    }
    return false;
  }

  release(userId: string, qty: number): void {
    checkQty('qty', qty, 1);
    const slot = this.#find(userId, false);
    const at = slot + COUNT;
    const slots = this.#slots;
    let current = slot < 0 ? 0 : Atomics.load(slots, at);
    for (;;) {
      if (current < qty) throw new RangeError(`user "${userId}" holds ${current}, cannot release ${qty}.`);
      const seen = Atomics.compareExchange(slots, at, current, current - qty);
      if (seen === current) return;
      current = seen;
    }
  }

  count(userId: string): number {
    const slot = this.#find(userId, false);
    return slot < 0 ? 0 : Atomics.load(this.#slots, slot + COUNT);
  }

  /** UTF-8 bytes of the id in a reused buffer (ASCII ids, the usual case, without TextEncoder's allocation). */
  #encode(userId: string): Uint8Array {
    const n = userId.length;
    if (n <= this.#scratch.length) {
      let i = 0;
      for (; i < n; i++) {
        const c = userId.charCodeAt(i);
        if (c >= 0x80) break;
        this.#scratch[i] = c;
      }
      if (i === n) return this.#scratch.subarray(0, n);
    }
    // TextEncoder turns a lone surrogate into U+FFFD: two different ids would share one count.
    if (!userId.isWellFormed()) throw new RangeError(`user id ${JSON.stringify(userId).slice(0, 80)} is not well-formed Unicode (a lone surrogate).`);
    return encoder.encode(userId);
  }

  /** Word index of the user's slot; inserts when asked, else -1 if absent. */
  #find(userId: string, insert: boolean): number {
    const key = this.#encode(userId);
    const hash = (this.#hash ? this.#hash(userId) : fnv1a32(key)) | 0;
    const slots = this.#slots;
    let keyOffset = -1; // arena space, reserved once per call even if a claim race is lost
    let index = hash & this.#mask;
    for (let probe = 0; probe < this.#capacity; probe++, index = (index + 1) & this.#mask) {
      const slot = index * SLOT_WORDS;
      let state = Atomics.load(slots, slot + STATE);
      if (state === EMPTY) {
        if (!insert) return -1;
        if (keyOffset < 0) keyOffset = this.#store(key, userId);
        state = Atomics.compareExchange(slots, slot + STATE, EMPTY, CLAIMING);
        if (state === EMPTY) {
          Atomics.store(slots, slot + HASH, hash);
          Atomics.store(slots, slot + KEY_OFFSET, keyOffset);
          Atomics.store(slots, slot + KEY_LENGTH, key.length);
          Atomics.store(slots, slot + STATE, READY);
          return slot;
        }
      }
      // Another thread is writing this slot's key: a handful of stores, so spin rather than sleep.
      while (state === CLAIMING) state = Atomics.load(slots, slot + STATE);
      if (Atomics.load(slots, slot + HASH) === hash && this.#sameKey(slot, key)) return slot;
    }
    if (!insert) return -1;
    throw new CapacityError(`user-limit table is full (${this.#capacity} slots) inserting user "${userId}": raise expectedUsers.`);
  }

  #sameKey(slot: number, key: Uint8Array): boolean {
    const length = Atomics.load(this.#slots, slot + KEY_LENGTH);
    if (length !== key.length) return false;
    const offset = Atomics.load(this.#slots, slot + KEY_OFFSET);
    const arena = this.#arena;
    for (let i = 0; i < length; i++) if (arena[offset + i] !== key[i]) return false;
    return true;
  }

  /** Copies the id into the arena and returns its offset. */
  #store(key: Uint8Array, userId: string): number {
    const offset = Atomics.add(this.#header, ARENA_TOP, key.length);
    if (offset + key.length > this.#arena.length) {
      throw new CapacityError(`user-limit table's id arena is full (${this.#arena.length} bytes) inserting user "${userId}": raise expectedUsers.`);
    }
    this.#arena.set(key, offset);
    return offset;
  }
}
