// The flash crowd: `registered` buyers wait for the sale and click at t0 plus a lognormal reaction
// time; `latecomers` arrive from t0 on with a rate that decays exponentially (mean delay decayMs).
// Both are generated already sorted (order statistics of uniforms through the inverse CDF), then merged.
import type { ArrivalSpec } from '../contract/load-plan.ts';
import { deriveSeed, inverseNormalCdf, mulberry32, sortedUniforms } from '../shared/random.ts';
import { nonNegative, positive, streamOf, type ArrivalShape } from './base.ts';

type Spec = Extract<ArrivalSpec, { type: 'flash-crowd' }>;

export const flashCrowd: ArrivalShape<Spec> = {
  type: 'flash-crowd',
  model: 'open',
  create(spec, seed) {
    const crowdU = sortedUniforms(mulberry32(deriveSeed(seed, 1)), spec.registered);
    const lateU = sortedUniforms(mulberry32(deriveSeed(seed, 2)), spec.latecomers.count);
    const { medianMs, sigma } = spec.reaction;
    const crowd = () => {
      const u = crowdU();
      return Number.isNaN(u) ? Infinity : medianMs * Math.exp(sigma * inverseNormalCdf(u));
    };
    const late = () => {
      const u = lateU();
      return Number.isNaN(u) ? Infinity : -spec.latecomers.decayMs * Math.log(1 - u);
    };
    let a = crowd();
    let b = late();
    return streamOf(() => {
      if (a <= b) {
        const t = a;
        a = crowd();
        return t;
      }
      const t = b;
      b = late();
      return t;
    });
  },
  expectedArrivals: (spec) => spec.registered + spec.latecomers.count,
  scheduleEndMs: () => Infinity,
  validate(spec) {
    const issues = [...nonNegative('registered', spec.registered), ...positive('reaction.medianMs', spec.reaction?.medianMs)];
    issues.push(...nonNegative('reaction.sigma', spec.reaction?.sigma));
    issues.push(...nonNegative('latecomers.count', spec.latecomers?.count), ...positive('latecomers.decayMs', spec.latecomers?.decayMs));
    if (spec.registered + (spec.latecomers?.count ?? 0) === 0) issues.push('arrival: flash-crowd needs registered or latecomers above 0');
    return issues;
  },
};
