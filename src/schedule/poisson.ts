// Poisson arrivals: independent buyers, exponential gaps with mean 1000 / rate ms.
import type * as Z from 'zod';
import { durationMs, k6Duration } from '../common/duration.ts';
import { exponential, mulberry32 } from '../common/random.ts';
import { scenarioFields, type Zod } from '../common/scenario-fields.ts';
import { count, secs } from './describe.ts';
import { positive, streamOf, type ArrivalShape } from './shape.ts';

const schema = (z: Zod) => {
  const f = scenarioFields(z);
  return z
    .strictObject({ executor: z.literal('poisson'), rate: z.number().positive().meta({ description: 'Mean arrivals per second.' }), duration: f.duration })
    .meta({ description: 'Poisson arrivals: exponential gaps with mean 1/rate.' });
};
type In = Z.output<ReturnType<typeof schema>>;
export type PoissonSpec = { type: 'poisson'; ratePerSec: number; durationMs: number };
type Spec = PoissonSpec;

export const poisson: ArrivalShape<In, Spec> = {
  type: 'poisson',
  model: 'open',
  schema,
  example: { executor: 'poisson', rate: 150, duration: '2s' },
  withDefaults: (a) => a,
  check: (a, at) => (durationMs(a.duration) <= 0 ? [`${at('duration')}: must be > 0`] : []),
  toSpec: (a) => ({ type: 'poisson', ratePerSec: a.rate, durationMs: durationMs(a.duration) }),
  describe: (a) => `poisson: ${count(a.rate)}/s for ${secs(a.duration)}`,
  // k6 has no Poisson executor: the same mean rate, evenly spaced.
  toK6: (a, k6) => ({
    exec: 'buyer',
    gracefulStop: k6.gracefulStop,
    executor: 'constant-arrival-rate',
    rate: Math.round(a.rate),
    timeUnit: '1s',
    duration: k6Duration(Math.min(durationMs(a.duration), k6.maxDurationMs)),
    preAllocatedVUs: k6.preAllocatedVUs,
    maxVUs: k6.vusFor(a.rate),
  }),

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
