// The one thing the stores need from a Redis client: send a command, get its reply. Two adapters, so the
// client benchmark (bench/stores-clients.ts) races both through the same code; the stores use
// connectRedis with the chosen client, node-redis (see docs/stores.md "Clients"). ioredis is a
// devDependency, loaded only when asked for.
//
// Both are set to fail fast while Redis is unreachable (no offline queue): a checkout must get a clear
// 503 from the service, not hang until Redis returns and then act on a stale decision.
import { createClient, ErrorReply } from '@redis/client';
import { messageOf, StoreUnavailableError } from '../../errors.ts';
import { parseRedisUrl, redactUrl } from '../url.ts';

export interface RedisLink {
  readonly client: 'node-redis' | 'ioredis';
  /** One command. Rejects with the server's error text (which starts with its code: NOSCRIPT, ERR…) or StoreUnavailableError. */
  call(args: ReadonlyArray<string | number>): Promise<unknown>;
  close(): Promise<void>;
}

export type RedisClientName = RedisLink['client'];
export const CHOSEN_REDIS_CLIENT: RedisClientName = 'node-redis';

export async function connectRedis(url: string, client: RedisClientName = CHOSEN_REDIS_CLIENT): Promise<RedisLink> {
  parseRedisUrl(url);
  return client === 'node-redis' ? nodeRedisLink(url) : ioredisLink(url);
}

/** A server error (the command ran and Redis said no) rather than a lost connection. */
export function isReplyError(e: unknown): e is Error {
  // ioredis is loaded only for the client benchmark (a devDependency): recognised by name.
  return e instanceof ErrorReply || (e instanceof Error && e.name === 'ReplyError');
}

function unavailable(url: string, e: unknown): Error {
  if (isReplyError(e)) return e;
  return new StoreUnavailableError(`Redis at ${redactUrl(url)} is unavailable: ${messageOf(e)}`, undefined, { cause: e });
}

async function nodeRedisLink(url: string): Promise<RedisLink> {
  let ready = false;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    // Once up, reconnect in the background (a restarted Redis comes back) but never queue commands
    // meanwhile; before the first connection, fail at once (returning the cause stops the retries).
    socket: { connectTimeout: 2000, reconnectStrategy: (retries: number, cause: Error) => (ready ? Math.min(50 * 2 ** retries, 1000) : cause) },
  });
  client.on('ready', () => (ready = true));
  // Without a listener an 'error' event would end the process; calls in flight reject on their own.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (e) {
    client.destroy();
    throw unavailable(url, e);
  }
  return {
    client: 'node-redis',
    call: (args) =>
      client.sendCommand(args.map(String)).catch((e: unknown) => {
        throw unavailable(url, e);
      }),
    close: async () => {
      if (client.isOpen) await client.close().catch(() => client.destroy());
    },
  };
}

async function ioredisLink(url: string): Promise<RedisLink> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: (retries: number) => (ready ? Math.min(50 * 2 ** retries, 1000) : null),
  });
  let ready = false;
  client.on('ready', () => (ready = true));
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    throw unavailable(url, e);
  }
  return {
    client: 'ioredis',
    call: ([command, ...rest]) =>
      client.call(String(command), ...rest.map(String)).catch((e: unknown) => {
        throw unavailable(url, e);
      }),
    close: async () => {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/** Deletes every key under `prefix` (SCAN, not KEYS: the server may be shared). For tests and the lab. */
export async function dropKeysUnder(url: string, prefix: string): Promise<void> {
  const link = await connectRedis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = (await link.call(['SCAN', cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000])) as [string, string[]]; // SCAN answers [cursor, keys]
      if (keys.length > 0) await link.call(['UNLINK', ...keys]);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await link.close();
  }
}
