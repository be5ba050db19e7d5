// `{ "at": "3s", "restart": "redis", "downFor": "1s" }`: SIGKILL the run's own redis-server (`run
// --stock-store redis-server`), and after `downFor` start it again, empty, on the same port. The service
// processes answer 503 while it is away, then find the sale gone and rebuild the stock from the ledger
// (docs/stores.md, "Recovery: Redis keeps nothing"). Only a redis-server the run started itself: the
// machine's shared Redis is never killed, so the fault is refused before any load on a redis:// URL.
import { z } from 'zod';
import { at, downFor, durationMs } from './spec.ts';
import { FaultError } from '../errors.ts';
import type { FaultKind } from './kind.ts';

export const RestartRedisSpec = z
  .strictObject({
    at,
    restart: z.literal('redis'),
    downFor,
  })
  .meta({ title: 'restart Redis empty', description: 'On `run --service-processes N --stock-store redis-server`: SIGKILL the run\'s own redis-server, start it again empty after downFor.' });
export type RestartRedis = z.output<typeof RestartRedisSpec>;

export const restartRedis: FaultKind<RestartRedis> = {
  id: 'restart-redis',
  schema: RestartRedisSpec,
  matches: (spec) => 'restart' in spec && spec.restart === 'redis',
  describe: (spec) => `kill -9 the run's redis-server at ${spec.at}, start it again empty after ${spec.downFor}`,
  check(_spec, setting, field) {
    if (setting.service === 'built-in') return []; // the run's flags decide: checked again then
    if (setting.service !== 'stores' || !setting.stores) return [`${field('restart')}: "redis" restarts the Redis of the service on the shared stores, and this run has none: run with --service-processes N --stock-store redis-server --ledger postgres://…`];
    if (!setting.stores.ownRedis) return [`${field('restart')}: "redis" kills Redis, and this run's Redis is a redis:// URL that other programs may share: only a redis-server the run starts itself may be killed (--stock-store redis-server)`];
    return [];
  },
  downForMs: (spec) => durationMs(spec.downFor),
  resource: () => 'redis',
  async inject(_spec, ctx) {
    const redis = ctx.stores?.redis;
    if (!redis) throw new FaultError("restart redis: this run started no redis-server of its own (the machine's shared Redis is never killed)");
    const killed = await redis.kill();
    return {
      detail: { pid: killed.pid },
      async heal() {
        const started = await redis.restart();
        return { restartedPid: started.pid, startMs: started.startMs };
      },
    };
  },
};
