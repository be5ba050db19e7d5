// The worker's connections: `connections` clients of the plan's transport (undici's Client or the raw
// transport, one socket each, keep-alive, pipelining 1), handed out idle-first. When all are busy,
// requests wait here in FIFO order rather than in the clients' queues, so the engine knows when each
// request really left (and the wait shows in corrected latency).
// The one place the engine makes clients (openClient, src/load/transport/): nothing else in the engine
// knows which transport carries a request (sender.ts only calls dispatch()). It also counts the sockets
// the clients hold open, from the transports' 'connect'/'disconnect' events, for the interval series.
import { openClient, type TransportClient } from './transport/index.ts';

const BACKSTOP_MS = 1_000;

export interface ConnectionOptions {
  url: string;
  connections: number;
  timeoutMs: number;
  /** Absent: undici. */
  transport?: 'undici' | 'raw';
  /** Told each time one of the clients' sockets connects (true) or a connected one goes (false), from
   * the transports' 'connect'/'disconnect' events; no longer told once close() is called. */
  onConnection?: (up: boolean) => void;
}

export class Connections<T> {
  readonly clients: TransportClient[];
  /** What each connection is carrying now (null when idle). */
  readonly inFlight: Array<T | null>;
  readonly #idle: number[] = [];
  #waiting: T[] = [];
  #head = 0;
  #onConnection: ((up: boolean) => void) | null;
  /** Sockets connected now, over all clients. */
  open = 0;

  constructor(options: ConnectionOptions) {
    this.clients = [];
    this.inFlight = new Array<T | null>(options.connections).fill(null);
    this.#onConnection = options.onConnection ?? null;
    const connected = () => {
      this.open++;
      this.#onConnection?.(true);
    };
    const gone = () => {
      this.open--;
      this.#onConnection?.(false);
    };
    for (let i = 0; i < options.connections; i++) {
      const client = openClient(options.transport ?? 'undici', options.url, {
        pipelining: 1,
        // The engine times requests out itself (undici's timers tick about every half second, and
        // re-arming one per request costs throughput); only connecting keeps undici's timeout.
        headersTimeout: 0,
        bodyTimeout: 0,
        connectTimeout: options.timeoutMs + BACKSTOP_MS,
        keepAliveTimeout: 60_000,
        // The engine's handlers (journey.ts, warmup.ts) copy the few bodies they keep, so the raw
        // transport need not copy every chunk for them.
        chunkViews: true,
      });
      client.on('connect', connected);
      client.on('disconnect', gone);
      this.clients.push(client);
      this.#idle.push(options.connections - 1 - i);
    }
  }

  /** An idle connection's index, or -1 when all are busy. */
  acquire(): number {
    return this.#idle.length ? this.#idle.pop()! : -1; // length checked: pop() has an item
  }

  release(index: number): void {
    this.inFlight[index] = null;
    this.#idle.push(index);
  }

  wait(item: T): void {
    this.#waiting.push(item);
  }

  /** The longest-waiting item, or undefined. */
  nextWaiting(): T | undefined {
    if (this.#head >= this.#waiting.length) return undefined;
    const item = this.#waiting[this.#head];
    this.#waiting[this.#head++] = undefined as T; // clears the slot so the item can be collected; never read again
    // Compact now and then so the array does not keep every request that ever waited.
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  drainWaiting(each: (item: T) => void): void {
    for (let it = this.nextWaiting(); it !== undefined; it = this.nextWaiting()) each(it);
  }

  async close(): Promise<void> {
    // The generator closing its own connections after the run is not churn the target caused.
    this.#onConnection = null;
    await Promise.all(this.clients.map((c) => c.destroy().catch(() => undefined)));
  }
}
