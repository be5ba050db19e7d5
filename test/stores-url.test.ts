// --stock-store / --ledger URLs: a bad one is a usage error that names the flag and what is wrong.
import { describe, expect, it } from 'vitest';
import { hasPostgresScheme, hasRedisScheme, parsePostgresUrl, parseRedisUrl } from '../src/stores/url.ts';

import { EXIT, StoreUrlError } from '../src/errors.ts';

describe('store URLs', () => {
  it('tells a store URL by its scheme in any case, as URL parsing does (POSTGRES:// is no SQLite file name)', () => {
    for (const url of ['redis://h', 'REDIS://h', 'rediss://h', 'redis+cluster://h:1', 'Rediss+Cluster://h:1']) expect(hasRedisScheme(url), url).toBe(true);
    for (const url of ['memory', 'redis-server', 'postgres://h/db', 'redisx://h']) expect(hasRedisScheme(url), url).toBe(false);
    for (const url of ['postgres://h/db', 'POSTGRES://h/db', 'postgresql://h/db']) expect(hasPostgresScheme(url), url).toBe(true);
    for (const url of ['orders.db', 'postgres.db', 'redis://h', ':memory:']) expect(hasPostgresScheme(url), url).toBe(false);
  });

  it('reads redis:// with defaults and a database number', () => {
    expect(parseRedisUrl('redis://127.0.0.1')).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(parseRedisUrl('rediss://user:pw@cache.local:6380/3')).toMatchObject({ host: 'cache.local', port: 6380, db: 3 });
  });

  it('reads postgres:// and postgresql:// with defaults', () => {
    expect(parsePostgresUrl('postgres://127.0.0.1/test')).toMatchObject({ host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' });
    expect(parsePostgresUrl('postgresql://app:secret@db:6543/orders')).toMatchObject({ host: 'db', port: 6543, database: 'orders', user: 'app' });
  });

  it.each([
    ['--stock-store', () => parseRedisUrl('127.0.0.1:6379'), /--stock-store "127\.0\.0\.1:6379" is not a URL \(expected redis:\/\/host:port/],
    ['--stock-store', () => parseRedisUrl('http://cache:6379'), /scheme http: is not one of redis:, rediss:/],
    ['--stock-store', () => parseRedisUrl('redis://host/16'), /database "16" is not a number in 0\.\.15/],
    ['--stock-store', () => parseRedisUrl('redis://host:99999'), /is not a URL/],
    ['--stock-store', () => parseRedisUrl('not a url'), /--stock-store "not a url" is not a URL/],
    ['--ledger', () => parsePostgresUrl('postgres://db:5432'), /--ledger "postgres:\/\/db:5432" names no database/],
    ['--ledger', () => parsePostgresUrl('mysql://db/x'), /scheme mysql: is not one of postgres:, postgresql:/],
  ])('%s: refuses a bad URL with a usage error', (_flag, parse, message) => {
    let error: unknown;
    try {
      parse();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreUrlError);
    expect((error as StoreUrlError).exitCode).toBe(EXIT.usage);
    expect((error as Error).message).toMatch(message);
  });
});
