// The stock lab: the same crowd of buyers raced through each stock design, in-process and on real stores,
// so a student sees where each one hits its wall and an engineer sees the ratio to the hardware's line.

export type LabDesignName = 'leased' | 'redis-lua' | 'redis-lua-batched' | 'redis-leased' | 'pg-row' | 'pg-sharded';
export const LAB_DESIGNS: readonly LabDesignName[] = ['leased', 'redis-lua', 'redis-lua-batched', 'redis-leased', 'pg-row', 'pg-sharded'];

/** One stock design under test: one SKU, takes of one unit. */
export interface LabDesign {
  readonly name: LabDesignName;
  /** Puts `stock` units on sale (replacing whatever the design held). */
  setup(stock: number): Promise<void>;
  /** True: a unit was taken; false: sold out. */
  take(buyer: number): Promise<boolean>;
  /** What the design says it holds now: units sold and still available. */
  snapshot(): Promise<{ sold: number; available: number }>;
  close(): Promise<void>;
}

export interface LabEnv {
  redisUrl: string;
  postgresUrl: string;
  /** Key prefix / schema name for this run's data (dropped at close). */
  name: string;
  /** pg-row and pg-sharded: connections in the pool (the pgbench line uses the same -c). */
  pgConnections: number;
  /** pg-sharded: rows per SKU. */
  shards: number;
}
