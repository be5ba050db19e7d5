// What /metrics adds on the stores: each store call's round trip (a histogram per store and operation)
// and its failures (per store and kind), one block per HTTP thread in a SharedArrayBuffer, so whichever
// thread serves GET /metrics sums the process's threads (each thread writes only its own block; a
// thread that replaces a crashed one goes on in the same block). Every process serves its own counts;
// the stock lines are the sale's, read from Redis.
import { StoreUnavailableError } from '../errors.ts';
import { CONFIRM, LOAD, RELEASE, TAKE } from '../stores/redis/lua.ts';
import { CLAIM, DROP, KEY_BEGIN, KEY_END, KEY_REMEMBER, RESERVE, SWEEP, UNCLAIM } from '../stores/redis/reserve-lua.ts';
import { CLAIM as LEASE_CLAIM, LEASE, RETURN, SETTLE } from '../stores/redis/lease-lua.ts';
import { DROP as LEASED_DROP, HOLD, SWEEP as LEASED_SWEEP } from '../stores/redis/leased-reserve-lua.ts';
import { isReplyError, type RedisLink } from '../stores/redis/link.ts';
import type { RedisScript } from '../stores/redis/script.ts';

// Every script the service runs, so each has its own op label (names are unique: checked below).
const SCRIPTS: RedisScript[] = [TAKE, CONFIRM, RELEASE, LOAD, RESERVE, CLAIM, UNCLAIM, DROP, SWEEP, KEY_BEGIN, KEY_END, KEY_REMEMBER, LEASE, RETURN, LEASE_CLAIM, SETTLE, HOLD, LEASED_DROP, LEASED_SWEEP];
if (new Set(SCRIPTS.map((s) => s.name)).size !== SCRIPTS.length) throw new RangeError('two Redis scripts share a name: /metrics could not tell them apart');
/** Redis ops: the scripts by name, the inventory read, the rebuild lock, anything else. */
export const REDIS_OPS = [...SCRIPTS.map((s) => s.name), 'snapshot', 'lock', 'other'] as const;
export const POSTGRES_OPS = ['commit', 'read', 'rebuild', 'reserve', 'release', 'fate'] as const;
/** unavailable: no answer (connection lost, refused, timed out); error: the server answered with an error. */
export const ERROR_KINDS = ['unavailable', 'error'] as const;

const BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const PER_OP = BOUNDS.length + 3; // buckets (+Inf last), sum, count
const STORES = ['redis', 'postgres'] as const;
type Store = (typeof STORES)[number];
const OPS: Record<Store, readonly string[]> = { redis: REDIS_OPS, postgres: POSTGRES_OPS };
const OP_AT: Record<Store, number> = { redis: 0, postgres: REDIS_OPS.length * PER_OP };
const ERRORS_AT = (REDIS_OPS.length + POSTGRES_OPS.length) * PER_OP;
const BLOCK = ERRORS_AT + STORES.length * ERROR_KINDS.length;

const bySha = new Map(SCRIPTS.map((s) => [s.sha, s.name]));
const bySource = new Map(SCRIPTS.map((s) => [s.source, s.name]));

/** Shared by the process's threads: request counters, store stats (one block per thread), commit stats (one buffer per thread). */
export interface StoreThreadMetrics {
  requests: SharedArrayBuffer;
  stores: SharedArrayBuffer;
  commits: SharedArrayBuffer[];
  threads: number;
}

export function createStoreStats(threads: number): SharedArrayBuffer {
  return new SharedArrayBuffer(threads * BLOCK * 8);
}

export class StoreStats {
  readonly #v: Float64Array;

  constructor(sab: SharedArrayBuffer, threadIndex: number) {
    this.#v = new Float64Array(sab, threadIndex * BLOCK * 8, BLOCK);
  }

  observe(store: Store, op: string, seconds: number, error: unknown): void {
    let i = OPS[store].indexOf(op);
    if (i < 0) i = OPS[store].length - 1;
    const at = OP_AT[store] + i * PER_OP;
    let b = 0;
    while (b < BOUNDS.length && seconds > BOUNDS[b]) b++;
    this.#v[at + b]++;
    this.#v[at + BOUNDS.length + 1] += seconds;
    this.#v[at + BOUNDS.length + 2]++;
    if (error !== null && error !== undefined) this.failed(store, errorKind(error));
  }

  failed(store: Store, kind: (typeof ERROR_KINDS)[number]): void {
    this.#v[ERRORS_AT + STORES.indexOf(store) * ERROR_KINDS.length + ERROR_KINDS.indexOf(kind)]++;
  }

  /** The observer the PostgreSQL classes take (PgLedgerOptions.observe). */
  readonly postgres = (op: string, seconds: number, error: unknown): void => this.observe('postgres', op, seconds, error);
}

function errorKind(e: unknown): (typeof ERROR_KINDS)[number] {
  return e instanceof StoreUnavailableError && !isReplyError(e) ? 'unavailable' : 'error';
}

/** A Redis link that times every call into `stats` (op: the script's name, or the command). */
export function observedLink(link: RedisLink, stats: StoreStats): RedisLink {
  const opOf = (args: ReadonlyArray<string | number>): string => {
    const command = String(args[0]).toUpperCase();
    if (command === 'EVALSHA') return bySha.get(String(args[1])) ?? 'other';
    if (command === 'EVAL') return bySource.get(String(args[1])) ?? 'lock';
    if (command === 'HMGET') return 'snapshot';
    if (command === 'SET') return 'lock';
    return 'other';
  };
  return {
    client: link.client,
    call: async (args) => {
      const t0 = performance.now();
      try {
        const r = await link.call(args);
        stats.observe('redis', opOf(args), (performance.now() - t0) / 1000, null);
        return r;
      } catch (e) {
        // NOSCRIPT is the script cache's miss, answered at once by EVAL: not a failure of the store.
        const noscript = e instanceof Error && e.message.startsWith('NOSCRIPT');
        stats.observe('redis', opOf(args), (performance.now() - t0) / 1000, noscript ? null : e);
        throw e;
      }
    },
    close: () => link.close(),
  };
}

/** Store calls that failed, per store, summed over the process's threads (a process's health answer). */
export function storeErrorTotals(sab: SharedArrayBuffer, threads: number): Record<Store, number> {
  const v = new Float64Array(sab);
  const out: Record<Store, number> = { redis: 0, postgres: 0 };
  for (let t = 0; t < threads; t++) {
    for (let s = 0; s < STORES.length; s++) {
      for (let k = 0; k < ERROR_KINDS.length; k++) out[STORES[s]] += v[t * BLOCK + ERRORS_AT + s * ERROR_KINDS.length + k];
    }
  }
  return out;
}

/** Prometheus text for the threads' blocks. */
export function renderStoreStats(sab: SharedArrayBuffer, threads: number): string {
  const v = new Float64Array(sab);
  const sum = (at: number) => {
    let n = 0;
    for (let t = 0; t < threads; t++) n += v[t * BLOCK + at];
    return n;
  };
  let out = '# HELP flashsale_store_round_trip_seconds Time of one call to a shared store, by store and operation.\n# TYPE flashsale_store_round_trip_seconds histogram\n';
  for (const store of STORES) {
    OPS[store].forEach((op, i) => {
      const at = OP_AT[store] + i * PER_OP;
      const count = sum(at + BOUNDS.length + 2);
      if (count === 0) return;
      const labels = `store="${store}",op="${op}"`;
      let cumulative = 0;
      for (let b = 0; b < BOUNDS.length; b++) {
        cumulative += sum(at + b);
        out += `flashsale_store_round_trip_seconds_bucket{${labels},le="${BOUNDS[b]}"} ${cumulative}\n`;
      }
      out += `flashsale_store_round_trip_seconds_bucket{${labels},le="+Inf"} ${count}\n`;
      out += `flashsale_store_round_trip_seconds_sum{${labels}} ${sum(at + BOUNDS.length + 1)}\n`;
      out += `flashsale_store_round_trip_seconds_count{${labels}} ${count}\n`;
    });
  }
  out += '# HELP flashsale_store_errors_total Calls to a shared store that failed, by store and kind (unavailable: no answer; error: the store answered with an error).\n# TYPE flashsale_store_errors_total counter\n';
  STORES.forEach((store, s) => {
    ERROR_KINDS.forEach((kind, k) => {
      out += `flashsale_store_errors_total{store="${store}",kind="${kind}"} ${sum(ERRORS_AT + s * ERROR_KINDS.length + k)}\n`;
    });
  });
  return out;
}

/** Sums per-thread commit-stats buffers (src/ledger/commit-stats.ts: every field adds up) into one. */
export function sumBuffers(parts: readonly SharedArrayBuffer[]): SharedArrayBuffer {
  const out = new SharedArrayBuffer(parts[0]?.byteLength ?? 0);
  const o = new Float64Array(out);
  for (const p of parts) {
    const v = new Float64Array(p);
    for (let i = 0; i < o.length; i++) o[i] += v[i];
  }
  return out;
}
