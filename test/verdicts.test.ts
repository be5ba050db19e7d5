// The verdict `flashsale run` gives each kind of broken target, each proved against a real loopback
// server that behaves that way (test/fixtures/), run as a user runs it: a child process, a small
// scenario, the exit code. The same list is the table in docs/verdicts.md: a test fails when the two
// differ (regenerate with FLASHSALE_WRITE_DOCS=1 npx vitest run test/verdicts.test.ts).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AUDIT_BUDGET_MS } from '../src/audit/fetch.ts';
import { EXIT } from '../src/errors.ts';
import type { VerdictStatus } from '../src/contract/result.ts';
import { startBrokenService, type BreakMode, type ShopOptions } from './fixtures/broken-service.ts';
import { garbageServer, hangServer, notFoundServer, refusedPort, resetServer, selfSignedCert, untrustedTlsServer, type Hostile } from './fixtures/hostile-servers.ts';
import { flashsaleWith, spawnFlashsale, type CliRun } from './helpers/cli.ts';
import { expectPassedUnlessBusy, type SummaryLike } from './helpers/passed.ts';

const dir = mkdtempSync(join(tmpdir(), 'flashsale-verdicts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN_TOKEN = 'fixture-token-0123456789';
const STALL_HOOK = new URL('./helpers/stall-load-workers.ts', import.meta.url).pathname;
const MAX_DURATION_S = 4;
const GRACEFUL_STOP_S = 1;

/** 300 buyers at 400/s, one connection-light worker; overrides per case. */
function scenario(name: string, over: { stock?: number; population?: number; thresholds?: Record<string, string[]>; rate?: number; durationS?: number; faults?: unknown[] } = {}): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      name,
      description: 'a small sale against a broken target',
      sale: { skus: [{ id: 'phone', stock: over.stock ?? 150 }], perUserLimit: 1 },
      buyers: {
        population: over.population ?? 3000,
        arrival: { executor: 'constant-arrival-rate', rate: over.rate ?? 400, timeUnit: '1s', duration: `${over.durationS ?? 0.75}s` },
        journey: 'checkout',
        timeout: '1s',
        retries: { max: 1, baseDelay: '10ms', maxDelay: '50ms' },
      },
      load: { workers: 1, connections: 8, maxDuration: `${MAX_DURATION_S}s`, gracefulStop: `${GRACEFUL_STOP_S}s`, seed: 5 },
      thresholds: over.thresholds ?? {},
      ...(over.faults ? { faults: over.faults } : {}),
    }),
  );
  return path;
}

/**
 * The run's own time, from its result.json (startedAt → endedAt): what its caps bound. Node's start-up and
 * exit around it are left out, which a busy machine stretches by seconds.
 */
function runSeconds(out: string): number | null {
  const file = join(out, 'result.json');
  if (!existsSync(file)) return null;
  const r = JSON.parse(readFileSync(file, 'utf8')) as { startedAt: string; endedAt: string };
  return (Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000;
}

interface Outcome {
  run: CliRun;
  summary: SummaryLike & { status: VerdictStatus; errorsByKind: Record<string, number>; audit: { failed: string[] } };
  /** The run's own time (result.json), or the wall time around the CLI when it wrote none. */
  seconds: number;
}

async function runAgainst(target: Hostile | { url: string; close(): Promise<void> }, path: string, options: { env?: Record<string, string>; nodeArgs?: string[]; args?: string[] } = {}): Promise<Outcome> {
  const started = performance.now();
  try {
    const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const run = await flashsaleWith(options, 'run', path, '--target', target.url, '--json', '--quiet', '--out', out, ...(options.args ?? []));
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    if (!last.startsWith('{')) throw new Error(`no JSON summary (exit ${run.code}): ${run.stderr}`);
    return { run, summary: JSON.parse(last), seconds: runSeconds(out) ?? (performance.now() - started) / 1000 };
  } finally {
    await target.close();
  }
}

const shop = (mode: BreakMode, stock: number, options?: ShopOptions) => startBrokenService(mode, { phone: stock }, 1, options);
const cert = selfSignedCert();

interface Case {
  target: string;
  behaviour: string;
  status: VerdictStatus;
  because: string;
  /** What the verdict's reasons must say. */
  reason: RegExp;
  run(): Promise<Outcome>;
  skip?: string;
}

const CASES: Case[] = [
  {
    target: 'refused port',
    behaviour: 'nothing listens: every connect is refused',
    status: 'thresholds_crossed',
    because: 'defaults: no order (`orders count>0`), every request an error (`http_req_failed`, ECONNREFUSED)',
    reason: /orders count>0 \(default\).*http_req_failed rate<0\.05 \(default\)/,
    run: async () => runAgainst(await refusedPort(), scenario('refused')),
  },
  {
    target: 'reset',
    behaviour: 'accepts, then resets every connection (TCP RST)',
    status: 'thresholds_crossed',
    because: 'defaults: no order, every request an error (ECONNRESET)',
    reason: /orders count>0 \(default\)/,
    run: async () => runAgainst(await resetServer(), scenario('reset')),
  },
  {
    target: 'hang',
    behaviour: 'accepts and reads, never answers (the audit\'s GETs too)',
    status: 'thresholds_crossed',
    because: 'defaults: no order, every request timed out; ends within maxDuration + the audit\'s 5 s',
    reason: /orders count>0 \(default\)/,
    run: async () => runAgainst(await hangServer(), scenario('hang')),
  },
  {
    target: 'garbage',
    behaviour: 'answers bytes that are not HTTP',
    status: 'thresholds_crossed',
    because: 'defaults: no order, every request an error (HTTPParserError)',
    reason: /orders count>0 \(default\)/,
    run: async () => runAgainst(await garbageServer(), scenario('garbage')),
  },
  {
    target: '404 to everything',
    behaviour: 'a web server that knows no route',
    status: 'thresholds_crossed',
    because: 'defaults: no order, every answer a refusal (`http_req_rejected rate<0.5`)',
    reason: /orders count>0 \(default\).*http_req_rejected rate<0\.5 \(default\)/,
    run: async () => runAgainst(await notFoundServer(), scenario('not-found')),
  },
  {
    target: 'untrusted TLS',
    behaviour: 'https with a self-signed certificate',
    status: 'thresholds_crossed',
    because: 'defaults: no order, every connection fails its certificate check',
    reason: /orders count>0 \(default\)/,
    skip: cert ? undefined : 'openssl is not installed',
    run: async () => runAgainst(await untrustedTlsServer(cert!), scenario('tls')),
  },
  {
    target: 'slow shop',
    behaviour: 'sells correctly, 150 ms per answer; the scenario asks p(99) < 100 ms',
    status: 'thresholds_crossed',
    because: 'the scenario\'s latency threshold (the generator kept its schedule)',
    reason: /http_req_duration p\(99\)<100/,
    run: async () => runAgainst(await shop('correct', 150, { delayMs: 150 }), scenario('slow', { thresholds: { http_req_duration: ['p(99)<100'] } })),
  },
  {
    target: 'overselling shop',
    behaviour: 'sells past its stock',
    status: 'audit_failed',
    because: 'audit: units sold ≤ stock, sold + available + reserved = stock',
    reason: /audit: Units sold ≤ stock/,
    run: async () => runAgainst(await shop('oversell', 150), scenario('oversell')),
  },
  {
    target: 'limit-ignoring shop',
    behaviour: 'sells a user more than the per-user limit',
    status: 'audit_failed',
    because: 'audit: no user above the limit (from the acknowledged orders)',
    reason: /audit: No user above the limit of 1/,
    run: async () => runAgainst(await shop('ignore-limit', 1000), scenario('ignore-limit', { stock: 1000, population: 100 })),
  },
  {
    target: 'ack-losing shop',
    behaviour: 'acknowledges 1 order in 100 that it never records; no ledger read',
    status: 'audit_failed',
    because: 'audit: acknowledged units > sold by the inventory = at least that many lost orders',
    reason: /audit: Every acknowledged unit is counted as sold by the inventory: at least 3 acknowledged orders lost/,
    run: async () => runAgainst(await shop('lose-acks', 1000), scenario('lose-acks', { stock: 1000 })),
  },
  {
    target: 'ledger-losing shop',
    behaviour: 'counts every sale, leaves 1 order in 10 out of its ledger; admin token given',
    status: 'audit_failed',
    because: 'audit: every acknowledged order is in the ledger (read with FLASHSALE_ADMIN_TOKEN)',
    reason: /audit: Every acknowledged order is in the ledger: 15 acknowledged orders missing/,
    run: async () => runAgainst(await shop('lose-orders', 150), scenario('lose-orders'), { env: { FLASHSALE_ADMIN_TOKEN: ADMIN_TOKEN } }),
  },
  {
    target: 'id-reusing shop',
    behaviour: 'gives two purchases the same order id',
    status: 'audit_failed',
    because: 'audit: no duplicate order id',
    reason: /audit: No duplicate order id/,
    run: async () => runAgainst(await shop('duplicate-order-id', 150), scenario('duplicate-ids')),
  },
  {
    target: 'correct shop',
    behaviour: 'sells exactly its stock',
    status: 'passed',
    because: 'every audit check, every threshold (defaults included), generator on schedule',
    reason: /^$/,
    run: async () => runAgainst(await shop('correct', 150), scenario('correct')),
  },
  {
    target: 'correct shop, a fault that did not happen',
    behaviour: "the scenario's fault (here a command that exits 1) could not be injected; likewise a failed heal, or a fault the run ended before",
    status: 'inconclusive',
    because: 'the run did not test what was asked ([faults.md](faults.md#what-the-verdict-makes-of-faults)); loss or oversell would still fail it (exit 3)',
    reason: /fault: faults\[0\] \(.*\) could not be injected/,
    run: async () => runAgainst(await shop('correct', 150), scenario('fault-failed', { faults: [{ at: '100ms', exec: ['false'] }] }), { args: ['--allow-exec'] }),
  },
  {
    target: 'correct shop, starved generator',
    behaviour: 'sells exactly; the load worker\'s event loop is blocked 150 ms in every 200 ms',
    status: 'inconclusive',
    because: 'the generator could not keep its schedule: neither passed nor failed',
    reason: /generator: .*could not keep the arrival rate/,
    run: async () =>
      runAgainst(await shop('correct', 150), scenario('starved'), { nodeArgs: ['--import', STALL_HOOK], env: { FLASHSALE_TEST_STALL: '150/200' } }),
  },
  {
    target: 'correct shop, SIGTERM',
    behaviour: 'the run is stopped from outside while buyers are still coming',
    status: 'interrupted',
    because: 'interrupted (k6\'s 105); the audit and the report still happen',
    reason: /^interrupted: /,
    run: async () => interrupted(),
  },
];

/** A long run against a correct shop, SIGTERMed once load is flowing. */
async function interrupted(): Promise<Outcome> {
  const target = await shop('correct', 100_000);
  const started = performance.now();
  try {
    const out = join(dir, 'out-sigterm');
    const child = spawnFlashsale(['run', scenario('sigterm', { stock: 100_000, rate: 200, durationS: 30 }), '--target', target.url, '--json', '--out', out]);
    const deadline = Date.now() + 20_000;
    // Progress lines come once a second on a pipe: the second one means buyers are being served.
    while ((child.stderr().match(/ req\/s/g) ?? []).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.child.kill('SIGTERM');
    const run = await child.done;
    expect(existsSync(join(out, 'result.json')), 'result.json written').toBe(true);
    expect(existsSync(join(out, 'report.html')), 'report.html written').toBe(true);
    expect(run.stderr).toMatch(/stopping \(SIGTERM\)/);
    return { run, summary: JSON.parse(run.stdout.trim().split('\n').at(-1)!), seconds: (performance.now() - started) / 1000 };
  } finally {
    await target.close();
  }
}

const EXIT_OF: Record<VerdictStatus, number> = {
  passed: EXIT.ok,
  thresholds_crossed: EXIT.thresholdsCrossed,
  audit_failed: EXIT.auditFailed,
  inconclusive: EXIT.inconclusive,
  interrupted: EXIT.interrupted,
};

describe('the verdict for each kind of target', () => {
  for (const c of CASES) {
    it.skipIf(c.skip !== undefined)(`${c.target}: ${c.status} (exit ${EXIT_OF[c.status]})`, async () => {
      const { run, summary, seconds } = await c.run();
      expect(run.stderr).not.toMatch(/AssertionError|\n\s+at /); // never a crash or a stack
      // A correct target passes, unless this shared machine was so busy the run was honestly inconclusive.
      if (c.status === 'passed' && !expectPassedUnlessBusy(summary, run.code)) return;
      expect(summary.status, summary.verdict.reasons.join('\n')).toBe(c.status);
      expect(run.code).toBe(EXIT_OF[c.status]);
      const reasons = summary.verdict.reasons.join('; ');
      expect(reasons).toMatch(c.reason);
      if (c.target === 'hang') {
        // The audit's GETs hang too: bounded by its budget, so the whole run ends within the caps; the
        // warm-up's GETs (load.warmup) hang before t0 for at most buyers.timeout (1 s here).
        expect(seconds).toBeLessThan(MAX_DURATION_S + GRACEFUL_STOP_S + AUDIT_BUDGET_MS / 1000 + 1 + 4);
        expect(summary.errorsByKind.timeout).toBeGreaterThan(0);
      }
      if (c.status === 'audit_failed') expect(run.stderr).toMatch(/AUDIT FAILED: /);
    });
  }
});

// ---- the table in docs/verdicts.md ------------------------------------------------------------------

const DOC = new URL('../docs/verdicts.md', import.meta.url);
const BEGIN = '<!-- verdict-table:begin (generated from test/verdicts.test.ts: do not edit by hand) -->';
const END = '<!-- verdict-table:end -->';

function verdictTable(): string {
  const rows = CASES.map((c) => `| ${c.target} | ${c.behaviour} | \`${c.status}\` | ${EXIT_OF[c.status]} | ${c.because} |`);
  return ['| target | what it does | verdict | exit | because |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

describe('docs/verdicts.md', () => {
  it('lists every case above, as the tests run it', () => {
    const text = readFileSync(DOC, 'utf8');
    const start = text.indexOf(BEGIN);
    const end = text.indexOf(END);
    expect(start, `${BEGIN} in docs/verdicts.md`).toBeGreaterThanOrEqual(0);
    const current = text.slice(start + BEGIN.length, end).trim();
    if (process.env.FLASHSALE_WRITE_DOCS === '1' && current !== verdictTable()) {
      writeFileSync(DOC, `${text.slice(0, start + BEGIN.length)}\n${verdictTable()}\n${text.slice(end)}`);
      return;
    }
    expect(current, 'docs/verdicts.md is stale: regenerate it with FLASHSALE_WRITE_DOCS=1 npx vitest run test/verdicts.test.ts').toBe(verdictTable());
  });
});
