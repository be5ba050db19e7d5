// Poisson arrivals: independent buyers, exponential gaps with mean 1000 / ratePerSec.
import type { ArrivalSpec } from '../contract/load-plan.ts';
import { exponential, mulberry32 } from '../shared/random.ts';
import { positive, streamOf, type ArrivalShape } from './base.ts';

type Spec = Extract<ArrivalSpec, { type: 'poisson' }>;

export const poisson: ArrivalShape<Spec> = {
  type: 'poisson',
  model: 'open',
  create(spec, seed) {
    const rng = mulberry32(seed);
    const meanGapMs = 1000 / spec.ratePerSec;
    let t = 0;
    return streamOf(() => {
      t += exponential(rng, meanGapMs);
      return t < spec.durationMs ? t : Infinity;
    });
  },
  expectedArrivals: (spec) => Math.round((spec.ratePerSec * spec.durationMs) / 1000),
  scheduleEndMs: (spec) => spec.durationMs,
  validate: (spec) => [...positive('ratePerSec', spec.ratePerSec), ...positive('durationMs', spec.durationMs)],
};
