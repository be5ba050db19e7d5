// `flashsale k6`: prints the exact k6 command line for a scenario.
import { describe, expect, it } from 'vitest';
import { cliInProcess as cli } from './helpers/cli.ts';
import { k6CommandLine, resolveScenarioPath } from '../src/scenario/index.ts';

describe('flashsale k6', () => {
  it('prints the k6 run line with the scenario as an absolute path', async () => {
    const r = await cli('k6', 'sneaker-drop', '--target', 'http://127.0.0.1:9000');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`k6 run -e SCENARIO=${resolveScenarioPath('sneaker-drop')} -e TARGET=http://127.0.0.1:9000 scenarios/k6/flash-sale.js`);
  });

  it('for the built-in target, explains how to start the service', async () => {
    const r = await cli('k6', 'redmi-1s-india-2014', '--max-vus', '500');
    expect(r.out).toMatch(/-e TARGET=http:\/\/127\.0\.0\.1:8080 -e MAX_VUS=500 /);
    expect(r.err).toMatch(/flashsale serve --sku redmi-1s --stock 90000 --per-user-limit 1/);
  });

  it('rejects a bad target and an invalid scenario with exit 2', async () => {
    expect((await cli('k6', 'sneaker-drop', '--target', 'ftp://x')).code).toBe(2);
    expect((await cli('k6', 'no-such-preset')).code).toBe(2);
  });

  it('quotes paths for the shell and uses an absolute script path outside the repo', () => {
    expect(k6CommandLine({ scenarioPath: "/tmp/my sale's.json", target: 'http://h:1', cwd: '/nonexistent/elsewhere' })).toBe(
      `k6 run -e 'SCENARIO=/tmp/my sale'\\''s.json' -e TARGET=http://h:1 ${new URL('../scenarios/k6/flash-sale.js', import.meta.url).pathname}`,
    );
  });
});
