// Every kind of fault, and the schema of a scenario's `faults` list built from them. To add a kind
// (as `restart: "redis"`, `stop: "postgres"` and `kill: "service-process"` were): one file exporting its FaultKind and
// schema, one line in FAULT_KINDS, and its schema in FaultSchema (a `kill: …` kind goes into Kill, whose
// `kill` value tells them apart; a new action field also goes into ACTIONS in spec.ts).
import { z } from 'zod';
import { exec, ExecSpec } from './exec.ts';
import type { FaultKind } from './kind.ts';
import { killService, KillServiceSpec } from './kill-service.ts';
import { killThread, KillThreadSpec } from './kill-thread.ts';
import { killServiceProcess, KillServiceProcessSpec } from './kill-service-process.ts';
import { network, NetworkSpec } from './network.ts';
import { restartRedis, RestartRedisSpec } from './restart-redis.ts';
import { stopPostgres, StopPostgresSpec } from './stop-postgres.ts';
import type { ACTIONS } from './spec.ts';

const Kill = z.discriminatedUnion('kill', [KillServiceSpec, KillThreadSpec, KillServiceProcessSpec]);

export const FaultSchema = z.union([Kill, ExecSpec, NetworkSpec, RestartRedisSpec, StopPostgresSpec]);

/** The schema for a fault with each action field: validate.ts picks it by the field a fault has, so a
 * mistake is reported against the form the user meant, not whichever form of the union it resembles. */
export const ACTION_SCHEMAS: Record<(typeof ACTIONS)[number], z.ZodType<FaultSpec>> = { kill: Kill, exec: ExecSpec, network: NetworkSpec, restart: RestartRedisSpec, stop: StopPostgresSpec };
/** One fault, validated, durations as written. */
export type FaultSpec = z.output<typeof FaultSchema>;
export type FaultSpecInput = z.input<typeof FaultSchema>;

export const MAX_FAULTS = 100;
export const FaultsSchema = z
  .array(FaultSchema)
  .max(MAX_FAULTS)
  .meta({ description: "Faults injected during the sale, each at its moment from the opening: kill the service, a thread or one of the service's processes on the stores, restart the run's own Redis, cut PostgreSQL off, run a command, or a network fault." });

// Each kind is only ever handed the specs its matches() accepts (kindOf), hence the widening cast.
export const FAULT_KINDS = [killService, killThread, killServiceProcess, exec, network, restartRedis, stopPostgres] as unknown as ReadonlyArray<FaultKind<FaultSpec>>;

export function kindOf(spec: FaultSpec): FaultKind<FaultSpec> {
  const kind = FAULT_KINDS.find((k) => k.matches(spec));
  if (!kind) throw new TypeError(`no fault kind for ${JSON.stringify(spec)}`);
  return kind;
}
