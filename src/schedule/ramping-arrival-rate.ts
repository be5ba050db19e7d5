// k6's ramping-arrival-rate: the rate moves linearly from one stage's target to the next. The i-th
// buyer starts when the integral of the rate reaches i, solved per stage in closed form.
import type * as Z from 'zod';
import { durationMs, k6Duration } from '../common/duration.ts';
import { scenarioFields, type Zod } from '../common/scenario-fields.ts';
import { per, secs } from './describe.ts';
import { nonNegative, positive, streamOf, type ArrivalShape } from './shape.ts';

const schema = (z: Zod) => {
  const f = scenarioFields(z);
  return z
    .strictObject({
      executor: z.literal('ramping-arrival-rate'),
      startRate: z.number().nonnegative().default(0),
      timeUnit: f.timeUnit,
      stages: z.array(z.strictObject({ duration: f.duration, target: z.number().nonnegative() })).min(1),
    })
    .meta({ description: 'k6 ramping-arrival-rate: the rate moves linearly to each stage target over its duration.' });
};
type In = Z.output<ReturnType<typeof schema>>;
export type RampingArrivalRateSpec = { type: 'ramping-arrival-rate'; startRate: number; timeUnitMs: number; stages: Array<{ durationMs: number; target: number }> };
type Spec = RampingArrivalRateSpec;

/** Arrivals in a stage of `durationMs` whose rate goes from r0 to r1 per ms. */
function stageArrivals(r0: number, r1: number, durationMs: number): number {
  return ((r0 + r1) / 2) * durationMs;
}

export const rampingArrivalRate: ArrivalShape<In, Spec> = {
  type: 'ramping-arrival-rate',
  model: 'open',
  schema,
  example: { executor: 'ramping-arrival-rate', startRate: 0, stages: [{ duration: '1s', target: 300 }, { duration: '1s', target: 0 }] },
  withDefaults: (a) => ({ ...a, startRate: a.startRate ?? 0, timeUnit: a.timeUnit ?? '1s' }),
  check(a, at) {
    const problems: string[] = [];
    a.stages.forEach((st, i) => {
      if (durationMs(st.duration) <= 0) problems.push(`${at('stages', i, 'duration')}: must be > 0`);
    });
    if (a.startRate === 0 && a.stages.every((st) => st.target === 0)) problems.push(`${at('stages')}: every rate is 0, nobody would arrive`);
    return problems;
  },
  toSpec: (a) => ({
    type: 'ramping-arrival-rate',
    startRate: a.startRate,
    timeUnitMs: durationMs(a.timeUnit),
    stages: a.stages.map((s) => ({ durationMs: durationMs(s.duration), target: s.target })),
  }),
  describe(a) {
    const peak = Math.max(a.startRate, ...a.stages.map((s) => s.target));
    const total = a.stages.reduce((t, s) => t + durationMs(s.duration), 0);
    return `ramping-arrival-rate: ${a.stages.length} stage${a.stages.length === 1 ? '' : 's'}, peak ${per(peak, a.timeUnit)}, ${secs(total)}`;
  },
  toK6(a, k6) {
    const unitMs = durationMs(a.timeUnit);
    const stages = a.stages.map((st) => ({ duration: k6Duration(durationMs(st.duration)), target: st.target }));
    const peak = Math.max(a.startRate, ...stages.map((st) => st.target));
    return {
      exec: 'buyer',
      gracefulStop: k6.gracefulStop,
      executor: 'ramping-arrival-rate',
      startRate: a.startRate,
      timeUnit: k6Duration(unitMs),
      stages,
      preAllocatedVUs: k6.preAllocatedVUs,
      maxVUs: k6.vusFor((peak * 1000) / unitMs),
    };
  },

  create(spec) {
    const perMs = (rate: number) => rate / spec.timeUnitMs;
    let stage = 0;
    let stageStartMs = 0;
    let before = 0; // arrivals owed before the current stage (fractional)
    let r0 = perMs(spec.startRate);
    let i = 0;
    return streamOf(() => {
      while (stage < spec.stages.length) {
        const { durationMs, target } = spec.stages[stage];
        const r1 = perMs(target);
        const inStage = stageArrivals(r0, r1, durationMs);
        const need = i - before;
        if (need < inStage - 1e-9) {
          // Solve a·τ² + b·τ = need with a = (r1 - r0) / 2D, b = r0 (stable form, works for a < 0 and b = 0).
          const a = (r1 - r0) / (2 * durationMs);
          const disc = Math.sqrt(Math.max(0, r0 * r0 + 4 * a * need));
          const tau = need === 0 ? 0 : (2 * need) / (r0 + disc);
          i++;
          return stageStartMs + tau;
        }
        before += inStage;
        stageStartMs += durationMs;
        r0 = r1;
        stage++;
      }
      return Infinity;
    });
  },
  expectedArrivals(spec) {
    let total = 0;
    let r0 = spec.startRate / spec.timeUnitMs;
    for (const s of spec.stages) {
      const r1 = s.target / spec.timeUnitMs;
      total += stageArrivals(r0, r1, s.durationMs);
      r0 = r1;
    }
    return Math.ceil(total - 1e-9);
  },
  scheduleEndMs: (spec) => spec.stages.reduce((sum, s) => sum + s.durationMs, 0),
  validate(spec) {
    const issues = [...nonNegative('startRate', spec.startRate), ...positive('timeUnitMs', spec.timeUnitMs)];
    if (!Array.isArray(spec.stages) || spec.stages.length === 0) issues.push('arrival.stages must list at least one stage');
    else
      spec.stages.forEach((s, k) => {
        issues.push(...positive(`stages[${k}].durationMs`, s.durationMs), ...nonNegative(`stages[${k}].target`, s.target));
      });
    return issues;
  },
};
