// k6's constant-arrival-rate: `rate` starts per `timeUnitMs`, evenly spaced, for `durationMs`.
import type { ArrivalSpec } from '../contract/load-plan.ts';
import { positive, streamOf, type ArrivalShape } from './base.ts';

type Spec = Extract<ArrivalSpec, { type: 'constant-arrival-rate' }>;

export const constantArrivalRate: ArrivalShape<Spec> = {
  type: 'constant-arrival-rate',
  model: 'open',
  create(spec) {
    const gapMs = spec.timeUnitMs / spec.rate;
    const count = this.expectedArrivals(spec);
    let i = 0;
    return streamOf(() => (i < count ? gapMs * i++ : Infinity));
  },
  expectedArrivals: (spec) => Math.floor((spec.durationMs * spec.rate) / spec.timeUnitMs + 1e-9),
  scheduleEndMs: (spec) => spec.durationMs,
  validate: (spec) => [...positive('rate', spec.rate), ...positive('timeUnitMs', spec.timeUnitMs), ...positive('durationMs', spec.durationMs)],
};
