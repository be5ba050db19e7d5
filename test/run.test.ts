// `flashsale run` end to end, as a user runs it: a child process, a small scenario, the built-in
// service or a deliberately broken one, and the exit codes 0 / 99 / 3 / 2.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flashsale, flashsaleWith } from './helpers/cli.ts';
import { expectPassedUnlessBusy } from './helpers/passed.ts';

const BUSY_MACHINE_HOOK = new URL('./helpers/busy-machine.ts', import.meta.url).pathname;
import { startBrokenService } from './fixtures/broken-service.ts';

const dir = mkdtempSync(join(tmpdir(), 'flashsale-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 600 units, 3,000 buyers at 3,000/s: sells out in well under a second of arrivals. */
function scenario(name: string, thresholds: Record<string, string[]>): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      name,
      description: 'small test sale',
      sale: { skus: [{ id: 'phone', stock: 400 }, { id: 'case', stock: 200 }], perUserLimit: 1, opensAt: 'now' },
      buyers: {
        population: 3000,
        arrival: { executor: 'constant-arrival-rate', rate: 3000, timeUnit: '1s', duration: '1s' },
        journey: 'checkout',
        qty: 1,
      },
      load: { workers: 1, connections: 16, maxDuration: '20s', maxRequests: 20000, seed: 7 },
      target: 'built-in',
      thresholds,
    }),
  );
  return path;
}

describe('flashsale run', () => {
  it('sells exactly the stock against the built-in service, audits it and writes every output', async () => {
    const out = join(dir, 'ok');
    const r = await flashsale('run', scenario('ok', { oversold: ['count==0'] }), '--json', '--quiet', '--out', out);
    expect(r.stderr).toBe('');
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expectPassedUnlessBusy(summary, r.code);
    expect(summary).toMatchObject({ scenario: 'ok', stock: 600, sold: 600, oversold: 0, lostOrders: 0, generatorBound: expect.any(Boolean) });
    expect(summary.audit.passed).toBe(true);
    expect(summary.sellOutMs).toBeGreaterThan(0);
    expect(summary.requestsSent).toBeGreaterThanOrEqual(600);
    expect(summary.thresholds).toEqual([
      expect.objectContaining({ metric: 'oversold', pass: true, source: 'scenario' }),
      // The defaults, in force for the metrics the scenario does not name.
      expect.objectContaining({ metric: 'orders', expression: 'count>0', pass: true, source: 'default' }),
      expect.objectContaining({ metric: 'http_req_failed', expression: 'rate<0.05', pass: true, source: 'default' }),
      expect.objectContaining({ metric: 'http_req_rejected', expression: 'rate<0.5', pass: true, source: 'default' }),
    ]);
    expect(summary).toMatchObject({ target: { builtIn: true, from: 'built-in' }, soldFrom: 'inventory', acknowledged: 600, ledger: 600 });
    for (const k of ['p50', 'p90', 'p99', 'p999', 'max']) {
      expect(summary.latency.checkout.corrected[k]).toBeGreaterThan(0);
      expect(summary.latency.checkout.uncorrected[k]).toBeGreaterThan(0);
      expect(summary.latency.checkout.corrected[k]).toBeGreaterThanOrEqual(summary.latency.checkout.uncorrected[k] * 0.99);
    }
    for (const f of ['result.json', 'report.html', 'checkout.corrected.hgrm', 'checkout.uncorrected.hgrm', 'latency.hlog', 'ledger.db']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result.stock.sold).toBe(600);
    expect(result.audit.checks.every((c: { passed: boolean }) => c.passed)).toBe(true);
    expect(result.orders.length).toBe(600);
  });

  it('exits 99 when a threshold is crossed, and still writes the result', async () => {
    const out = join(dir, 'slow');
    // Not a threshold on time: the built-in service shares this machine, and on a busy one a time
    // threshold it crosses is inconclusive (next test).
    const r = await flashsale('run', scenario('strict', { orders: ['count>1000000'] }), '--json', '--quiet', '--out', out);
    expect(r.code).toBe(99);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary.thresholds[0]).toMatchObject({ pass: false, status: 'crossed' });
    expect(summary.status).toBe('thresholds_crossed');
    expect(summary.audit.passed).toBe(true);
    expect(existsSync(join(out, 'result.json'))).toBe(true);
  });

  // npm start on a machine whose other core is busy: the built-in service shares the machine, so a
  // time threshold it crosses then is inconclusive (exit 4), not the service's failure. The busy
  // machine is what /proc/stat says (a preloaded test hook), not a CPU hog beside the suite.
  it('calls a time threshold the built-in service crossed on a busy machine inconclusive', async () => {
    const r = await flashsaleWith(
      { nodeArgs: ['--import', BUSY_MACHINE_HOOK], env: { FLASHSALE_TEST_BUSY_MACHINE: '1' } },
      'run', scenario('busy', { 'http_req_duration{step:checkout}': ['p(50)<0.001'] }), '--json', '--quiet', '--out', join(dir, 'busy'),
    );
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary.machineOthersCpuShare).toBeGreaterThan(0.25);
    expect(summary.thresholds[0]).toMatchObject({ pass: false, status: 'inconclusive' });
    expect(summary.thresholds[0].note).toMatch(/other processes used \d+% of this machine's CPU during the run, and the built-in service shares it/);
    expect(summary.status).toBe('inconclusive');
    expect(r.code).toBe(4);
  });

  it('exits 3 and names the offending SKU when the target oversells', async () => {
    const broken = await startBrokenService('oversell', { phone: 400, case: 200 }, 1);
    try {
      const r = await flashsale('run', scenario('oversold', {}), '--target', broken.url, '--json', '--quiet', '--out', join(dir, 'broken'));
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/AUDIT FAILED/);
      const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      expect(summary.oversold).toBeGreaterThan(0);
      expect(summary.audit.failed).toContain('sold_within_stock');
    } finally {
      await broken.close();
    }
  });

  it('exits 2 on an invalid scenario, naming the field', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ name: 'bad', sale: { skus: [{ id: 'x', stock: -1 }] } }));
    const r = await flashsale('run', path);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sale\.skus\[0\]\.stock/);
  });

  it('exits 2 naming --out when the results folder cannot be made, before anything runs', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const r = await flashsale('run', scenario('out-under-a-file', {}), '--out', join(file, 'sub'), '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out .*a-file\/sub: cannot create the folder \(ENOTDIR\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
  });

  it('exits 2 on a bad flag value', async () => {
    const r = await flashsale('run', 'redmi-1s-india-2014', '--workers', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--workers/);
  });
});
