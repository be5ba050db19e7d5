// The whole plan with simulated steps on a virtual clock: levels of service threads whose capacities
// follow a known USL curve, the search at each, the fit across them, and what comes out (the table,
// plan.json and its summary, plan.html), then plan.json fed back to --what-if. No sockets, no sleeping.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPlanHtml } from '../src/plan/plan-html.ts';
import { planJsonSummary, readPlanJson, writePlanJson } from '../src/plan/plan-json.ts';
import { formatPlan } from '../src/plan/plan-text.ts';
import { runPlan } from '../src/plan/run-plan.ts';
import { uslThroughput } from '../src/plan/usl.ts';
import { runWhatIf } from '../src/plan/whatif/run-whatif.ts';
import { loadScenario } from '../src/scenario/index.ts';
import { simulatedPlanOptions as options, USL } from './helpers/plan-sim.ts';

describe('plan, end to end on simulated steps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flashsale-plan-run-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('one level: the rate, its bracket, the knee and every output', async () => {
    const report = await runPlan(options({}));
    const level = report.levels[0];
    expect(report.scaling).toBe('none');
    expect(level.stoppedBy).toBe('precision');
    expect(report.sustainableRate).toBe(level.sustainableRate);
    expect(level.sustainableRate!).toBeLessThanOrEqual(1000);
    expect(level.failedRate!).toBeGreaterThan(1000);
    expect(level.failedRate! / level.sustainableRate!).toBeLessThanOrEqual(1.05);
    expect(level.knee).not.toBeNull();
    expect(report.objectives.list.map((o) => `${o.metric} ${o.expression}`)).toEqual(['http_req_duration p(99)<200', 'http_req_failed rate<0.01']);
    expect(report.objectives.ignored.map((o) => o.metric)).toEqual([]); // --slo replaces the scenario's thresholds

    const text = formatPlan(report);
    expect(text).toMatch(/plan: redmi-1s-india-2014 → built-in service\n/);
    expect(text).toMatch(/sustainable rate\.+: sustains [\d,.]+\/s; fails at [\d,.]+\/s: the limit is in between \(±5%\)/);
    expect(text).toMatch(/knee\.+: [\d,.]+\/s/);
    expect(text.split('\n').filter((l) => /✓ pass|✗ fail/.test(l))).toHaveLength(level.steps.length);

    const summary = planJsonSummary(report, dir) as Record<string, unknown>;
    expect(summary.sustainableRate).toBe(level.sustainableRate);
    expect(summary.stoppedBy).toBe('precision');
    expect(JSON.stringify(summary)).not.toMatch(/histograms/);

    const html = buildPlanHtml(report);
    expect(html).toContain(`data-value="sustainableRate" data-raw="${level.sustainableRate}"`);
    expect(html).toContain('"name":"throughput"');
    expect(html).toContain('"name":"latency"');
    expect(html).not.toMatch(/<script src=|<link /);

    const file = await writePlanJson(report, dir);
    const back = await readPlanJson(file);
    expect(back.levels[0].steps).toHaveLength(level.steps.length);
  });

  it('levels of service threads: a rate per level and the USL fitted to them', async () => {
    const report = await runPlan(options({ serviceThreads: [1, 2, 4, 8, 16] }));
    expect(report.scaling).toBe('threads');
    expect(report.levels.map((l) => l.n)).toEqual([1, 2, 4, 8, 16]);
    for (const l of report.levels) {
      const capacity = uslThroughput(l.n!, USL);
      expect(l.sustainableRate!).toBeLessThanOrEqual(capacity);
      expect(l.sustainableRate!).toBeGreaterThan(capacity / 1.05);
    }
    const fit = report.usl!;
    // The rates are within 5 % below the true curve, so the fit is close, not exact.
    expect(Math.abs(fit.sigma - USL.sigma)).toBeLessThan(0.05);
    expect(Math.abs(fit.kappa - USL.kappa) / USL.kappa).toBeLessThan(0.35);
    expect(Math.abs(fit.peak!.n - Math.sqrt((1 - USL.sigma) / USL.kappa))).toBeLessThan(2);
    expect(report.bestLevel).toBe(8); // N* ≈ 6.8: 8 threads beat 4 and 16
    expect(fit.warnings).toEqual([]);
    const text = formatPlan(report);
    expect(text).toMatch(/built-in service \(1, 2, 4, 8, 16 threads\)/);
    expect(text).toMatch(/USL fit\.+: σ 0\.\d{4} \(contention\), κ [\d.e+-]+ \(coherency\)/);
    expect(text).toMatch(/predicted peak\.+: [\d,]+\/s at N\* = \d+\.\d threads/);
    const html = buildPlanHtml(report);
    expect(html).toContain('"name":"scaling"');
    expect(html).toContain('data-value="usl.sigma"');
    expect(html).toContain('"name":"throughput-4"');
    const summary = planJsonSummary(report, null) as { levels: unknown[]; bestLevel: number };
    expect(summary.levels).toHaveLength(5);
    expect(summary.bestLevel).toBe(8);
  });

  it('warns when the levels are too few to fit', async () => {
    const report = await runPlan(options({ serviceThreads: [1, 2] }));
    expect(report.usl!.warnings.join(' ')).toMatch(/only two concurrency levels/);
    expect(formatPlan(report)).toMatch(/warning\.+: only two concurrency levels/);
  });

  it('shares the time cap between levels and stops by itself', async () => {
    const report = await runPlan(options({ serviceThreads: [1, 2, 4], maxTimeMs: 90_000 }));
    const steps = report.levels.reduce((n, l) => n + l.steps.length, 0);
    expect(steps * 6000).toBeLessThanOrEqual(90_000);
    expect(report.levels.every((l) => l.stoppedBy === 'max-time' || l.stoppedBy === 'precision')).toBe(true);
    expect(report.levels.some((l) => l.stoppedBy === 'max-time')).toBe(true);
  });

  it('feeds --what-if: one simulated instance sustains what the plan measured', async () => {
    const report = await runPlan(options({}));
    const file = await writePlanJson(report, dir);
    const loaded = loadScenario('redmi-1s-india-2014');
    const w = await runWhatIf({ loaded, from: file, buyers: 20_000 });
    expect(w.from.kind).toBe('plan');
    expect(w.from.planStep!.offeredRate).toBe(100); // the lowest rate that passed
    // Little's law: the plan's rate × the mean service time of that step.
    const mean = w.model.meanServiceMs.checkout!;
    expect(w.model.serversPerInstance).toBe(Math.ceil((report.sustainableRate! * mean) / 1000));
    expect(w.prediction.buyers.arrived).toBeGreaterThan(0);
  });
});
