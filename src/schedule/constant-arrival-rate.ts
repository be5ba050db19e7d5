// k6's constant-arrival-rate: `rate` starts per `timeUnit`, evenly spaced, for `duration`.
import type * as Z from 'zod';
import { durationMs, k6Duration } from '../common/duration.ts';
import { scenarioFields, type Zod } from '../common/scenario-fields.ts';
import { per, secs } from './describe.ts';
import { positive, streamOf, type ArrivalShape } from './shape.ts';

const schema = (z: Zod) => {
  const f = scenarioFields(z);
  return z
    .strictObject({ executor: z.literal('constant-arrival-rate'), rate: z.number().positive(), timeUnit: f.timeUnit, duration: f.duration })
    .meta({ description: 'k6 constant-arrival-rate: `rate` journeys started per `timeUnit`, evenly spaced.' });
};
type In = Z.output<ReturnType<typeof schema>>;
export type ConstantArrivalRateSpec = { type: 'constant-arrival-rate'; rate: number; timeUnitMs: number; durationMs: number };
type Spec = ConstantArrivalRateSpec;

export const constantArrivalRate: ArrivalShape<In, Spec> = {
  type: 'constant-arrival-rate',
  model: 'open',
  schema,
  example: { executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: '2s' },
  withDefaults: (a) => ({ ...a, timeUnit: a.timeUnit ?? '1s' }),
  check: (a, at) => (durationMs(a.duration) <= 0 ? [`${at('duration')}: must be > 0`] : []),
  toSpec: (a) => ({ type: 'constant-arrival-rate', rate: a.rate, timeUnitMs: durationMs(a.timeUnit), durationMs: durationMs(a.duration) }),
  describe: (a) => `constant-arrival-rate: ${per(a.rate, a.timeUnit)} for ${secs(a.duration)}`,
  toK6(a, k6) {
    const unitMs = durationMs(a.timeUnit);
    return {
      exec: 'buyer',
      gracefulStop: k6.gracefulStop,
      executor: 'constant-arrival-rate',
      rate: a.rate,
      timeUnit: k6Duration(unitMs),
      duration: k6Duration(Math.min(durationMs(a.duration), k6.maxDurationMs)),
      preAllocatedVUs: k6.preAllocatedVUs,
      maxVUs: k6.vusFor((a.rate * 1000) / unitMs),
    };
  },

  create(spec) {
    const gapMs = spec.timeUnitMs / spec.rate;
    const total = this.expectedArrivals(spec);
    let i = 0;
    return streamOf(() => (i < total ? gapMs * i++ : Infinity));
  },
  expectedArrivals: (spec) => Math.floor((spec.durationMs * spec.rate) / spec.timeUnitMs + 1e-9),
  scheduleEndMs: (spec) => spec.durationMs,
  validate: (spec) => [...positive('rate', spec.rate), ...positive('timeUnitMs', spec.timeUnitMs), ...positive('durationMs', spec.durationMs)],
};
