// `flashsale run <scenario>`: replay a sale end to end, audit it, write reports/…, print the verdict.
// Exit codes: 0 all good, 99 a threshold crossed (k6's code), 3 the audit failed, 2 bad usage.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { describeAuditFailures } from '../../audit/index.ts';
import { formatSummary, jsonSummary, writeRunOutputs } from '../../report/index.ts';
import { defaultOutDir, runScenario } from '../../run/run-scenario.ts';
import { loadScenario, stockOf } from '../../scenario/index.ts';
import { duration, httpUrl, integer } from '../options.ts';
import { createProgressReporter } from '../progress.ts';
import { useColor } from '../color.ts';

interface RunOptions {
  target?: string;
  out?: string;
  workers?: number;
  serviceThreads?: number;
  seed?: number;
  duration?: number;
  quiet?: boolean;
  json?: boolean;
  color?: boolean;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('Replay a flash sale against a checkout service, audit it and write a report.')
    .argument('<scenario>', 'a scenario file or a preset name (see `flashsale scenarios`)')
    .option('--target <url>', 'the service under test (default: the built-in service, started in-process)', httpUrl)
    .option('-o, --out <dir>', 'where results go (default: reports/<scenario>-<time>/)')
    .option('-w, --workers <n>', 'load worker threads', integer(1, 64))
    .option('--service-threads <n>', 'HTTP threads of the built-in service', integer(1, 64))
    .option('--seed <n>', 'seed for every random choice', integer(0, 2 ** 32 - 1))
    .option('-d, --duration <time>', 'cap on the run (e.g. 30s)', duration)
    .option('-q, --quiet', 'no progress, only the summary')
    .option('--json', 'print the result summary as one JSON object on stdout')
    .option('--no-color', 'no colour in the summary')
    .action(async (arg: string, opts: RunOptions) => {
      const loaded = loadScenario(arg);
      const outDir = resolve(opts.out ?? defaultOutDir(process.cwd(), loaded.scenario.name));
      await mkdir(outDir, { recursive: true }); // the ledger lives there from the start
      const log = (line: string) => {
        if (!opts.quiet) process.stderr.write(`${line}\n`);
      };
      const progress = createProgressReporter({ stream: process.stderr, totalStock: stockOf(loaded.scenario).total, quiet: opts.quiet });
      // First Ctrl-C stops the load gracefully and keeps what was measured; a second one quits at once.
      const abort = new AbortController();
      const onSigint = () => {
        if (abort.signal.aborted) process.exit(130);
        log('\nstopping: finishing in-flight requests (Ctrl-C again to quit now)');
        abort.abort();
      };
      process.on('SIGINT', onSigint);
      let result;
      try {
        result = await runScenario({
          loaded,
          targetUrl: opts.target,
          ledgerPath: resolve(outDir, 'ledger.db'),
          workers: opts.workers,
          serviceThreads: opts.serviceThreads,
          seed: opts.seed,
          maxDurationMs: opts.duration,
          signal: abort.signal,
          onProgress: (p) => progress.update(p),
          onTargetReady: (url, builtIn) => log(`flashsale: ${loaded.scenario.name} → ${url}${builtIn ? ' (built-in service)' : ''}`),
        });
      } finally {
        progress.done();
        process.off('SIGINT', onSigint);
      }
      const files = await writeRunOutputs(result, outDir);
      if (opts.json) process.stdout.write(`${JSON.stringify(jsonSummary(result))}\n`);
      else process.stdout.write(`${formatSummary(result, { color: useColor(opts.color) })}\n`);
      log(`results: ${outDir} (${files.length} files)`);
      if (result.audit && !result.audit.passed) {
        for (const line of describeAuditFailures(result.audit)) process.stderr.write(`AUDIT FAILED: ${line}\n`);
      }
      process.exitCode = result.verdict.exitCode;
    });
}
