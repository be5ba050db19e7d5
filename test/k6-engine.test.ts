// `flashsale run --engine k6`: finding k6 (--k6, K6_BIN, .tools/bin/k6, PATH), the command line it is
// given (segment and raw output), and a whole run through a stand-in k6 that writes k6-format points
// (test/fixtures/fake-k6.mjs). The real k6 is opt-in: FLASHSALE_K6=1 with K6_BIN (k6 is AGPL and
// cannot be installed here; docs/k6.md).
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findK6, k6RunArgs, PROJECT_K6 } from '../src/run/k6-engine.ts';
import { K6NotFoundError } from '../src/errors.ts';
import { parseSegment } from '../src/schedule/index.ts';
import { K6_SCRIPT } from '../src/scenario/index.ts';
import { flashsaleWith } from './helpers/cli.ts';
import { killAll, serve } from './helpers/serve.ts';
import { K6_LATENCY_NOTE } from '../src/measure/k6-output.ts';
import type { RunResult } from '../src/contract/result.ts';

const dir = mkdtempSync(join(tmpdir(), 'flashsale-k6-engine-'));
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

const scenario = join(dir, 'k6-small.json');
writeFileSync(
  scenario,
  JSON.stringify({
    name: 'k6-small',
    description: 'a small sale under k6',
    sale: { skus: [{ id: 'phone', stock: 100 }], perUserLimit: 1 },
    buyers: { population: 1000, arrival: { executor: 'constant-arrival-rate', rate: 300, timeUnit: '1s', duration: '1s' }, journey: 'checkout' },
  }),
);

/** An executable `k6` that runs the stand-in on this Node. */
function fakeK6(where: string): string {
  mkdirSync(where, { recursive: true });
  const path = join(where, 'k6');
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" "${new URL('./fixtures/fake-k6.mjs', import.meta.url).pathname}" "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('finding k6', () => {
  const a = fakeK6(join(dir, 'a'));
  const b = fakeK6(join(dir, 'b'));
  it('takes --k6, then K6_BIN, then PATH', () => {
    expect(findK6(a, { K6_BIN: b, PATH: '' })).toBe(a);
    expect(findK6(undefined, { K6_BIN: b, PATH: join(dir, 'a') })).toBe(b);
    expect(findK6(undefined, { PATH: `/nonexistent:${join(dir, 'a')}` })).toBe(a);
  });

  it('says where it looked and how to supply one', () => {
    expect(() => findK6(join(dir, 'none'), {})).toThrow(K6NotFoundError);
    expect(() => findK6(undefined, { K6_BIN: join(dir, 'none') })).toThrow(/K6_BIN=.*not an executable/);
    let message = '';
    try {
      findK6(undefined, { PATH: '/nonexistent' });
    } catch (e) {
      message = (e as Error).message;
    }
    // .tools/bin/k6 is git-ignored: only a machine that built k6 itself has one.
    if (message) expect(message).toMatch(new RegExp(`--k6, K6_BIN, ${PROJECT_K6} and PATH.*--k6 <path> or set K6_BIN`));
  });
});

describe('the k6 command line', () => {
  it('passes the scenario, the target, raw points to a gzip file and the segment', () => {
    const args = k6RunArgs({ scenarioPath: '/s.json', target: 'http://127.0.0.1:9', outputFile: '/o/k6-output.json.gz', segment: parseSegment('1/4:2/4'), segmentSequence: '0,1/4,1/2,1' });
    expect(args).toEqual(['run', '--quiet', '-e', 'SCENARIO=/s.json', '-e', 'TARGET=http://127.0.0.1:9', '--out', 'json=/o/k6-output.json.gz', '--execution-segment', '1/4:1/2', '--execution-segment-sequence', '0,1/4,1/2,1', K6_SCRIPT]);
  });
});

describe('run --engine k6 (stand-in k6)', () => {
  it('runs k6 against the built-in service and judges its output like a native run', async () => {
    const argsFile = join(dir, 'args.json');
    const out = join(dir, 'out');
    const r = await flashsaleWith({ env: { FAKE_K6_ARGS: argsFile, FAKE_K6_BUYERS: '300' } }, 'run', scenario, '--engine', 'k6', '--k6', fakeK6(join(dir, 'c')), '--out', out, '--json');
    expect(r.stderr).not.toMatch(/unexpected/);
    const args = JSON.parse(readFileSync(argsFile, 'utf8')) as string[];
    expect(args).toContain(`json=${join(out, 'k6-output.json.gz')}`);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as RunResult;
    expect(result.engine).toBe('k6');
    expect(result.target.builtIn).toBe(true);
    expect(result.warnings).toContain(`${K6_LATENCY_NOTE}.`);
    expect(result.counts.buyers.started).toBe(300);
    expect(result.stock.sold).toBe(100);
    expect(result.stock.soldFrom).toBe('inventory');
    expect(result.audit?.passed).toBe(true);
    expect(result.audit?.checks.find((c) => c.id === 'acked_orders_in_ledger')?.skipped).toBe(false);
    expect([0, 4]).toContain(r.code);
  }, 60_000);

  it('two k6 segments against one service merge into the whole crowd: sold == stock, one verdict', async () => {
    const token = 'k6-segments-test-token-0123456789';
    const svc = await serve(['--port', '0', '--sku', 'phone', '--stock', '100', '--per-user-limit', '1'], { FLASHSALE_ADMIN_TOKEN: token });
    try {
      const k6 = fakeK6(join(dir, 'd'));
      const env = { FAKE_K6_BUYERS: '300', FLASHSALE_ADMIN_TOKEN: token };
      const outs = ['0:1/2', '1/2:1'].map((_, k) => join(dir, `k6-seg-${k}`));
      await Promise.all(['0:1/2', '1/2:1'].map((seg, k) => flashsaleWith({ env }, 'run', scenario, '--engine', 'k6', '--k6', k6, '--target', svc.url, '--segment', seg, '--out', outs[k], '--quiet', '--json')));
      const parts = outs.map((o) => JSON.parse(readFileSync(join(o, 'result.json'), 'utf8')) as RunResult);
      expect(parts.map((p) => p.segment)).toEqual(['0:1/2', '1/2:1']);
      const merged = join(dir, 'k6-merged.json');
      const m = await flashsaleWith({ env }, 'merge', join(outs[0], 'result.json'), join(outs[1], 'result.json'), '--target', svc.url, '--out', merged);
      expect(m.stderr).not.toMatch(/do not tile/);
      const result = JSON.parse(readFileSync(merged, 'utf8')) as RunResult;
      // The same buyers as one unsegmented run of 300, each once.
      expect(result.counts.buyers.started).toBe(300);
      expect(result.stock.sold).toBe(100);
      expect(result.audit?.passed).toBe(true);
      expect(result.engine).toBe('k6');
      expect(['passed', 'inconclusive']).toContain(result.verdict.status);
    } finally {
      await svc.stop();
    }
  }, 90_000);

  it('without k6 says how to supply one, exit 2', async () => {
    const r = await flashsaleWith({ env: { K6_BIN: join(dir, 'nope') } }, 'run', 'sneaker-drop', '--engine', 'k6');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/K6_BIN=.*not an executable file/);
  });
});

// The real k6, opt-in: FLASHSALE_K6=1 K6_BIN=/path/to/k6 npx vitest run test/k6-engine.test.ts
const realK6 = process.env.FLASHSALE_K6 === '1';
describe.skipIf(!realK6)('run --engine k6 with a real k6 (FLASHSALE_K6=1)', () => {
  it('sells the stock of a small sale, audit passes', async () => {
    const out = join(dir, 'real');
    const r = await flashsaleWith({}, 'run', scenario, '--engine', 'k6', '--out', out, '--json');
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as RunResult;
    expect(result.stock.sold).toBe(100);
    expect(result.audit?.passed).toBe(true);
    expect([0, 4]).toContain(r.code);
  }, 120_000);
});
if (!realK6) {
  describe('requires a real k6', () => {
    it.skip('skipped: set FLASHSALE_K6=1 and K6_BIN=<k6 binary> to run scenarios/k6/flash-sale.js under k6 (k6 is AGPL and is not installed here: docs/k6.md)', () => {});
  });
}
