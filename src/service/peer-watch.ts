// Peers of a sale on the shared stores watch each other's heartbeats, so a process killed with its holds
// in flight (checkouts waiting on payment, claimed pays, keys in progress) does not leave them held until
// some unrelated rebuild. Each serve process keeps an entry in one Redis hash — `<prefix>:s<sale>:peers`,
// peer → deadline in Redis's own clock (TIME), as redis-leased keeps its lease deadlines — renewed every
// PEER_RENEW_MS to now + PEER_TTL_MS. Every renewal also judges the others: entries past their deadline
// are removed in the same atomic step and returned to exactly one caller, which then runs the proven
// recovery, a rebuild of the stock from the ledger (store-links.ts, under the rebuild lock). The rebuild
// counts the ledger, so a unit of a committed order is never given back; the dead peer's uncommitted
// holds go back on sale and its in-flight keys answer again.
//
// The numbers: renewal every 500 ms, deadline 3 s ahead. A peer whose event loop (or whole process)
// stalls up to about 2.5 s — a 1 s GC pause, a busy machine — renews late but in time and is never judged.
// A killed peer is judged within 3.5 s of its last renewal, on the next renewal of any survivor.
// Why the main thread's heartbeat stands for the process: the HTTP threads own the holds, but they die
// with the process; a thread that dies alone is restarted and rebuilds by itself (on-stores.ts). The main
// thread does little else, so its timer is the one least likely to be late under load.
//
// A caller whose own entry had lapsed (it was stalled, cut off from Redis, or just started) only
// re-registers and judges nobody on that beat: after Redis was unreachable for everyone, every entry
// lapsed at once, and the first process back must not take its live peers for dead. A slow peer that was
// judged anyway is safe: the rebuild's stock-epoch fence refuses its orders in flight (503 stock_rebuilt,
// retried), and it re-registers at its next renewal. The limit: holds it takes between being judged and
// that next renewal, if it is then killed before renewing, wait for the next rebuild.
import { messageOf } from '../errors.ts';
import type { RedisLink } from '../stores/redis/link.ts';
import { RedisScript } from '../stores/redis/script.ts';
import type { LogLevel } from './log.ts';

export const PEER_TTL_MS = 3000;
export const PEER_RENEW_MS = 500;

/**
 * KEYS peers. ARGV me, ttlMs, mode: 'beat' (renew; judge the others unless my own entry had lapsed),
 * 'reap' (remove every lapsed entry: a rebuild is about to count the ledger after their deadline),
 * 'leave' (remove mine: a clean stop). Returns {status, peer1, overdueMs1, …}: status 'judged' or
 * 'fresh' (mine was missing or lapsed: nobody judged).
 */
const PEERS = new RedisScript(
  'peers',
  `
local key, me, ttl, mode = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
if mode == 'leave' then redis.call('HDEL', key, me); return {'left'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {'judged'}
if mode == 'beat' then
  local mine = redis.call('HGET', key, me)
  redis.call('HSET', key, me, now + ttl)
  if not mine or tonumber(mine) < now then return {'fresh'} end
end
local all = redis.call('HGETALL', key)
for i = 1, #all, 2 do
  local d = tonumber(all[i + 1])
  if all[i] ~= me and d < now then
    redis.call('HDEL', key, all[i])
    out[#out + 1] = all[i]
    out[#out + 1] = now - d
  end
end
return out
`,
);

export interface LapsedPeer {
  peer: string;
  /** How long past its deadline it was when judged (ms). */
  overdueMs: number;
}

export function peersKey(prefix: string, saleId: number): string {
  return `${prefix}:s${saleId}:peers`;
}

function lapsedOf(reply: unknown): LapsedPeer[] {
  const r = Array.isArray(reply) ? reply.map(String) : [];
  const out: LapsedPeer[] = [];
  for (let i = 1; i + 1 < r.length; i += 2) out.push({ peer: r[i], overdueMs: Number(r[i + 1]) });
  return out;
}

/** Removes every lapsed entry; called under the rebuild lock just before a rebuild, which covers them. */
export async function reapLapsedPeers(link: RedisLink, key: string): Promise<LapsedPeer[]> {
  return lapsedOf(await PEERS.run(link, [key], ['', PEER_TTL_MS, 'reap']));
}

export function describeLapsed(peers: readonly LapsedPeer[]): string {
  return peers.map((p) => `${p.peer} (no heartbeat for ${Math.round((PEER_TTL_MS + p.overdueMs) / 100) / 10} s)`).join(', ');
}

export interface PeerWatchOptions {
  link: RedisLink;
  /** peersKey(prefix, saleId). */
  key: string;
  /** This process's name among the peers: unique (host, port, pid, random). */
  me: string;
  ttlMs?: number;
  renewMs?: number;
  /** Peers this process judged lapsed (each is handed to exactly one process). */
  onLapsed(peers: LapsedPeer[]): void;
  log(level: LogLevel, message: string): void;
}

export class PeerWatch {
  readonly #o: Required<Omit<PeerWatchOptions, 'onLapsed' | 'log'>> & PeerWatchOptions;
  #timer: NodeJS.Timeout | null = null;
  #beating: Promise<void> | null = null;
  #failing = false;

  constructor(o: PeerWatchOptions) {
    this.#o = { ttlMs: PEER_TTL_MS, renewMs: PEER_RENEW_MS, ...o };
    // Room for several late renewals before a live peer could be judged (see the numbers above).
    if (!(this.#o.renewMs * 4 <= this.#o.ttlMs)) throw new RangeError(`peer renewal ${this.#o.renewMs} ms must be at most a quarter of the heartbeat TTL ${this.#o.ttlMs} ms`);
  }

  /** Registers now, then renews (and judges) every renewMs. */
  async start(): Promise<void> {
    await this.#beat();
    this.#timer = setInterval(() => {
      this.#beating ??= this.#beat().finally(() => (this.#beating = null));
    }, this.#o.renewMs);
    this.#timer.unref();
  }

  async #beat(): Promise<void> {
    let lapsed: LapsedPeer[];
    try {
      lapsed = lapsedOf(await PEERS.run(this.#o.link, [this.#o.key], [this.#o.me, this.#o.ttlMs, 'beat']));
      if (this.#failing) this.#o.log('info', 'peer heartbeat renewed again');
      this.#failing = false;
    } catch (e) {
      // Redis unreachable: the peers cannot judge this one either while it lasts (see "fresh" above).
      if (!this.#failing) this.#o.log('warn', `peer heartbeat not renewed (${messageOf(e)}): retrying every ${this.#o.renewMs} ms`);
      this.#failing = true;
      return;
    }
    if (lapsed.length > 0) this.#o.onLapsed(lapsed);
  }

  /** False while renewals fail (Redis unreachable). */
  get renewing(): boolean {
    return !this.#failing;
  }

  /** Stops renewing; `leave` removes this process's entry (a clean stop: nothing of it is left in flight). */
  async stop(leave: boolean): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#beating?.catch(() => {});
    if (leave) await PEERS.run(this.#o.link, [this.#o.key], [this.#o.me, this.#o.ttlMs, 'leave']).catch(() => {});
  }
}
