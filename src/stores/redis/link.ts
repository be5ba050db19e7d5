// The one thing the stores need from a Redis client: send a command, get its reply. Two adapters, so the
// client benchmark (bench/stores-clients.ts) races both through the same code; the stores use
// connectRedis with the chosen client, node-redis (see docs/stores.md "Clients"). ioredis is a
// devDependency, loaded only when asked for.
//
// Both are set to fail fast while Redis is unreachable (no offline queue): a checkout must get a clear
// 503 from the service, not hang until Redis returns and then act on a stale decision.
//
// A Redis Cluster (redis+cluster://h1:p1,h2:p2) goes through node-redis's cluster client behind the same
// call(args): each command is routed by its key (EVALSHA/EVAL: the first of KEYS; others: args[1]), a
// multi-key DEL/UNLINK is split per key, and keyless commands (PING, SCAN…) go to any node. Every script
// and command here touches keys of one hash tag (keys.ts), so each lands whole on one slot.
import { createClient, createCluster, ErrorReply } from '@redis/client';
import { messageOf, StoreUnavailableError, StoreUrlError } from '../../errors.ts';
import { parseRedisUrl, redactUrl, type RedisClusterUrl } from '../url.ts';

export interface RedisLink {
  readonly client: 'node-redis' | 'ioredis';
  /** One command. Rejects with the server's error text (which starts with its code: NOSCRIPT, ERR…) or StoreUnavailableError. */
  call(args: ReadonlyArray<string | number>): Promise<unknown>;
  close(): Promise<void>;
  /** Set on a Redis Cluster: one sender per master, for a keyless command that sees only that node's keys (SCAN). */
  readonly masters?: () => Array<(args: ReadonlyArray<string | number>) => Promise<unknown>>;
}

export type RedisClientName = RedisLink['client'];
export const CHOSEN_REDIS_CLIENT: RedisClientName = 'node-redis';

export async function connectRedis(url: string, client: RedisClientName = CHOSEN_REDIS_CLIENT): Promise<RedisLink> {
  const { cluster } = parseRedisUrl(url);
  if (cluster !== null) {
    if (client !== 'node-redis') throw new StoreUrlError(`${redactUrl(url)}: a Redis Cluster is reached through node-redis only (ioredis is here for the client benchmark)`);
    return clusterLink(url, cluster);
  }
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

/** Commands that name no key: sent to any node. */
const KEYLESS = new Set(['PING', 'SCAN', 'SCRIPT', 'TIME', 'INFO', 'DBSIZE', 'CLUSTER', 'ECHO']);

/** The key a command is routed by: the first of KEYS for a script, else the first argument; undefined when it names none. */
export function routingKey(args: ReadonlyArray<string | number>): string | undefined {
  const command = String(args[0]).toUpperCase();
  if (command === 'EVALSHA' || command === 'EVAL' || command === 'EVALSHA_RO' || command === 'EVAL_RO') return Number(args[2]) > 0 ? String(args[3]) : undefined;
  if (KEYLESS.has(command) || args.length < 2) return undefined;
  return String(args[1]);
}

/**
 * A cluster that cannot serve the slot right now (a master down or just back: CLUSTERDOWN, TRYAGAIN,
 * MASTERDOWN, LOADING) answers with an error reply: it is the store being unavailable (503, retried), not
 * a script's answer.
 */
function clusterDown(e: unknown): e is Error {
  return isReplyError(e) && /^(CLUSTERDOWN|TRYAGAIN|MASTERDOWN|LOADING)\b/.test(e.message);
}

/** How often a cluster link reads the slots again while one of its nodes is reconnecting. */
const TOPOLOGY_REFRESH_MS = 1000;

async function clusterLink(url: string, c: RedisClusterUrl): Promise<RedisLink> {
  let ready = false;
  const socket = { connectTimeout: 2000, reconnectStrategy: (retries: number, cause: Error) => (ready ? Math.min(50 * 2 ** retries, 1000) : cause) };
  const cluster = createCluster({
    rootNodes: c.nodes.map((n) => ({ socket: { host: n.host, port: n.port } })),
    // While a node's connection is reconnecting, read the slots again every TOPOLOGY_REFRESH_MS (node-redis's
    // default waits 5 s): a replica promoted in place of a dead master is found sooner — the first 201
    // came 2.7 s (2.6–3.6) after a master's kill -9 instead of 5.6 s, 3 runs each (docs/stores.md "Failover").
    topologyRefreshOnReconnectionAttemptStrategy: TOPOLOGY_REFRESH_MS,
    // Every node's connection: fail fast as one server's (no offline queue; before the first connection
    // the cause stops the retries, once up reconnect in the background).
    defaults: {
      ...(c.username === '' ? {} : { username: c.username }),
      ...(c.password === '' ? {} : { password: c.password }),
      disableOfflineQueue: true,
      socket: c.tls ? { ...socket, tls: true as const } : socket,
    },
  });
  cluster.on('error', () => {});
  cluster.on('node-error', () => {});
  try {
    await cluster.connect();
    ready = true;
  } catch (e) {
    cluster.destroy();
    throw unavailable(url, e);
  }
  const send = (args: ReadonlyArray<string | number>): Promise<unknown> => cluster.sendCommand(routingKey(args), false, args.map(String));
  return {
    client: 'node-redis',
    call: async (args) => {
      try {
        const command = String(args[0]).toUpperCase();
        // One key per command: a cluster refuses a DEL whose keys are in different slots (CROSSSLOT).
        if ((command === 'DEL' || command === 'UNLINK') && args.length > 2) {
          const counts = await Promise.all(args.slice(1).map((key) => send([command, key])));
          return counts.reduce((sum: number, n) => sum + Number(n), 0);
        }
        return await send(args);
      } catch (e) {
        throw clusterDown(e) ? new StoreUnavailableError(`Redis Cluster at ${redactUrl(url)} cannot serve the slot now: ${e.message}`, undefined, { cause: e }) : unavailable(url, e);
      }
    },
    masters: () =>
      cluster.masters.map((m) => async (args: ReadonlyArray<string | number>) => {
        try {
          return await (await cluster.nodeClient(m)).sendCommand(args.map(String));
        } catch (e) {
          throw unavailable(url, e);
        }
      }),
    close: async () => {
      if (cluster.isOpen) await cluster.close().catch(() => cluster.destroy());
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

/** Deletes every key under `prefix` (SCAN, not KEYS: the server may be shared); on a cluster, on every master. For tests and the lab. */
export async function dropKeysUnder(url: string, prefix: string): Promise<void> {
  const link = await connectRedis(url);
  try {
    for (const onNode of link.masters?.() ?? [link.call]) {
      let cursor = '0';
      do {
        const [next, keys] = (await onNode(['SCAN', cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000])) as [string, string[]]; // SCAN answers [cursor, keys]
        if (keys.length > 0) await link.call(['UNLINK', ...keys]);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    await link.close();
  }
}
