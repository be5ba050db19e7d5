// `{ "at": "3s", "kill": "thread", "thread": 1 }`: crash one HTTP thread of the built-in service the way
// an uncaught error does. The service's supervisor settles what the thread held and restarts it
// (docs/service.md, "A crashed HTTP thread"); the fault is healed when /healthz answers 200 again.
import { z } from 'zod';
import { at } from './spec.ts';
import { FaultError } from '../errors.ts';
import type { FaultKind } from './kind.ts';

/** How long the supervisor gets to restart the thread before the fault is recorded as not healed. */
export const THREAD_RESTART_TIMEOUT_MS = 30_000;

export const KillThreadSpec = z
  .strictObject({
    at,
    kill: z.literal('thread'),
    thread: z.int().min(0).max(63).meta({ description: 'Index of the HTTP thread (0 to threads − 1).' }),
  })
  .meta({ title: 'kill one HTTP thread', description: "Crash one of the built-in service's HTTP threads; its supervisor restarts it." });
export type KillThread = z.output<typeof KillThreadSpec>;

export const killThread: FaultKind<KillThread> = {
  id: 'kill-thread',
  schema: KillThreadSpec,
  matches: (spec) => 'kill' in spec && spec.kill === 'thread',
  describe: (spec) => `crash HTTP thread ${spec.thread} at ${spec.at}`,
  check(spec, setting, field) {
    if (setting.service === 'stores') return [`${field('kill')}: "thread" crashes a thread of the in-process service through its supervisor, which the service on the shared stores does not have: kill a whole process with {"kill": "service-process", …}`];
    if (setting.service === 'none') return [`${field('kill')}: "thread" crashes a thread of the built-in service, and this run's target is not the built-in service`];
    if (setting.threads !== null && spec.thread >= setting.threads) {
      return [`${field('thread')}: the service has ${setting.threads} HTTP thread(s), numbered 0 to ${setting.threads - 1}`];
    }
    return [];
  },
  downForMs: () => null,
  resource: () => 'service',
  async inject(spec, ctx) {
    const service = ctx.service;
    if (!service?.crashThread) throw new FaultError(`kill thread ${spec.thread}: this service offers no way to crash one of its threads`);
    if (spec.thread >= service.threads) throw new FaultError(`kill thread ${spec.thread}: the service has ${service.threads} HTTP thread(s)`);
    await service.crashThread(spec.thread);
    return {
      detail: { thread: spec.thread },
      async heal() {
        return { healthyMs: await service.waitHealthy(THREAD_RESTART_TIMEOUT_MS) };
      },
    };
  },
};
