// Commands that cannot inject faults (k6's command line, run --engine k6, plan) refuse a scenario that
// has some, exit 2 and say why, instead of running it as if it had none.
import { describe, expect, it } from 'vitest';
import { EXIT, UsageError } from '../src/errors.ts';
import { loadScenario, refuseFaults } from '../src/scenario/index.ts';
import { flashsaleWith } from './helpers/cli.ts';

describe('a scenario with faults, where faults cannot be injected', () => {
  it('is refused by name, with the way out', () => {
    const { scenario } = loadScenario('redmi-1s-chaos');
    expect(scenario.faults?.length).toBeGreaterThan(0);
    expect(() => refuseFaults(scenario, 'flashsale plan')).toThrow(UsageError);
    expect(() => refuseFaults(scenario, 'flashsale plan')).toThrow(/^flashsale plan cannot inject faults, and scenario "redmi-1s-chaos" has \d+ .*run it with `flashsale run`/);
    expect(() => refuseFaults(loadScenario('sneaker-drop').scenario, 'flashsale plan')).not.toThrow();
  });

  it.each([
    ['k6', ['k6', 'redmi-1s-chaos']],
    ['run --engine k6', ['run', 'redmi-1s-chaos', '--engine', 'k6', '--out', '/tmp/flashsale-no-faults-never-written']],
    ['plan', ['plan', 'redmi-1s-chaos']],
  ])('flashsale %s exits 2 before any load, with no stack', async (_name, args) => {
    const r = await flashsaleWith({}, ...args);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(/cannot inject faults/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
