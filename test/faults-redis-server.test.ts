// The run's own redis-server (src/faults/redis-server.ts): started on a free loopback port with nothing
// on disk, answers; a restart is SIGKILL and a new, empty server on the same port; stop leaves nothing
// running; a missing binary is a usage error naming --stock-store redis-server.
import { describe, expect, it } from 'vitest';
import { requireOrSkip } from './helpers/servers.ts';
import { redisServerInstalled } from './helpers/private-redis.ts';
import { findRedisServer, OwnRedisServer } from '../src/faults/redis-server.ts';
import { connectRedis } from '../src/stores/redis/link.ts';

const installed = redisServerInstalled();
requireOrSkip('redis-server', installed);

describe('findRedisServer', () => {
  it('names what it looked for when the binary does not run', () => {
    const found = findRedisServer({ REDIS_SERVER_BIN: '/nonexistent/redis-server' });
    expect(found.path).toBeNull();
    expect(found.looked).toMatch(/REDIS_SERVER_BIN=\/nonexistent\/redis-server did not run .*apt-get install redis-server/);
  });
});

describe.skipIf(!installed.ok)('OwnRedisServer', () => {
  it('starts empty on a free port, restarts empty on the same port, and stops', { timeout: 60_000 }, async () => {
    const server = await OwnRedisServer.start();
    try {
      const link = await connectRedis(server.url);
      await link.call(['SET', 'k', 'v']);
      await link.close();
      const firstPid = server.pid;
      const restarted = await server.restart();
      expect(restarted.pid).not.toBe(firstPid);
      const again = await connectRedis(server.url);
      expect(await again.call(['GET', 'k']), 'a restart keeps nothing').toBeNull();
      expect(await again.call(['CONFIG', 'GET', 'save'])).toEqual({ save: '' });
      await again.close();
    } finally {
      await server.stop();
    }
    expect(server.running).toBe(false);
    await expect(connectRedis(server.url)).rejects.toThrow(/unavailable/);
  });
});
