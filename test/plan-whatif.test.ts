// `plan --what-if`: where the simulation's servers and service times come from (a run's result.json),
// the search for the fewest instances meeting a p99, resizing the crowd, and the command line.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.ts';
import { calibrate } from '../src/plan/whatif/calibrate.ts';
import { MAX_INSTANCES, runWhatIf, sizeFor } from '../src/plan/whatif/run-whatif.ts';
import type { SimulationResult } from '../src/plan/whatif/simulate.ts';
import { loadScenario } from '../src/scenario/index.ts';
import { cliInProcess, flashsale } from './helpers/cli.ts';
import { fakeRunResult } from './helpers/fake-result.ts';

const SALE = new URL('./fixtures/plan-validation-sale.json', import.meta.url).pathname;

/** A stand-in simulation result with the given p99. */
const withP99 = (p99: number) => ({ latency: { p99 }, sellOutMs: 1000 }) as unknown as SimulationResult;

describe('what-if', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flashsale-whatif-'));
  const resultFile = join(dir, 'result.json');
  writeFileSync(resultFile, JSON.stringify(fakeRunResult({ journey: 'checkout', buyers: 3000, stock: 1500 })));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("calibrates from a run: its uncorrected latencies, and its connections as the servers", async () => {
    const c = await calibrate(resultFile, 'checkout');
    expect(c.kind).toBe('result');
    expect(c.serversPerInstance).toBe(64);
    expect(c.serversFrom).toMatch(/64 connections/);
    expect(c.meanMs.checkout!).toBeGreaterThan(0.5);
    expect(c.serviceTimes.checkout!.success.count).toBeGreaterThan(0);
    expect((await calibrate(resultFile, 'checkout', 3)).serversPerInstance).toBe(3);
  });

  it('refuses a result that lacks a step the journey needs, and files that are not results, naming them (exit 2)', async () => {
    await expect(calibrate(resultFile, 'reserve-pay')).rejects.toThrow(/has no reserve latency/);
    await expect(calibrate(resultFile, 'reserve-pay')).rejects.toBeInstanceOf(UsageError);
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{"hello":1}');
    await expect(calibrate(junk, 'checkout')).rejects.toThrow(/junk.json: is not a flashsale result/);
    writeFileSync(junk, 'not json');
    await expect(calibrate(junk, 'checkout')).rejects.toThrow(/is not JSON/);
    const plan = join(dir, 'plan-bad.json');
    writeFileSync(plan, JSON.stringify({ kind: 'flashsale-plan', schemaVersion: 1, levels: [{ steps: [{ offeredRate: 1 }] }] }));
    await expect(calibrate(plan, 'checkout')).rejects.toThrow(/levels\[0\]\.steps\[0\]: needs offeredRate, verdict and histograms/);
  });

  it('finds the fewest instances meeting a p99: doubling, then bisecting', () => {
    const simulated: number[] = [];
    const simulate = (k: number) => (simulated.push(k), withP99(1000 / k));
    const s = sizeFor(100, 1, withP99(1000), simulate);
    expect(s.instances).toBe(10);
    expect(s.p99Ms).toBe(100);
    expect(simulated).toEqual([2, 4, 8, 16, 12, 10, 9]);
    expect(s.tried.map((t) => t.instances)).toEqual([1, ...simulated]);
  });

  it('comes down when the instances asked for are more than needed, and gives up at the ceiling', () => {
    const down = sizeFor(100, 64, withP99(1000 / 64), (k) => withP99(1000 / k));
    expect(down.instances).toBe(10);
    const one = sizeFor(100, 4, withP99(1), () => withP99(1));
    expect(one.instances).toBe(1);
    const never = sizeFor(1, 1, withP99(50), () => withP99(50));
    expect(never.instances).toBeNull();
    expect(Math.max(...never.tried.map((t) => t.instances))).toBe(MAX_INSTANCES);
  });

  it('resizes a flash crowd with --buyers, and says when the shape is not one', async () => {
    const loaded = loadScenario(SALE);
    const w = await runWhatIf({ loaded, from: resultFile, buyers: 12_000 });
    expect(w.model.expectedBuyers).toBe(12_000);
    expect(w.model.arrival.type).toBe('flash-crowd');
    expect(w.prediction.unitsSold).toBe(1500);
    const doorbuster = loadScenario('doorbuster-many-sku');
    await expect(runWhatIf({ loaded: doorbuster, from: resultFile, buyers: 10 })).rejects.toThrow(/--buyers resizes a flash crowd; this scenario's arrival is ramping-arrival-rate/);
  });

  it('the command line: one JSON object, whatif.json, and the sizing', async () => {
    const out = join(dir, 'out');
    const run = await flashsale('plan', SALE, '--what-if', '--from', resultFile, '--target-p99', '50', '--json', '-q', '-o', out);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.kind).toBe('flashsale-what-if');
    expect(report.prediction.unitsSold).toBe(1500);
    expect(report.prediction.sellOutMs).toBeGreaterThan(0);
    expect(report.sizing.targetP99Ms).toBe(50);
    expect(report.sizing.instances === null || report.sizing.p99Ms <= 50).toBe(true);
    expect(existsSync(join(out, 'whatif.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'whatif.json'), 'utf8')).prediction.unitsSold).toBe(1500);
    const text = await flashsale('plan', SALE, '--what-if', '--from', resultFile, '--instances', '2', '-q', '-o', out);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/what-if: plan-validation-sale, simulated \(not measured\)/);
    expect(text.stdout).toMatch(/model\.+: 2 instance\(s\) × 64 servers/);
    expect(text.stdout).toMatch(/sell-out time\.+: \d/);
  });

  it('bad usage exits 2 with a message naming the option', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--what-if'], /--what-if needs --from/],
      [['--servers', '4'], /--servers only go with --what-if/],
      [['--target', 'http://127.0.0.1:9', '--targets', 'http://127.0.0.1:9,http://127.0.0.1:10'], /--target or --targets, not both/],
      [['--target', 'http://127.0.0.1:9', '--service-threads', '1,2'], /--service-threads is for the built-in service/],
      [['--slo', 'p(99)<<1'], /--slo "p\(99\)<<1"/],
      [['--slo', 'oversold count==0'], /cannot be judged on a plan step/],
      [['--start-rate', '500', '--max-rate', '100'], /--start-rate 500 is above --max-rate 100/],
    ];
    for (const [args, message] of cases) {
      const r = await cliInProcess('plan', SALE, ...args, '-q', '-o', join(dir, 'never'));
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(message);
    }
    for (const args of [['--precision', '0%'], ['--service-threads', '1,,2'], ['--service-threads', '2,2'], ['--step-duration', '0s'], ['--targets', 'ftp://x']]) {
      const r = await cliInProcess('plan', SALE, ...args);
      expect(r.code, args.join(' ')).toBe(2);
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});
