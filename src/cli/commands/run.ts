// `flashsale run <scenario>`: replay a sale end to end, audit it, write reports/…, print the verdict.
// Exit codes (src/errors.ts): 0 passed, 99 thresholds crossed, 3 audit failed (outranks the others),
// 4 inconclusive (the generator could not keep its schedule), 105 interrupted, 2 bad usage, 1 other.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { describeAuditFailures } from '../../audit/index.ts';
import { formatSummary, jsonSummary, writeRunOutputs } from '../../report/index.ts';
import { defaultOutDir, runScenario } from '../../run/run-scenario.ts';
import { loadScenario, stockOf } from '../../scenario/index.ts';
import type { RunResult } from '../../contract/result.ts';
import { ADMIN_TOKEN_ENV, readAdminToken } from '../admin-token.ts';
import { duration, httpUrl, integer } from '../options.ts';
import { createProgressReporter } from '../progress.ts';
import { useColor } from '../color.ts';

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
  allowExec?: boolean;
}

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
  const where = t.builtIn ? ' (built-in service)' : t.from === 'flag' ? ' (--target)' : " (the scenario's target.url)";
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
    .option('-w, --workers <n>', 'load worker threads', integer(1, 64))
    .option('--service-threads <n>', 'HTTP threads of the built-in service', integer(1, 64))
    .option('--seed <n>', 'seed for every random choice', integer(0, 2 ** 32 - 1))
    .option('-d, --duration <time>', 'cap on the run (e.g. 30s)', duration)
    .option('-q, --quiet', 'no progress, only the summary')
    .option('--json', 'print the result summary as one JSON object on stdout')
    .option('--no-color', 'no colour in the summary')
    .option('--allow-exec', "let the scenario's exec faults run their commands on this machine, as you (docs/faults.md)")
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (arg: string, opts: RunOptions) => {
      const loaded = loadScenario(arg);
      const adminToken = readAdminToken(opts.adminTokenFile);
      const outDir = resolve(opts.out ?? defaultOutDir(process.cwd(), loaded.scenario.name));
      // The ledger lives there from the start, so a folder that cannot be made is said before anything runs.
      await mkdir(outDir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
        throw new UsageError(`--out ${outDir}: cannot create the folder (${e.code ?? e.message}).`);
      });
      const log = (line: string) => {
        if (!opts.quiet) process.stderr.write(`${line}\n`);
      };
      const progress = createProgressReporter({ stream: process.stderr, totalStock: stockOf(loaded.scenario).total, quiet: opts.quiet });
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
        result = await runScenario({
          loaded,
          targetUrl: opts.target,
          adminToken,
          ledgerPath: resolve(outDir, 'ledger.db'),
          workers: opts.workers,
          serviceThreads: opts.serviceThreads,
          seed: opts.seed,
          maxDurationMs: opts.duration,
          signal: abort.signal,
          onProgress: (p) => progress.update(p),
          onTargetReady: (target) => log(targetLine(loaded.scenario.name, target)),
          allowExec: opts.allowExec,
          log,
        });
      } finally {
        progress.done();
      }
      try {
        const files = await writeRunOutputs(result, outDir);
        if (opts.json) process.stdout.write(`${JSON.stringify(jsonSummary(result))}\n`);
        else process.stdout.write(`${formatSummary(result, { color: useColor(opts.color) })}\n`);
        log(`results: ${outDir} (${files.length} files)`);
        if (result.audit && !result.audit.passed) {
          for (const line of describeAuditFailures(result.audit)) process.stderr.write(`AUDIT FAILED: ${line}\n`);
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      process.exitCode = result.verdict.exitCode;
    });
}
