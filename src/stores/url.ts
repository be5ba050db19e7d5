// --stock-store / --ledger URLs: checked here once, so a typo is a usage error naming the flag and the
// part that is wrong, never a connection error minutes later.
import { StoreUrlError } from '../errors.ts';

export interface RedisUrl {
  url: string;
  host: string;
  port: number;
  db: number;
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

/** redis://[user:pass@]host[:port][/db] (rediss:// for TLS). */
export function parseRedisUrl(text: string, flag = '--stock-store'): RedisUrl {
  const url = parse(flag, text, ['redis:', 'rediss:']);
  const path = url.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0 || db > 15) throw new StoreUrlError(`${flag} ${JSON.stringify(text)}: database "${path}" is not a number in 0..15`);
  return { url: url.href, host: url.hostname, port: port(flag, url, 6379), db };
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
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.href;
  } catch {
    return '(unparsable URL)';
  }
}
