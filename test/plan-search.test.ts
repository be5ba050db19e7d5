// The rate search on a virtual clock against a simulated target: no sleeping, no sockets. Each probe
// step "takes" stepMs of virtual time; the target passes a step when the rate is below its capacity,
// and the generator makes a step inconclusive above its own limit.
import { describe, expect, it } from 'vitest';
import { niceRate, searchRate, SEARCH_DEFAULTS, type RateProbe, type SearchOptions, type StepContext, type StepOutcome } from '../src/plan/search.ts';

interface SimStep extends StepOutcome {
  context: StepContext;
}

function simulatedTarget(options: { capacity: number; generatorLimit?: number; stepMs?: number; flakyGeneratorOnce?: number[] }) {
  const clock = { t: 0, now: () => clock.t };
  const stepMs = options.stepMs ?? 4000;
  const flaky = new Set(options.flakyGeneratorOnce ?? []);
  const probe: RateProbe<SimStep> = {
    estimate: (rate) => ({ ms: stepMs, requests: Math.ceil((rate * stepMs) / 1000) }),
    async measure(rate, context) {
      clock.t += stepMs;
      const requests = Math.ceil((rate * stepMs) / 1000);
      let verdict: StepOutcome['verdict'] = rate <= options.capacity ? 'pass' : 'fail';
      if (options.generatorLimit !== undefined && rate >= options.generatorLimit) verdict = 'inconclusive';
      if (flaky.has(rate)) {
        flaky.delete(rate);
        verdict = 'inconclusive';
      }
      return { offeredRate: rate, verdict, requests, context };
    },
  };
  return { clock, probe };
}

const options = (over: Partial<SearchOptions> = {}): SearchOptions => ({ ...SEARCH_DEFAULTS, maxTimeMs: 3_600_000, maxRequests: 1e12, ...over });

describe('rate search', () => {
  it('grows geometrically until a step fails, then bisects to the precision', async () => {
    const { clock, probe } = simulatedTarget({ capacity: 5_432 });
    const r = await searchRate(probe, options(), clock);
    const rates = r.steps.map((s) => s.offeredRate);
    expect(rates.slice(0, 8)).toEqual([100, 200, 400, 800, 1600, 3200, 6400, niceRate(Math.sqrt(3200 * 6400), 3200, 6400)]);
    expect(r.steps.slice(0, 7).map((s) => s.context.phase)).toEqual(['grow', 'grow', 'grow', 'grow', 'grow', 'grow', 'grow']);
    expect(r.steps.at(-1)!.context.phase).toBe('bisect');
    expect(r.stoppedBy).toBe('precision');
    expect(r.atLeast).toBe(false);
    // The answer passed, the bracket's top failed, and they are within ±5 %.
    expect(r.sustainableRate!).toBeLessThanOrEqual(5_432);
    expect(r.failedRate!).toBeGreaterThan(5_432);
    expect(r.failedRate!).toBeLessThanOrEqual(r.sustainableRate! * 1.05);
    // Bisection halves the log-ratio each step: 6400/3200 = 2 → within 1.05 in 4–5 steps.
    expect(r.steps.length).toBeLessThanOrEqual(7 + 5);
  });

  it('honours a tighter precision', async () => {
    const { clock, probe } = simulatedTarget({ capacity: 777 });
    const r = await searchRate(probe, options({ precision: 0.01 }), clock);
    expect(r.failedRate! / r.sustainableRate!).toBeLessThanOrEqual(1.01);
    expect(r.sustainableRate!).toBeLessThanOrEqual(777);
    expect(r.sustainableRate!).toBeGreaterThan(777 / 1.01);
  });

  it('never blames the target for the generator: an inconclusive step is measured again, then the search looks below it', async () => {
    const { clock, probe } = simulatedTarget({ capacity: 50_000, generatorLimit: 3_000 });
    const r = await searchRate(probe, options(), clock);
    expect(r.stoppedBy).toBe('generator');
    expect(r.atLeast).toBe(true);
    expect(r.failedRate).toBeNull(); // nothing was held against the target
    expect(r.steps.slice(5, 7).map((s) => [s.offeredRate, s.verdict, s.context.retry])).toEqual([
      [3_200, 'inconclusive', false],
      [3_200, 'inconclusive', true],
    ]);
    // Below the generator's limit, within the precision of it.
    expect(r.sustainableRate!).toBeLessThan(3_000);
    expect(r.generatorLimit!).toBeGreaterThanOrEqual(3_000);
    expect(r.generatorLimit!).toBeLessThanOrEqual(r.sustainableRate! * 1.05);
    expect(r.steps.every((s) => (s.offeredRate < 3_000 ? s.verdict === 'pass' : s.verdict === 'inconclusive'))).toBe(true);
  });

  it('carries on when a retried inconclusive step becomes conclusive', async () => {
    const { clock, probe } = simulatedTarget({ capacity: 1_000, flakyGeneratorOnce: [400] });
    const r = await searchRate(probe, options(), clock);
    expect(r.stoppedBy).toBe('precision');
    expect(r.steps.filter((s) => s.offeredRate === 400).map((s) => s.verdict)).toEqual(['inconclusive', 'pass']);
    expect(r.sustainableRate!).toBeLessThanOrEqual(1_000);
    expect(r.failedRate!).toBeGreaterThan(1_000);
  });

  it('an inconclusive step while bisecting narrows where to look; the bracket is kept', async () => {
    const { clock, probe } = simulatedTarget({ capacity: 3_000 });
    // A generator that happens to struggle in one band only, inside the bracket [2000, 4000).
    const banded: RateProbe<SimStep> = {
      estimate: probe.estimate,
      async measure(rate, context) {
        const s = await probe.measure(rate, context);
        return rate > 2_500 && rate < 3_500 ? { ...s, verdict: 'inconclusive' } : s;
      },
    };
    const r = await searchRate(banded, options({ startRate: 1_000 }), clock);
    expect(r.steps.map((s) => [s.offeredRate, s.verdict])).toEqual([
      [1_000, 'pass'],
      [2_000, 'pass'],
      [4_000, 'fail'],
      [2_830, 'inconclusive'],
      [2_830, 'inconclusive'],
      [2_380, 'pass'],
      [2_600, 'inconclusive'],
      [2_600, 'inconclusive'],
      [2_490, 'pass'],
    ]);
    expect(r.stoppedBy).toBe('generator');
    expect(r.atLeast).toBe(true);
    expect(r.sustainableRate).toBe(2_490);
    expect(r.failedRate).toBe(4_000);
    expect(r.generatorLimit).toBe(2_600);
  });

  it('a generator that cannot deliver even the first rate: the search comes down, and says so if nothing is conclusive', async () => {
    const { clock, probe } = simulatedTarget({ capacity: 1e9, generatorLimit: 0 });
    const r = await searchRate(probe, options({ minRate: 20 }), clock);
    expect(r.stoppedBy).toBe('generator');
    expect(r.sustainableRate).toBeNull();
    expect(r.steps.map((s) => s.offeredRate)).toEqual([100, 100, 50, 50, 25, 25, 20, 20]);
    const found = await searchRate(simulatedTarget({ capacity: 1e9, generatorLimit: 60 }).probe, options(), { now: () => 0 });
    expect(found.stoppedBy).toBe('generator');
    expect(found.sustainableRate!).toBeLessThan(60);
    expect(found.generatorLimit!).toBeLessThanOrEqual(found.sustainableRate! * 1.05);
  });

  it('comes down when the first step already fails', async () => {
    const { clock, probe } = simulatedTarget({ capacity: 30 });
    const r = await searchRate(probe, options(), clock);
    expect(r.steps.slice(0, 4).map((s) => [s.offeredRate, s.context.phase])).toEqual([
      [100, 'grow'],
      [50, 'shrink'],
      [25, 'shrink'],
      [niceRate(Math.sqrt(25 * 50), 25, 50), 'bisect'],
    ]);
    expect(r.stoppedBy).toBe('precision');
    expect(r.sustainableRate!).toBeLessThanOrEqual(30);
  });

  it('says so when nothing passes down to the minimum rate', async () => {
    const { clock, probe } = simulatedTarget({ capacity: 0.5 });
    const r = await searchRate(probe, options({ minRate: 1 }), clock);
    expect(r.stoppedBy).toBe('min-rate');
    expect(r.sustainableRate).toBeNull();
    expect(r.steps.at(-1)!.offeredRate).toBe(1);
  });

  it('stops by itself at the time cap, before a step that would not fit', async () => {
    const { clock, probe } = simulatedTarget({ capacity: 1e9, stepMs: 4000 });
    const r = await searchRate(probe, options({ maxTimeMs: 30_000, maxRate: 1e12 }), clock);
    expect(r.stoppedBy).toBe('max-time');
    expect(r.atLeast).toBe(true);
    expect(r.steps).toHaveLength(7); // 7 × 4 s = 28 s; an eighth would end at 32 s
    expect(clock.now()).toBeLessThanOrEqual(30_000);
  });

  it('stops by itself at the request cap, and gives each step what is left of it', async () => {
    const { clock, probe } = simulatedTarget({ capacity: 1e9, stepMs: 1000 });
    const r = await searchRate(probe, options({ maxRequests: 10_000, maxRate: 1e12 }), clock);
    expect(r.stoppedBy).toBe('max-requests');
    const sent = r.steps.reduce((n, s) => n + s.requests, 0);
    expect(sent).toBeLessThanOrEqual(10_000);
    expect(r.steps.map((s) => s.offeredRate)).toEqual([100, 200, 400, 800, 1600, 3200]);
    expect(r.steps.map((s) => s.context.requestBudget)).toEqual([10_000, 9_900, 9_700, 9_300, 8_500, 6_900]);
  });

  it('a step cut by the request cap ends the search', async () => {
    const { clock, probe } = simulatedTarget({ capacity: 1e9 });
    const cutting: RateProbe<SimStep> = {
      estimate: () => ({ ms: 1, requests: 1 }),
      async measure(rate, context) {
        const s = await probe.measure(rate, context);
        return rate >= 400 ? { ...s, cutByRequestCap: true } : s;
      },
    };
    const r = await searchRate(cutting, options(), clock);
    expect(r.stoppedBy).toBe('max-requests');
    expect(r.sustainableRate).toBe(200);
  });

  it('stops at the ceiling when the ceiling passes', async () => {
    const { clock, probe } = simulatedTarget({ capacity: 1e9 });
    const r = await searchRate(probe, options({ maxRate: 1000 }), clock);
    expect(r.steps.map((s) => s.offeredRate)).toEqual([100, 200, 400, 800, 1000]);
    expect(r.stoppedBy).toBe('max-rate');
    expect(r.atLeast).toBe(true);
    expect(r.sustainableRate).toBe(1000);
  });

  it('refuses nonsense options', async () => {
    const { clock, probe } = simulatedTarget({ capacity: 1 });
    await expect(searchRate(probe, options({ growth: 1 }), clock)).rejects.toThrow(/growth/);
    await expect(searchRate(probe, options({ precision: 0 }), clock)).rejects.toThrow(/precision/);
    await expect(searchRate(probe, options({ startRate: 10, maxRate: 5 }), clock)).rejects.toThrow(/maxRate/);
  });

  it('rounds bisection rates for people only where that stays inside the bracket', () => {
    expect(niceRate(4525.48, 3200, 6400)).toBe(4530);
    expect(niceRate(1000.4, 1000, 1001)).toBe(1000.4);
    expect(niceRate(35.355, 25, 50)).toBe(35.4);
  });
});
