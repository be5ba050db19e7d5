// `{ "at": "3s", "stop": "postgres", "downFor": "1s" }`: cut the service processes off from PostgreSQL
// for `downFor`. The run puts a TCP gate (tcp-gate.ts) between the processes and the server when the
// scenario has this fault; the fault resets every connection through it and refuses new ones, then opens
// it again. The real server, which other programs share, is never stopped. The processes answer 503
// ledger_unavailable, keep the failed batch's units held, and rebuild the stock from the ledger once it
// is back (docs/stores.md, "When a store fails").
import { z } from 'zod';
import { at, downFor, durationMs } from './spec.ts';
import { FaultError } from '../errors.ts';
import type { FaultKind } from './kind.ts';

export const StopPostgresSpec = z
  .strictObject({
    at,
    stop: z.literal('postgres'),
    downFor,
  })
  .meta({ title: 'cut PostgreSQL off', description: 'On `run --service-processes N`: cut the processes off from PostgreSQL (through a TCP gate; the server itself keeps running) for downFor.' });
export type StopPostgres = z.output<typeof StopPostgresSpec>;

export const stopPostgres: FaultKind<StopPostgres> = {
  id: 'stop-postgres',
  schema: StopPostgresSpec,
  matches: (spec) => 'stop' in spec && spec.stop === 'postgres',
  describe: (spec) => `cut PostgreSQL off at ${spec.at} for ${spec.downFor}`,
  check(_spec, setting, field) {
    if (setting.service === 'built-in') return []; // the run's flags decide: checked again then
    if (setting.service !== 'stores') return [`${field('stop')}: "postgres" cuts the service on the shared stores off from its ledger, and this run has none: run with --service-processes N --stock-store … --ledger postgres://…`];
    return [];
  },
  downForMs: (spec) => durationMs(spec.downFor),
  resource: () => 'postgres',
  async inject(_spec, ctx) {
    const gate = ctx.stores?.postgresGate;
    if (!gate) throw new FaultError('stop postgres: the run put no gate between the service processes and PostgreSQL');
    await gate.cut();
    return {
      detail: { gatePort: gate.port },
      async heal() {
        await gate.open();
        return {};
      },
    };
  },
};
