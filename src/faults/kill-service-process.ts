// `{ "at": "3s", "kill": "service-process", "process": 1, "downFor": "2s" }`: on a run of the service as
// N processes on the shared stores (`run --service-processes N`), SIGKILL one of them — its buyers'
// connections drop, the others keep selling — then after `downFor` start it again beside the others
// (`serve --join-port`) with `--rebuild-stock`: the holds the dead process left open go back on sale
// (docs/stores.md, "When a store fails"). The question: was every order any process acknowledged still
// in the shared ledger, and was nothing sold twice across the rebuild?
import { z } from 'zod';
import { at, downFor, durationMs } from './spec.ts';
import { FaultError } from '../errors.ts';
import type { FaultKind } from './kind.ts';

export const KillServiceProcessSpec = z
  .strictObject({
    at,
    kill: z.literal('service-process'),
    process: z.int().min(0).max(63).meta({ description: 'Index of the service process (0 to --service-processes − 1).' }),
    downFor,
  })
  .meta({ title: 'kill one service process', description: 'On `run --service-processes N`: SIGKILL one process, start it again beside the others with --rebuild-stock after downFor.' });
export type KillServiceProcess = z.output<typeof KillServiceProcessSpec>;

export const killServiceProcess: FaultKind<KillServiceProcess> = {
  id: 'kill-service-process',
  schema: KillServiceProcessSpec,
  matches: (spec) => 'kill' in spec && spec.kill === 'service-process',
  describe: (spec) => `kill -9 service process ${spec.process} at ${spec.at}, restart it with --rebuild-stock after ${spec.downFor}`,
  check(spec, setting, field) {
    if (setting.service === 'built-in') return []; // the run's flags decide: checked again then
    if (setting.service !== 'stores' || !setting.stores) return [`${field('kill')}: "service-process" kills one of the service's processes on the shared stores, and this run has none: run with --service-processes N --stock-store … --ledger postgres://…`];
    if (spec.process >= setting.stores.processes) return [`${field('process')}: the run has ${setting.stores.processes} service process(es), numbered 0 to ${setting.stores.processes - 1}`];
    return [];
  },
  downForMs: (spec) => durationMs(spec.downFor),
  resource: (spec) => `service process ${spec.process}`,
  async inject(spec, ctx) {
    const target = ctx.stores?.processes[spec.process];
    if (!target) throw new FaultError(`kill service process ${spec.process}: the run has ${ctx.stores?.processes.length ?? 0} service process(es) on the stores`);
    const killed = await target.kill();
    return {
      detail: { process: spec.process, pid: killed.pid, exit: killed.exit },
      async heal() {
        const restarted = await target.restart();
        return { restartedPid: restarted.pid, startMs: restarted.startMs, healthyMs: restarted.healthyMs, recovered: restarted.recovered };
      },
    };
  },
};
