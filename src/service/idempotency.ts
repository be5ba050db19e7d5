// Idempotency-Key answers shared by every HTTP thread: a retry may come back on another connection,
// so another thread. Open addressing in a SharedArrayBuffer keyed by two independent 32-bit hashes of
// the key; the first request to claim a key runs, concurrent retries wait on the slot's state word
// (Atomics.waitAsync) and then answer with the stored status and body.

const EMPTY = 0;
const CLAIMING = 1; // hash words being written
const IN_FLIGHT = 2;
const DONE = 3;
const RETRYABLE = 4; // the first attempt ended without an answer worth repeating (5xx): run again

const STATE = 0;
const H1 = 1;
const H2 = 2;
const STATUS = 3;
const BODY_LEN = 4;
const FINGERPRINT = 5; // hash of route + body: the same key on a different request is a client bug
const STRIDE = 8;
export const MAX_STORED_BODY = 224;
export const MAX_KEY_LENGTH = 255;

export interface IdempotencyShared { capacity: number; meta: SharedArrayBuffer; bodies: SharedArrayBuffer }

function idempotencyCapacity(expectedKeys: number): number {
  let capacity = 1024;
  while (capacity < expectedKeys * 2) capacity *= 2; // load factor ≤ 0.5 keeps probe runs short
  return capacity;
}

/** What createIdempotencyTable(expectedKeys) allocates, in bytes (checked before allocating). */
export function idempotencyTableBytes(expectedKeys: number): number {
  return idempotencyCapacity(expectedKeys) * (STRIDE * 4 + MAX_STORED_BODY);
}

export function createIdempotencyTable(expectedKeys: number): IdempotencyShared {
  const capacity = idempotencyCapacity(expectedKeys);
  return { capacity, meta: new SharedArrayBuffer(capacity * STRIDE * 4), bodies: new SharedArrayBuffer(capacity * MAX_STORED_BODY) };
}

export type Begin =
  | { kind: 'run'; slot: number } // first (or retryable) attempt: run it, then complete() or abandon()
  | { kind: 'answered'; status: number; body: Buffer }
  | { kind: 'wait'; slot: number } // another attempt is in flight: waitFor(slot) then begin() again
  | { kind: 'mismatch' } // the key was first used with another request
  | { kind: 'full' };

/** Hash of the request a key is used with (route and body). Always odd: see UNVERIFIABLE. */
export function fingerprint(route: number, body: string): number {
  return hash(body, route + 1, 0x01000193) | 1;
}

/**
 * The fingerprint of a key restored from a ledger written before fingerprints were kept: even, so it
 * matches no request and a retry answers 422 rather than replay an order to whoever sends the key.
 */
export const UNVERIFIABLE = 2;

function hash(key: string, seed: number, mult: number): number {
  let h = seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), mult);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 13)) | 0;
}

const encoder = new TextEncoder();

export class IdempotencyTable {
  private readonly capacity: number;
  private readonly meta: Int32Array;
  private readonly bodies: Uint8Array;

  constructor(shared: IdempotencyShared) {
    this.capacity = shared.capacity;
    this.meta = new Int32Array(shared.meta);
    this.bodies = new Uint8Array(shared.bodies);
  }

  begin(key: string, fingerprint = 0): Begin {
    const h1 = hash(key, 0x811c9dc5, 0x01000193);
    const h2 = hash(key, 0x9747b28c, 0x5bd1e995);
    const mask = this.capacity - 1;
    const meta = this.meta;
    let slot = h1 & mask;
    for (let probes = 0; probes < this.capacity; ) {
      const base = slot * STRIDE;
      const state = Atomics.load(meta, base + STATE);
      if (state === EMPTY) {
        if (Atomics.compareExchange(meta, base + STATE, EMPTY, CLAIMING) !== EMPTY) continue; // lost the race: look again
        meta[base + H1] = h1;
        meta[base + H2] = h2;
        meta[base + FINGERPRINT] = fingerprint;
        Atomics.store(meta, base + STATE, IN_FLIGHT);
        return { kind: 'run', slot };
      }
      if (state === CLAIMING) continue; // a few stores away from readable
      if (meta[base + H1] === h1 && meta[base + H2] === h2) {
        // Restored keys keep their fingerprint: another user, route or qty never gets this key's answer.
        if (meta[base + FINGERPRINT] !== fingerprint) return { kind: 'mismatch' };
        if (state === IN_FLIGHT) return { kind: 'wait', slot };
        if (state === DONE) {
          const len = meta[base + BODY_LEN];
          const at = slot * MAX_STORED_BODY;
          return { kind: 'answered', status: meta[base + STATUS], body: Buffer.from(this.bodies.slice(at, at + len)) };
        }
        if (Atomics.compareExchange(meta, base + STATE, RETRYABLE, IN_FLIGHT) === RETRYABLE) {
          meta[base + FINGERPRINT] = fingerprint;
          return { kind: 'run', slot };
        }
        continue;
      }
      slot = (slot + 1) & mask;
      probes++;
    }
    return { kind: 'full' };
  }

  /** Stores the answer and wakes waiting retries. Bodies too long to store make the key retryable. */
  complete(slot: number, status: number, body: string | Buffer): void {
    const base = slot * STRIDE;
    const at = slot * MAX_STORED_BODY;
    const target = this.bodies.subarray(at, at + MAX_STORED_BODY);
    let len: number;
    if (typeof body === 'string') {
      const r = encoder.encodeInto(body, target);
      len = r.read === body.length ? r.written : -1;
    } else if (body.length <= MAX_STORED_BODY) {
      target.set(body);
      len = body.length;
    } else len = -1;
    if (len < 0 || status >= 500) return this.abandon(slot);
    this.meta[base + STATUS] = status;
    this.meta[base + BODY_LEN] = len;
    Atomics.store(this.meta, base + STATE, DONE);
    Atomics.notify(this.meta, base + STATE);
  }

  abandon(slot: number): void {
    const base = slot * STRIDE;
    Atomics.store(this.meta, base + STATE, RETRYABLE);
    Atomics.notify(this.meta, base + STATE);
  }

  /** Resolves when the slot leaves IN_FLIGHT (or after timeoutMs), without blocking the event loop. */
  async waitFor(slot: number, timeoutMs: number): Promise<void> {
    const r = Atomics.waitAsync(this.meta, slot * STRIDE + STATE, IN_FLIGHT, timeoutMs);
    if (r.async) await r.value;
  }

  /**
   * Recovery after an HTTP thread crashed, with every live thread paused: keys still in flight can only be
   * the dead thread's. A key whose order reached the ledger answers with it from now on; any other is
   * released (a retry runs again, as after a 5xx) instead of answering 409 in_progress forever. A slot
   * caught mid-claim becomes a dead entry (emptying it would cut the probe chain of the keys after it).
   */
  settleOrphans(committed: ReadonlyArray<readonly [key: string, orderId: string, ...unknown[]]>): { replayed: number; released: number } {
    const orders = new Map<string, string>();
    for (const [key, orderId] of committed) orders.set(`${hash(key, 0x811c9dc5, 0x01000193)},${hash(key, 0x9747b28c, 0x5bd1e995)}`, orderId);
    let replayed = 0;
    let released = 0;
    const meta = this.meta;
    for (let slot = 0; slot < this.capacity; slot++) {
      const base = slot * STRIDE;
      const state = Atomics.load(meta, base + STATE);
      if (state === CLAIMING) {
        meta[base + H1] = 0;
        meta[base + H2] = 0;
        Atomics.store(meta, base + STATE, RETRYABLE);
      } else if (state === IN_FLIGHT) {
        const orderId = orders.get(`${meta[base + H1]},${meta[base + H2]}`);
        if (orderId === undefined) {
          this.abandon(slot);
          released++;
        } else {
          this.complete(slot, 201, JSON.stringify({ orderId }));
          replayed++;
        }
      }
    }
    return { replayed, released };
  }

  /** Recovery after a restart: a key whose order is in the ledger answers the same request with that order again. */
  restore(key: string, fingerprint: number, status: number, body: string): boolean {
    const b = this.begin(key, fingerprint);
    if (b.kind !== 'run') return false;
    this.complete(b.slot, status, body);
    return true;
  }
}
