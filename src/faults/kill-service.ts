// `{ "at": "3s", "kill": "service", "downFor": "2s" }`: SIGKILL the built-in service (its own process:
// no shutdown code runs, nothing is flushed, as in a crash), then after `downFor` start it again on the
// same ledger file and port, and wait until /healthz answers 200. The Jepsen question for a checkout:
// was every order it acknowledged before the kill still in the ledger after the restart?
import { z } from 'zod';
import { at, downFor, durationMs } from './spec.ts';
import { FaultError } from '../errors.ts';
import type { FaultKind } from './kind.ts';

export const KillServiceSpec = z
  .strictObject({
    at,
    kill: z.literal('service'),
    downFor,
  })
  .meta({ title: 'kill the service', description: 'SIGKILL the built-in service, restart it on the same ledger and port after downFor.' });
export type KillService = z.output<typeof KillServiceSpec>;

export const killService: FaultKind<KillService> = {
  id: 'kill-service',
  schema: KillServiceSpec,
  matches: (spec) => 'kill' in spec && spec.kill === 'service',
  describe: (spec) => `kill -9 the service at ${spec.at}, restart it after ${spec.downFor}`,
  check(_spec, setting, field) {
    if (setting.service === 'stores') return [`${field('kill')}: "service" kills the one built-in service on its SQLite ledger, and this run's service is ${setting.stores?.processes ?? 'N'} processes on the shared stores: kill one of them with {"kill": "service-process", "process": 0, "downFor": …}`];
    return setting.service === 'own-process' || setting.service === 'built-in' ? [] : [`${field('kill')}: "service" kills the built-in service, and this run's target is ${setting.service === 'none' ? 'not the built-in service' : 'the built-in service inside the harness (it must run as its own process)'}`];
  },
  downForMs: (spec) => durationMs(spec.downFor),
  resource: () => 'service',
  async inject(_spec, ctx) {
    const service = ctx.service;
    if (!service) throw new FaultError('kill service: no built-in service process to kill (the target is not the built-in service)');
    const killed = await service.kill();
    return {
      detail: { pid: killed.pid, exit: killed.exit },
      async heal() {
        const restarted = await service.restart();
        return { pid: restarted.pid, startMs: restarted.startMs, healthyMs: restarted.healthyMs, recovered: restarted.recovered };
      },
    };
  },
};
