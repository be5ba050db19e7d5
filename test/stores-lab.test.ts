// The stock lab's designs are exact under a racing crowd: every unit sold once, the design's own count
// equal to the buyers' receipts, nobody told "sold out" while a unit was left. Correctness only: the
// speeds are bench:stores' business.
import { afterAll, describe, expect, it } from 'vitest';
import { labDesign, race, type LabDesignName, type LabEnv } from '../src/stock/lab/index.ts';
import { dropPgSchema, postgresAvailable, POSTGRES_URL, redisAvailable, REDIS_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';
import { dropRedisKeys } from './helpers/servers.ts';

const redis = await redisAvailable();
const postgres = await postgresAvailable();
requireOrSkip('Redis', redis);
requireOrSkip('PostgreSQL', postgres);

const env: LabEnv = { redisUrl: REDIS_URL, postgresUrl: POSTGRES_URL, name: uniqueName('fs_test_lab').toLowerCase(), pgConnections: 8, shards: 4 };
afterAll(async () => {
  if (redis.ok) await dropRedisKeys(env.name);
  if (postgres.ok) await dropPgSchema(env.name);
});

const crowd = { stock: 400, buyers: 700, concurrency: 32, seconds: 30 };

const cases: Array<[LabDesignName, boolean]> = [
  ['leased', true],
  ['redis-lua', redis.ok],
  ['redis-lua-batched', redis.ok],
  ['redis-leased', redis.ok],
  ['pg-row', postgres.ok],
  ['pg-sharded', postgres.ok],
];

describe('stock lab', () => {
  for (const [name, ok] of cases) {
    it.skipIf(!ok)(`${name}: sells exactly the stock to a crowd of 700 racing for 400 units`, async () => {
      const r = await race(labDesign(name, env), crowd);
      expect(r.why).toBe('');
      expect(r.exact).toBe(true);
      expect(r.sold).toBe(400);
      expect(r.soldOut).toBe(true);
      expect(r.timedOut).toBe(false);
    });
  }

  it('judges a design that oversells as not exact', async () => {
    let sold = 0;
    const broken = {
      name: 'leased' as const,
      setup: async () => {},
      take: async () => (sold++, true), // never refuses
      snapshot: async () => ({ sold, available: 0 }),
      close: async () => {},
    };
    const r = await race(broken, { stock: 10, buyers: 20, concurrency: 4, seconds: 5 });
    expect(r.exact).toBe(false);
    expect(r.why).toMatch(/oversold: 20 receipts for 10 units/);
  });
});
