// `flashsale run <scenario>`: replay a sale end to end, audit it, write reports/…, print the verdict.
// Exit codes (src/errors.ts): 0 passed, 99 thresholds crossed, 3 audit failed (outranks the others),
// 4 inconclusive (the generator could not keep its schedule), 105 interrupted, 2 bad usage, 1 other.
import { mkdir, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { messageOf, UsageError } from '../../errors.ts';
import { describeAuditFailures } from '../../audit/index.ts';
import { buildReportHtml, formatSummary, jsonSummary, latencyLimitsOf, writeRunOutputs } from '../../report/index.ts';
import { defaultOutDir, runScenario } from '../../run/run-scenario.ts';
import { findK6, runK6 } from '../../run/k6-engine.ts';
import { loadScenario, refuseFaults, stockOf } from '../../scenario/index.ts';
import type { RunResult } from '../../contract/result.ts';
import { ADMIN_TOKEN_ENV, readAdminToken } from '../admin-token.ts';
import { duration, httpUrl, integer, listenAddress } from '../options.ts';
import { LiveAggregator } from '../../measure/live.ts';
import { generatorLimits } from '../../measure/self-watch.ts';
import { latencyScale } from '../../judge/judge.ts';
import { durationMs } from '../../common/duration.ts';
import { startDashboard, type Dashboard } from '../dashboard.ts';
import { createProgressReporter } from '../progress.ts';
import { useColor } from '../color.ts';
import { parseSegment, type ExecutionSegment } from '../../schedule/index.ts';
import { MAX_SERVICE_PROCESSES, storesRunOf } from '../../run/service-processes.ts';

/** --segment: k6's execution-segment syntax (0:1/4), refused with exit 2 when it is not one. */
function segmentOption(value: string): ExecutionSegment {
  try {
    return parseSegment(value);
  } catch (e) {
    throw new UsageError(`--segment: ${messageOf(e)}`);
  }
}

interface RunOptions {
  target?: string;
  adminTokenFile?: string;
  out?: string;
  workers?: number;
  serviceThreads?: number;
  seed?: number;
  duration?: number;
  quiet?: boolean;
  json?: boolean;
  color?: boolean;
  segment?: ExecutionSegment;
  engine?: 'native' | 'k6';
  k6?: string;
  dashboard?: string | true;
  allowExec?: boolean;
  serviceProcesses?: number;
  stockStore?: string;
  ledger?: string;
  keepStores?: boolean;
  stockStrategy?: string;
}

/** How long the dashboard keeps serving the final report after the run while a page is open on it. */
const DASHBOARD_LINGER_MS = 30_000;
/** The dashboard's tick: at least one update a second. */
const DASHBOARD_TICK_MS = 500;

export const EXIT_CODES_HELP = `
Exit codes:
  0    passed: the audit, every threshold (the defaults included) and the generator's schedule held
  99   thresholds crossed (k6's code); a sale in which no order succeeded, or with too many errors or
       refusals, crosses the default thresholds (orders count>0, http_req_failed rate<0.05,
       http_req_rejected rate<0.5), which the scenario can override
  3    audit failed: oversold, an acknowledged order lost, a limit ignored, an order id reused
       (outranks every other code)
  4    inconclusive: the load generator could not keep its schedule (or crossed a threshold by no
       more than its own lateness; or the built-in service, which shares this machine, crossed a
       time threshold while other processes kept the CPU busy): the target was not tested as asked
  105  interrupted by Ctrl-C or SIGTERM (k6's code); the run still audits and writes everything
  2    bad usage: an invalid scenario or flag
  1    anything else
See docs/verdicts.md for what each kind of broken target gets.`;

function targetLine(name: string, t: RunResult['target']): string {
  const s = t.stores;
  const builtIn = s ? ` (built-in service: ${s.processes} process(es) × ${s.threadsPerProcess} thread(s) on ${s.stockStore} and ${s.ledger}${s.strategy === 'redis-leased' ? ', redis-leased' : ''}, schema ${s.schema})` : ' (built-in service)';
  const where = t.builtIn ? builtIn : t.from === 'flag' ? ' (--target)' : " (the scenario's target.url)";
  return `flashsale: ${name} → ${t.url}${where}`;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('Replay a flash sale against a checkout service, audit it and write a report.')
    .argument('<scenario>', 'a scenario file or a preset name (see `flashsale scenarios`)')
    .option('--target <url>', "the service under test; overrides the scenario's target.url (default: that URL, else the built-in service, started in-process)", httpUrl)
    .option('--admin-token-file <path>', `bearer token for the target's GET /admin/orders, so the audit reads its ledger (or set ${ADMIN_TOKEN_ENV}); never a flag: it would show in ps`)
    .option('-o, --out <dir>', 'where results go (default: reports/<scenario>-<time>/)')
    .option('-w, --workers <n>', "load worker threads (default: the scenario's load.workers, else 1)", integer(1, 64))
    .option('--service-threads <n>', 'HTTP threads of the built-in service (default: min(2, CPUs))', integer(1, 64))
    .option('--seed <n>', "seed for every random choice (default: the scenario's load.seed, else 1)", integer(0, 2 ** 32 - 1))
    .option('-d, --duration <time>', "cap on the run, e.g. 30s (default: the scenario's load.maxDuration)", duration)
    .option('--segment <from:to>', "run only this share of the crowd (k6's execution-segment syntax, e.g. 0:1/4), for load from several machines against one --target; merge the results with `flashsale merge` (docs/distributed.md)", segmentOption)
    .option('--engine <native|k6>', 'the load generator: native (default) or k6, running scenarios/k6/flash-sale.js and importing its raw output (docs/k6.md)', (v: string) => {
      if (v !== 'native' && v !== 'k6') throw new UsageError(`--engine "${v}" is not native or k6`);
      return v;
    })
    .option('--k6 <path>', 'the k6 binary for --engine k6 (default: K6_BIN, then .tools/bin/k6, then PATH)')
    .option('-q, --quiet', 'no progress, only the summary (default: a progress line on stderr)')
    .option('--json', 'print the result summary as one JSON object on stdout')
    .option('--no-color', 'no colour in the summary')
    .option('--dashboard [host:port]', 'serve a live page during the run (charts, then the final report) and /metrics for Prometheus (default: 127.0.0.1 and a free port, printed at start; loopback only unless a host is given)')
    .option('--service-processes <n>', `run the built-in service as N \`flashsale serve\` processes on the shared stores, behind one URL (needs --stock-store and --ledger; docs/stores.md)`, integer(1, MAX_SERVICE_PROCESSES))
    .option('--stock-store <redis://host:port/db|redis-server>', "with --service-processes: the Redis the processes share, or redis-server to start the run's own (nothing on disk; the only Redis a fault may restart)")
    .option('--ledger <postgres://user@host:port/db>', 'with --service-processes: the PostgreSQL ledger the processes share (the run uses a fresh schema of its own)')
    .option('--stock-strategy <redis-lua|redis-leased>', 'with --service-processes: how the processes share the Redis stock — redis-lua (default: one script call per take) or redis-leased (leases sold from each process\'s memory; reservations held in Redis); docs/stores.md')
    .option('--keep-stores', "with --service-processes: keep the run's PostgreSQL schema and Redis keys (printed at the end) instead of dropping them")
    .option('--allow-exec', "let the scenario's exec faults run their commands on this machine, as you (docs/faults.md)")
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (arg: string, opts: RunOptions) => {
      const loaded = loadScenario(arg);
      // Checked before anything starts: no store is touched and no load is sent on a bad combination.
      const stores = storesRunOf({ processes: opts.serviceProcesses, stockStore: opts.stockStore, ledger: opts.ledger, keepStores: opts.keepStores, stockStrategy: opts.stockStrategy, target: opts.target });
      if (stores && opts.engine === 'k6') throw new UsageError('--service-processes works with the native engine only');
      if (opts.engine === 'k6') refuseFaults(loaded.scenario, 'run --engine k6'); // before looking for k6: this is the first thing wrong
      const k6 = opts.engine === 'k6' ? findK6(opts.k6) : null;
      // k6 reports only when it ends (its raw output is imported afterwards): nothing live to show.
      if (k6 !== null && opts.dashboard !== undefined) throw new UsageError('--dashboard works with the native engine only: k6 runs are imported when k6 ends');
      const adminToken = readAdminToken(opts.adminTokenFile);
      const outDir = resolve(opts.out ?? defaultOutDir(process.cwd(), loaded.scenario.name));
      // The ledger lives there from the start, so a folder that cannot be made is said before anything runs.
      await mkdir(outDir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
        throw new UsageError(`--out ${outDir}: cannot create the folder (${e.code ?? e.message}).`);
      });
      const log = (line: string) => {
        if (!opts.quiet) process.stderr.write(`${line}\n`);
      };
      const totalStock = stockOf(loaded.scenario).total;
      const progress = createProgressReporter({ stream: process.stderr, totalStock, quiet: opts.quiet });
      // Live figures for the progress line and the dashboard, held to the limit the judge will use.
      const thresholdList = Object.entries(loaded.scenario.thresholds ?? {}).flatMap(([metric, list]) => list.map((t) => ({ metric, expression: typeof t === 'string' ? t : t.threshold })));
      const scale = latencyScale(thresholdList);
      const live = new LiveAggregator({
        stock: totalStock,
        latenessLimitMs: generatorLimits(scale?.ms ?? null, scale?.from).latenessMs,
        capMs: opts.duration ?? durationMs(loaded.scenario.load.maxDuration),
        skus: loaded.scenario.sale.skus,
      });
      let dashboard: Dashboard | null = null;
      if (opts.dashboard !== undefined) {
        const { host, port } = listenAddress(opts.dashboard);
        dashboard = await startDashboard({ host, port, title: loaded.scenario.name, first: live.snapshot(), limits: latencyLimitsOf(thresholdList) });
        process.stderr.write(`flashsale: live dashboard at ${dashboard.url} (Prometheus: ${dashboard.url}metrics)\n`);
      }
      // The first Ctrl-C or SIGTERM stops the load gracefully, and the run still audits and writes what
      // was measured (verdict: interrupted, exit 105); a second one quits at once.
      const abort = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (abort.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
        log(`\nstopping (${signal}): finishing in-flight requests, then the audit and the report (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to quit now)`);
        abort.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let result;
      try {
        if (k6 !== null) {
          result = await runK6({
            loaded,
            k6,
            outDir,
            targetUrl: opts.target,
            adminToken,
            segment: opts.segment,
            serviceThreads: opts.serviceThreads,
            ledgerPath: resolve(outDir, 'ledger.db'),
            signal: abort.signal,
            onOutput: (chunk) => log(chunk.trimEnd()),
            onTargetReady: (target) => log(targetLine(loaded.scenario.name, target)),
          });
        } else result = await runScenario({
          loaded,
          targetUrl: opts.target,
          adminToken,
          ledgerPath: resolve(outDir, 'ledger.db'),
          workers: opts.workers,
          serviceThreads: opts.serviceThreads,
          seed: opts.seed,
          segment: opts.segment,
          maxDurationMs: opts.duration,
          signal: abort.signal,
          onProgress: (p) => {
            const snapshot = live.sample(p);
            progress.update(p, snapshot);
            dashboard?.push(snapshot);
          },
          progressEveryMs: dashboard ? DASHBOARD_TICK_MS : undefined,
          onTargetReady: (target) => log(targetLine(loaded.scenario.name, target)),
          allowExec: opts.allowExec,
          log,
          stores,
        });
      } catch (e) {
        await dashboard?.close();
        throw e;
      } finally {
        progress.done();
      }
      try {
        const files = await writeRunOutputs(result, outDir);
        if (opts.json) process.stdout.write(`${JSON.stringify(jsonSummary(result))}\n`);
        else process.stdout.write(`${formatSummary(result, { color: useColor(opts.color) })}\n`);
        // Every file in the folder: the outputs and the built-in service's ledger.
        const written = await readdir(outDir).catch(() => files);
        log(`results: ${outDir} (${Math.max(written.length, files.length)} files)`);
        if (dashboard) {
          dashboard.finish(live.finish(), buildReportHtml(result));
          // A page watching gets the report link; keep serving it a while (bounded), then close.
          if (dashboard.watchers() > 0) {
            log(`dashboard: the run is over; the report is at ${dashboard.url}report for ${DASHBOARD_LINGER_MS / 1000} s more (Ctrl-C to close now)`);
            process.off('SIGINT', onSignal);
            // Until the last page closes, Ctrl-C, or the linger ends, whichever comes first.
            let stop = false;
            const onStop = () => void (stop = true);
            process.once('SIGINT', onStop);
            for (let waited = 0; waited < DASHBOARD_LINGER_MS && !stop && dashboard.watchers() > 0; waited += 200) await new Promise((r) => setTimeout(r, 200));
            process.off('SIGINT', onStop);
          }
        }
        if (result.audit && !result.audit.passed) {
          for (const line of describeAuditFailures(result.audit)) process.stderr.write(`AUDIT FAILED: ${line}\n`);
        }
      } finally {
        await dashboard?.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      process.exitCode = result.verdict.exitCode;
    });
}
