// Load from many machines, on one: two `flashsale run --segment` processes share one crowd against one
// `flashsale serve`, both starting at the scenario's absolute opensAt; `flashsale merge --target`
// audits the shared service once and gives one verdict for the whole sale.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flashsaleWith } from './helpers/cli.ts';
import { killAll, serve } from './helpers/serve.ts';
import type { RunResult } from '../src/contract/result.ts';
import { SEGMENT_START_TOLERANCE_MS } from '../src/run/run-scenario.ts';

const dir = mkdtempSync(join(tmpdir(), 'flashsale-distributed-'));
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

const TOKEN = 'distributed-test-token-0123456789';
const STOCK = 300;
/** Start-up lead: two CLI processes on a busy two-core machine must both be ready by then. */
const LEAD_MS = 12_000;

function scenario(opensAt: string, url: string): string {
  const path = join(dir, 'split-sale.json');
  writeFileSync(
    path,
    JSON.stringify({
      name: 'split-sale',
      description: 'one crowd from two machines',
      sale: { skus: [{ id: 'phone', stock: STOCK }], perUserLimit: 1, opensAt },
      buyers: { population: 20_000, arrival: { executor: 'constant-arrival-rate', rate: 800, timeUnit: '1s', duration: '1.5s' }, journey: 'checkout' },
      load: { workers: 1, connections: 8, maxDuration: '20s', seed: 11 },
      target: { url },
    }),
  );
  return path;
}

describe('two segments of one crowd against one service', () => {
  it('merge into one sale: sold == stock, each buyer once, one verdict', async () => {
    const opensAt = new Date(Date.now() + LEAD_MS).toISOString();
    const svc = await serve(['--port', '0', '--sku', 'phone', '--stock', String(STOCK), '--per-user-limit', '1', '--opens-at', opensAt], { FLASHSALE_ADMIN_TOKEN: TOKEN });
    try {
      const path = scenario(opensAt, svc.url);
      const env = { FLASHSALE_ADMIN_TOKEN: TOKEN };
      const outs = ['0:1/2', '1/2:1'].map((_, k) => join(dir, `seg-${k}`));
      const runs = await Promise.all(['0:1/2', '1/2:1'].map((seg, k) => flashsaleWith({ env }, 'run', path, '--segment', seg, '--quiet', '--json', '--out', outs[k])));
      for (const r of runs) expect(r.stderr).not.toMatch(/unexpected error/);
      const parts = outs.map((o) => JSON.parse(readFileSync(join(o, 'result.json'), 'utf8')) as RunResult);
      expect(parts.map((p) => p.segment)).toEqual(['0:1/2', '1/2:1']);
      // Both started at the sale's opening, not when their process happened to start.
      // (A machine too busy to be ready by then starts late, and its result says so.)
      for (const p of parts) {
        if (p.t0EpochMs - Date.parse(opensAt) <= SEGMENT_START_TOLERANCE_MS) expect(Math.abs(p.t0EpochMs - Date.parse(opensAt))).toBeLessThanOrEqual(SEGMENT_START_TOLERANCE_MS);
        else expect(p.warnings?.join('\n')).toMatch(/had passed when this machine was ready|its load started \d+ ms after sale.opensAt/);
      }

      const merged = join(dir, 'merged.json');
      const m = await flashsaleWith({ env }, 'merge', join(outs[0], 'result.json'), join(outs[1], 'result.json'), '--target', svc.url, '--out', merged);
      expect(m.stderr).not.toMatch(/do not tile|does not overlap/);
      const result = JSON.parse(readFileSync(merged, 'utf8')) as RunResult;
      expect(result.stock.sold).toBe(STOCK);
      expect(result.stock.initial).toBe(STOCK);
      expect(result.audit?.passed).toBe(true);
      // The audit was made once, on the shared service, with its ledger.
      expect(result.audit?.checks.find((c) => c.id === 'acked_orders_in_ledger')?.skipped).toBe(false);
      expect(result.target).toMatchObject({ url: svc.url, builtIn: false });
      const users = result.orders.map((o) => o.userId);
      expect(new Set(users).size).toBe(users.length);
      expect(result.counts.buyers.started).toBe(parts[0].counts.buyers.started + parts[1].counts.buyers.started);
      expect(['passed', 'inconclusive']).toContain(result.verdict.status);
      expect(m.stdout).toMatch(new RegExp(`${STOCK} of ${STOCK} units sold`));
    } finally {
      await svc.stop();
    }
  }, 90_000);

  it('a segment without a shared target is refused with exit 2', async () => {
    const r = await flashsaleWith({}, 'run', 'sneaker-drop', '--segment', '0:1/2', '--out', join(dir, 'refused'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--segment 0:1\/2: .*needs --target/);
    const bad = await flashsaleWith({}, 'run', 'sneaker-drop', '--segment', '1/2:1/4', '--target', 'http://127.0.0.1:9');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--segment: segment "1\/2:1\/4": its start must be below its end/);
  });
});
