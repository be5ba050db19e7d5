// --stock-store / --ledger URLs: checked here once, so a typo is a usage error naming the flag and the
// part that is wrong, never a connection error minutes later.
import { StoreUrlError } from '../errors.ts';

export interface RedisUrl {
  url: string;
  /** The server, or a Redis Cluster's first seed node. */
  host: string;
  port: number;
  db: number;
  /** redis+cluster://h1:p1,h2:p2: the seed nodes the client discovers the cluster from; null for one server. */
  cluster: RedisClusterUrl | null;
}

export interface RedisClusterUrl {
  nodes: Array<{ host: string; port: number }>;
  username: string;
  password: string;
  tls: boolean;
}

/** redis+cluster:// (rediss+cluster:// for TLS), seed nodes separated by commas. */
const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(.*)$/i;

export function isRedisClusterUrl(text: string): boolean {
  return CLUSTER_URL.test(text);
}

/** Names a Redis server or cluster by its scheme (redis:, rediss:, redis+cluster:, rediss+cluster:; any case); parseRedisUrl checks the rest. */
export function hasRedisScheme(text: string): boolean {
  return /^rediss?(\+cluster)?:/i.test(text);
}

/** Names a PostgreSQL server by its scheme (postgres:, postgresql:; any case, as URL parsing lowercases it); parsePostgresUrl checks the rest. */
export function hasPostgresScheme(text: string): boolean {
  return /^postgres(ql)?:/i.test(text);
}

export interface PostgresUrl {
  url: string;
  host: string;
  port: number;
  database: string;
  user: string;
}

function parse(flag: string, text: string, schemes: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new StoreUrlError(`${flag} ${JSON.stringify(text)} is not a URL (expected ${schemes[0]}//host:port/…)`);
  }
  if (!schemes.includes(url.protocol)) {
    throw new StoreUrlError(`${flag} ${JSON.stringify(text)}: scheme ${url.protocol} is not one of ${schemes.join(', ')}`);
  }
  if (url.hostname === '') throw new StoreUrlError(`${flag} ${JSON.stringify(text)} names no host`);
  return url;
}

function port(flag: string, url: URL, fallback: number): number {
  if (url.port === '') return fallback;
  const n = Number(url.port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new StoreUrlError(`${flag}: port ${url.port} is not in 1..65535`);
  return n;
}

/** redis://[user:pass@]host[:port][/db] (rediss:// for TLS), or a cluster: redis+cluster://[user:pass@]host:port[,host:port…]. */
export function parseRedisUrl(text: string, flag = '--stock-store'): RedisUrl {
  if (isRedisClusterUrl(text)) return parseClusterUrl(text, flag);
  const url = parse(flag, text, ['redis:', 'rediss:']);
  const path = url.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0 || db > 15) throw new StoreUrlError(`${flag} ${JSON.stringify(text)}: database "${path}" is not a number in 0..15`);
  return { url: url.href, host: url.hostname, port: port(flag, url, 6379), db, cluster: null };
}

function parseClusterUrl(text: string, flag: string): RedisUrl {
  const [, scheme, auth, hosts, path, rest] = CLUSTER_URL.exec(text)!; // isRedisClusterUrl matched it
  const shown = JSON.stringify(redactUrl(text));
  const form = 'redis+cluster://host:port[,host:port…]';
  if (path !== '' && path !== '/' && path !== '/0') throw new StoreUrlError(`${flag} ${shown}: a Redis Cluster has only database 0 (path "${path}"; expected ${form})`);
  if (rest !== '') throw new StoreUrlError(`${flag} ${shown}: a cluster URL takes no query or fragment (expected ${form})`);
  const nodes = hosts.split(',').map((node) => {
    if (node === '') throw new StoreUrlError(`${flag} ${shown} names an empty node (expected ${form})`);
    let url: URL;
    try {
      url = new URL(`redis://${node}`);
    } catch {
      throw new StoreUrlError(`${flag} ${shown}: node ${JSON.stringify(node)} is not host:port (expected ${form})`);
    }
    if (url.hostname === '' || url.username !== '' || url.pathname !== '') throw new StoreUrlError(`${flag} ${shown}: node ${JSON.stringify(node)} is not host:port (expected ${form})`);
    return { host: url.hostname, port: port(flag, url, 6379) };
  });
  let username = '';
  let password = '';
  if (auth !== undefined) {
    const colon = auth.indexOf(':');
    try {
      username = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon));
      password = colon < 0 ? '' : decodeURIComponent(auth.slice(colon + 1));
    } catch {
      throw new StoreUrlError(`${flag} ${shown}: the user or password is not valid percent-encoding (expected ${form})`);
    }
  }
  return { url: text, host: nodes[0].host, port: nodes[0].port, db: 0, cluster: { nodes, username, password, tls: scheme.toLowerCase() === 'rediss' } };
}

/** postgres://[user[:pass]@]host[:port]/database (postgresql:// too). */
export function parsePostgresUrl(text: string, flag = '--ledger'): PostgresUrl {
  const url = parse(flag, text, ['postgres:', 'postgresql:']);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) throw new StoreUrlError(`${flag} ${JSON.stringify(text)} names no database (postgres://host:5432/NAME)`);
  return { url: url.href, host: url.hostname, port: port(flag, url, 5432), database, user: decodeURIComponent(url.username) || 'postgres' };
}

/** A store URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  const cluster = CLUSTER_URL.exec(url);
  if (cluster !== null) {
    const auth = cluster[2];
    const colon = auth?.indexOf(':') ?? -1;
    return auth === undefined || colon < 0 ? url : url.replace(`${auth}@`, `${auth.slice(0, colon)}:***@`);
  }
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.href;
  } catch {
    return '(unparsable URL)';
  }
}
