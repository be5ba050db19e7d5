// The stock lab's designs by name (bench:stores races them; see docs/stores.md "The stock lab").
import { LeasedLab } from './leased.ts';
import { PgRowLab, PgShardedLab } from './postgres.ts';
import { RedisLeasedLab, RedisLuaLab } from './redis.ts';
import type { LabDesign, LabDesignName, LabEnv } from './types.ts';

export { LAB_DESIGNS, type LabDesign, type LabDesignName, type LabEnv } from './types.ts';
export { race, type RaceOptions, type RaceResult } from './race.ts';

export function labDesign(name: LabDesignName, env: LabEnv): LabDesign {
  switch (name) {
    case 'leased':
      return new LeasedLab();
    case 'redis-lua':
      return new RedisLuaLab(env, false);
    case 'redis-lua-batched':
      return new RedisLuaLab(env, true);
    case 'redis-leased':
      return new RedisLeasedLab(env);
    case 'pg-row':
      return new PgRowLab(env);
    case 'pg-sharded':
      return new PgShardedLab(env);
  }
}

/** Which hardware line a design is compared with. */
export function lineOf(name: LabDesignName): 'redis-evalsha' | 'pgbench-row' | null {
  if (name.startsWith('redis')) return 'redis-evalsha';
  if (name.startsWith('pg')) return 'pgbench-row';
  return null;
}
