// k6's constant-vus, the closed model: `vus` users all start at t0; each starts its next journey a
// think time after its last one ended, until `duration`. The stream only gives the first starts;
// the engine schedules each user's next journey when the previous one ends.
import type * as Z from 'zod';
import { durationMs, k6Duration } from '../common/duration.ts';
import { scenarioFields, type Zod } from '../common/scenario-fields.ts';
import { count, secs } from './describe.ts';
import { positive, streamOf, type ArrivalShape } from './shape.ts';

const schema = (z: Zod) => {
  const f = scenarioFields(z);
  return z
    .strictObject({ executor: z.literal('constant-vus'), vus: f.positiveCount, duration: f.duration })
    .meta({ description: 'Closed model (k6 constant-vus): each virtual user starts its next journey a think time after the last.' });
};
type In = Z.output<ReturnType<typeof schema>>;
export type ConstantVusSpec = { type: 'constant-vus'; vus: number; durationMs: number };
type Spec = ConstantVusSpec;

export const constantVus: ArrivalShape<In, Spec> = {
  type: 'constant-vus',
  model: 'closed',
  schema,
  example: { executor: 'constant-vus', vus: 5, duration: '1s' },
  withDefaults: (a) => a,
  check: (a, at) => (durationMs(a.duration) <= 0 ? [`${at('duration')}: must be > 0`] : []),
  toSpec: (a) => ({ type: 'constant-vus', vus: a.vus, durationMs: durationMs(a.duration) }),
  describe: (a) => `constant-vus: ${count(a.vus)} VUs for ${secs(a.duration)}`,
  toK6: (a, k6) => ({
    exec: 'buyer',
    gracefulStop: k6.gracefulStop,
    executor: 'constant-vus',
    vus: a.vus,
    duration: k6Duration(Math.min(durationMs(a.duration), k6.maxDurationMs)),
  }),

  create(spec) {
    let i = 0;
    return streamOf(() => (i++ < spec.vus ? 0 : Infinity));
  },
  expectedArrivals: (spec) => spec.vus,
  scheduleEndMs: (spec) => spec.durationMs,
  validate(spec) {
    const issues = [...positive('vus', spec.vus), ...positive('durationMs', spec.durationMs)];
    if (!Number.isInteger(spec.vus)) issues.push(`arrival.vus must be a whole number (got ${spec.vus})`);
    return issues;
  },
  users: (spec) => spec.vus,
};
