// k6's constant-vus, the closed model: `vus` users all start at t0; each starts its next journey a
// think time after its last one ended, until durationMs. The stream only gives the first starts;
// the engine schedules each user's next journey when the previous one ends.
import type { ArrivalSpec } from '../contract/load-plan.ts';
import { positive, streamOf, type ArrivalShape } from './base.ts';

type Spec = Extract<ArrivalSpec, { type: 'constant-vus' }>;

export const constantVus: ArrivalShape<Spec> = {
  type: 'constant-vus',
  model: 'closed',
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
};
