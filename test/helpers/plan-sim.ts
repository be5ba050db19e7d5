// A plan on simulated steps for tests: levels whose capacities follow a known USL curve, each step
// passing below capacity with a p99 that climbs near it, on a virtual clock. No sockets, no sleeping.
import { createLatencyHistogram, encodeHistogram } from '../../src/common/histogram.ts';
import type { MeasuredStep } from '../../src/plan/judge.ts';
import type { PlanOptions } from '../../src/plan/run-plan.ts';
import type { RateProbe } from '../../src/plan/search.ts';
import { uslThroughput } from '../../src/plan/usl.ts';
import { loadScenario } from '../../src/scenario/index.ts';

export const USL = { sigma: 0.08, kappa: 0.02, lambda: 1000 };
const SERVICE_MS = 2;

/** A service time histogram around SERVICE_MS, with a p99 that grows as the rate nears capacity. */
function histogram(utilisation: number): string {
  const h = createLatencyHistogram();
  for (let i = 0; i < 1000; i++) h.recordValue(Math.round((SERVICE_MS + (i % 10) / 10) * 1000 * (i >= 990 ? 1 / Math.max(0.05, 1 - utilisation) : 1)));
  return encodeHistogram(h);
}

function simulatedLevel(capacity: number, clock: { t: number }): RateProbe<MeasuredStep> {
  return {
    estimate: () => ({ ms: 6000, requests: 1 }),
    async measure(rate, ctx) {
      clock.t += 6000;
      const u = rate / capacity;
      const enc = histogram(Math.min(u, 0.99));
      const p99 = (SERVICE_MS + 0.9) / Math.max(0.05, 1 - u);
      const pass = rate <= capacity;
      const p = { p50: SERVICE_MS + 0.4, p90: SERVICE_MS + 0.8, p99, p999: p99, max: p99, mean: SERVICE_MS + 0.45, count: 1000 };
      return {
        offeredRate: rate,
        verdict: pass ? 'pass' : 'fail',
        requests: Math.ceil(rate * 5),
        index: ctx.index,
        phase: ctx.phase,
        retry: ctx.retry,
        level: null,
        achievedRate: Math.min(rate, capacity),
        answeredPerSec: Math.min(rate, capacity),
        stepMs: 5000,
        measuredRequests: Math.ceil(rate * 5),
        errors: 0,
        errorRate: 0,
        latency: { corrected: p, uncorrected: p },
        generatorBound: false,
        generatorReason: null,
        thresholds: [],
        reasons: pass ? [] : ['did not keep up'],
        wallMs: 6000,
        startedAt: new Date(0).toISOString(),
        histograms: { checkout: { all: { corrected: enc, uncorrected: enc }, byOutcome: { success: { corrected: enc, uncorrected: enc } } } },
      };
    },
  };
}

export function simulatedPlanOptions(over: Partial<PlanOptions>): PlanOptions {
  const clock = { t: 0 };
  return {
    loaded: loadScenario('redmi-1s-india-2014'),
    targets: [],
    serviceThreads: [],
    stepMs: 5000,
    warmupMs: 1000,
    precision: 0.05,
    startRate: 100,
    maxRate: 1e6,
    maxTimeMs: 3_600_000,
    maxRequests: 1e12,
    slo: ['p(99)<200'],
    ledgerDir: null,
    clock: { now: () => clock.t },
    probeFactory: (level) => simulatedLevel(uslThroughput(level.n ?? 1, USL), clock),
    ...over,
  };
}

