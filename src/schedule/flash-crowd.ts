// The flash crowd: `registered` buyers wait for the sale and click at t0 plus a lognormal reaction
// time; `latecomers` arrive from t0 on with a rate that decays exponentially (mean delay `decay`).
// Both are generated already sorted (order statistics of uniforms through the inverse CDF), then merged.
// k6 has no such executor: it gets ramping-arrival-rate stages that follow the crowd's expected rate.
import type * as Z from 'zod';
import { durationMs, k6Duration } from '../common/duration.ts';
import { deriveSeed, inverseNormalCdf, mulberry32, sortedUniforms } from '../common/random.ts';
import { scenarioFields, type Zod } from '../common/scenario-fields.ts';
import { count, secs } from './describe.ts';
import { nonNegative, positive, streamOf, type ArrivalShape } from './shape.ts';

const LATECOMERS = { count: 0, decay: '30s' };

const schema = (z: Zod) => {
  const f = scenarioFields(z);
  return z
    .strictObject({
      executor: z.literal('flash-crowd'),
      registered: f.count.meta({ description: 'Buyers waiting at sale open; each clicks once.' }),
      reaction: z.strictObject({
        median: f.duration.meta({ description: 'Median delay from sale open to a waiting buyer’s click.' }),
        sigma: z.number().positive().max(5).meta({ description: 'Spread of the lognormal reaction time (log-space standard deviation).' }),
      }),
      latecomers: z
        .strictObject({
          count: f.count.default(LATECOMERS.count),
          decay: f.duration.default(LATECOMERS.decay).meta({ description: 'Latecomer arrival rate decays as exp(-t/decay).' }),
        })
        .prefault({}),
    })
    .meta({ description: 'A crowd waiting for the sale: lognormal reaction times, then an exponentially fading tail of latecomers.' });
};
type In = Z.output<ReturnType<typeof schema>>;
export type FlashCrowdSpec = {
  type: 'flash-crowd';
  /** Registered buyers who are waiting at sale open. */
  registered: number;
  /** Delay from sale open to each registered buyer's click: lognormal(median, sigma). */
  reaction: { medianMs: number; sigma: number };
  /** Buyers who arrive after the crowd: `count` arrivals whose rate decays exponentially with `decayMs`. */
  latecomers: { count: number; decayMs: number };
};
type Spec = FlashCrowdSpec;

export function isFlashCrowd(spec: { type: string }): spec is FlashCrowdSpec {
  return spec.type === 'flash-crowd';
}

export const flashCrowd: ArrivalShape<In, Spec> = {
  type: 'flash-crowd',
  model: 'open',
  schema,
  example: { executor: 'flash-crowd', registered: 500, reaction: { median: '400ms', sigma: 0.6 }, latecomers: { count: 50, decay: '2s' } },
  withDefaults: (a) => ({ ...a, latecomers: { ...LATECOMERS, ...a.latecomers } }),
  check(a, at) {
    const problems: string[] = [];
    if (a.registered + a.latecomers.count === 0) problems.push(`${at('registered')}: the crowd and the latecomers are both 0, nobody would arrive`);
    if (durationMs(a.reaction.median) <= 0) problems.push(`${at('reaction', 'median')}: must be > 0`);
    if (a.latecomers.count > 0 && durationMs(a.latecomers.decay) <= 0) problems.push(`${at('latecomers', 'decay')}: must be > 0`);
    return problems;
  },
  toSpec: (a) => ({
    type: 'flash-crowd',
    registered: a.registered,
    reaction: { medianMs: durationMs(a.reaction.median), sigma: a.reaction.sigma },
    latecomers: { count: a.latecomers.count, decayMs: durationMs(a.latecomers.decay) },
  }),
  describe(a) {
    const late = a.latecomers.count > 0 ? ` + ${count(a.latecomers.count)} latecomers` : '';
    return `flash-crowd: ${count(a.registered)} waiting (median click ${secs(a.reaction.median)})${late}`;
  },
  toK6(a, k6) {
    const { startRate, timeUnit, stages, peakPerSec } = flashCrowdStages(this.toSpec(a), k6.maxDurationMs);
    return { exec: 'buyer', gracefulStop: k6.gracefulStop, executor: 'ramping-arrival-rate', startRate, timeUnit, stages, preAllocatedVUs: k6.preAllocatedVUs, maxVUs: k6.vusFor(peakPerSec) };
  },

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

// ---- k6: stages that follow the crowd's expected arrival rate -------------------------------------

/** Standard normal CDF (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(z: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(z / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** Expected arrivals of a flash crowd by time t (ms after open): lognormal clicks + fading latecomers. */
export function flashCrowdArrivedBy(spec: Spec, t: number): number {
  if (t <= 0) return 0;
  const crowd = spec.registered * normalCdf(Math.log(t / spec.reaction.medianMs) / spec.reaction.sigma);
  const { count: late, decayMs } = spec.latecomers;
  return crowd + (late > 0 ? late * (1 - Math.exp(-t / decayMs)) : 0);
}

/** Expected arrival rate (per ms) of a flash crowd at t ms after open: the derivative of flashCrowdArrivedBy. */
export function flashCrowdRate(spec: Spec, t: number): number {
  const { count: lateCount, decayMs } = spec.latecomers;
  const late = lateCount > 0 ? (lateCount / decayMs) * Math.exp(-t / decayMs) : 0;
  if (t <= 0) return late;
  const { medianMs, sigma } = spec.reaction;
  const z = Math.log(t / medianMs) / sigma;
  return (spec.registered * Math.exp(-(z * z) / 2)) / (t * sigma * Math.sqrt(2 * Math.PI)) + late;
}

/** Stages for the crowd itself and for the latecomers' tail after it (fine where the rate changes fast). */
const CROWD_STAGES = 60;
const TAIL_STAGES = 20;

function sliceFor(span: number, stages: number): number {
  return Math.max(100, Math.ceil(span / stages / 100) * 100);
}

/**
 * ramping-arrival-rate stages whose rate follows the crowd's expected arrival rate: k6 ramps
 * linearly between stage targets, so targets are the rate at each slice's end (the trapezoid rule).
 */
export function flashCrowdStages(spec: Spec, maxDurationMs: number): { startRate: number; timeUnit: string; stages: Array<{ duration: string; target: number }>; peakPerSec: number } {
  const { medianMs, sigma } = spec.reaction;
  const { count: lateCount, decayMs } = spec.latecomers;
  // Until 99.9% of the crowd has clicked (z = 3.09) and the latecomers are down to 0.1%.
  const crowdEnd = Math.min(spec.registered > 0 ? medianMs * Math.exp(3.09 * sigma) : 0, maxDurationMs);
  const horizon = Math.min(Math.max(crowdEnd, lateCount > 0 ? decayMs * Math.log(1000) : 0), maxDurationMs);
  const perSec = (t: number) => flashCrowdRate(spec, t) * 1000;
  const stages: Array<{ duration: string; target: number }> = [];
  let peak = perSec(0);
  let t = 0;
  for (const [end, slice] of [
    [crowdEnd, sliceFor(crowdEnd, CROWD_STAGES)],
    [horizon, sliceFor(horizon - crowdEnd, TAIL_STAGES)],
  ]) {
    while (t < end - 1) {
      const step = Math.min(slice, Math.max(100, end - t));
      t += step;
      const r = perSec(t);
      peak = Math.max(peak, r);
      stages.push({ duration: k6Duration(step), target: Math.round(r) });
    }
  }
  return { startRate: Math.round(perSec(0)), timeUnit: '1s', stages, peakPerSec: peak };
}
