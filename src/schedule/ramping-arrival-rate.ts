// k6's ramping-arrival-rate: the rate moves linearly from one stage's target to the next. The i-th
// buyer starts when the integral of the rate reaches i, solved per stage in closed form.
import type { ArrivalSpec } from '../contract/load-plan.ts';
import { nonNegative, positive, streamOf, type ArrivalShape } from './base.ts';

type Spec = Extract<ArrivalSpec, { type: 'ramping-arrival-rate' }>;

/** Arrivals in a stage of `durationMs` whose rate goes from r0 to r1 per ms. */
function stageArrivals(r0: number, r1: number, durationMs: number): number {
  return ((r0 + r1) / 2) * durationMs;
}

export const rampingArrivalRate: ArrivalShape<Spec> = {
  type: 'ramping-arrival-rate',
  model: 'open',
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
