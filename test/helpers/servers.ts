// Tests that need a real server (Redis, PostgreSQL, later k6, chromium, toxiproxy) skip with the reason on
// a machine that lacks it — but not in CI: .ci/run sets FLASHSALE_CI=1, and there a missing server fails
// the run instead of passing it with tests quietly skipped. One rule, one helper:
//
//   const redis = await redisAvailable();
//   requireOrSkip('Redis', redis);
//   describe.skipIf(!redis.ok)('…', () => { … });
import { describe, it } from 'vitest';

export interface Availability {
  ok: boolean;
  /** Why not, when not ok: shown in the skip and in the CI failure. */
  reason: string;
}

export const REDIS_URL = process.env.FLASHSALE_TEST_REDIS ?? 'redis://127.0.0.1:6379';
export const POSTGRES_URL = process.env.FLASHSALE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

/** True when CI asked for every server-backed test to run (.ci/run exports FLASHSALE_CI=1). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.FLASHSALE_CI === '1';
}

/**
 * Declares what a test file needs. Absent and not in CI: prints the reason and registers a skipped
 * test that says it (so the skip shows in the run). Absent in CI: registers a test that fails with the
 * reason. Present: nothing. Call at the top level of a test file, next to describe.skipIf(!x.ok).
 */
export function requireOrSkip(name: string, availability: Availability, env: NodeJS.ProcessEnv = process.env): void {
  if (availability.ok) return;
  const why = `${name} is not available: ${availability.reason}`;
  if (inCi(env)) {
    describe(`requires ${name}`, () => {
      it(`${name} is available (FLASHSALE_CI=1: a missing server fails, it does not skip)`, () => {
        throw new Error(`${why}. .ci/run starts it; on a laptop unset FLASHSALE_CI to skip these tests.`);
      });
    });
    return;
  }
  console.warn(`skipping ${name} tests: ${why}`);
  describe(`requires ${name}`, () => {
    it.skip(`skipped: ${why}`, () => {});
  });
}

/** Connects with the chosen client and sends PING; never hangs past timeoutMs. */
export async function redisAvailable(url = REDIS_URL, timeoutMs = 2000): Promise<Availability> {
  const { connectRedis } = await import('../../src/stores/redis/link.ts');
  const attempt = (async (): Promise<Availability> => {
    const link = await connectRedis(url);
    try {
      const pong = await link.call(['PING']);
      return pong === 'PONG' ? { ok: true, reason: '' } : { ok: false, reason: `answered ${JSON.stringify(pong)} to PING` };
    } finally {
      await link.close();
    }
  })().catch((e: Error) => ({ ok: false, reason: e.message }));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Availability>((resolve) => (timer = setTimeout(() => resolve({ ok: false, reason: `no answer from ${url} within ${timeoutMs} ms` }), timeoutMs)));
  try {
    return await Promise.race([attempt, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Connects with the pg client and runs SELECT 1 (the probe must prove a login works, not only a port). */
export async function postgresAvailable(url = POSTGRES_URL, timeoutMs = 3000): Promise<Availability> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true, reason: '' };
  } catch (e) {
    const { redactUrl } = await import('../../src/stores/url.ts');
    return { ok: false, reason: `${redactUrl(url)}: ${(e as Error).message}` };
  } finally {
    await client.end().catch(() => {});
  }
}


/** A key prefix / schema name unique to this test run, so test files can share a server in parallel. */
export function uniqueName(stem: string): string {
  return `${stem}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Deletes every key under `prefix` (SCAN, not KEYS: other tests share the server). */
export async function dropRedisKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const { dropKeysUnder } = await import('../../src/stores/redis/link.ts');
  await dropKeysUnder(url, prefix);
}

/** One statement on a connection of its own: the rows it returned. */
export async function pgRows<T = Record<string, unknown>>(sql: string, params: unknown[] = [], url = POSTGRES_URL): Promise<T[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Drops a test's PostgreSQL schema and everything in it. */
export async function dropPgSchema(schema: string, url = POSTGRES_URL): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new RangeError(`schema ${schema}`);
  await pgRows(`DROP SCHEMA IF EXISTS ${schema} CASCADE`, [], url);
}
