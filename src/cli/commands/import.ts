// `flashsale import k6 <output files…> --scenario <s> [--target URL]`: a result from k6 output made
// elsewhere (k6-operator runners writing `--out json` to a shared volume, one file per runner), so a
// distributed k6 test gets one exact result, audited and judged like a native run.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { messageOf, UsageError } from '../../errors.ts';
import { describeAuditFailures } from '../../audit/index.ts';
import { formatSummary, jsonSummary, writeRunOutputs } from '../../report/index.ts';
import { importK6 } from '../../run/import-k6.ts';
import { defaultOutDir } from '../../run/run-scenario.ts';
import { loadScenario } from '../../scenario/index.ts';
import { parseSegment, type ExecutionSegment } from '../../schedule/index.ts';
import type { RunResult } from '../../contract/result.ts';
import { ADMIN_TOKEN_ENV, readAdminToken } from '../admin-token.ts';
import { httpUrl } from '../options.ts';
import { useColor } from '../color.ts';

interface ImportOptions {
  scenario: string;
  target?: string;
  adminTokenFile?: string;
  segment?: ExecutionSegment;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
}

function segmentOption(value: string): ExecutionSegment {
  try {
    return parseSegment(value);
  } catch (e) {
    throw new UsageError(`--segment: ${messageOf(e)}`);
  }
}

/** Writes result.json, the report and the summary, as `run` does; returns the verdict's exit code. */
export async function writeImported(result: RunResult, outDir: string, opts: { json?: boolean; quiet?: boolean; color?: boolean }): Promise<number> {
  const files = await writeRunOutputs(result, outDir);
  if (opts.json) process.stdout.write(`${JSON.stringify(jsonSummary(result))}\n`);
  else process.stdout.write(`${formatSummary(result, { color: useColor(opts.color) })}\n`);
  if (!opts.quiet) process.stderr.write(`results: ${outDir} (${files.length} files)\n`);
  if (result.audit && !result.audit.passed) {
    for (const line of describeAuditFailures(result.audit)) process.stderr.write(`AUDIT FAILED: ${line}\n`);
  }
  return result.verdict.exitCode;
}

export function register(program: Command): void {
  const imp = program.command('import').description('Build a result from another load generator\'s raw output.');
  imp
    .command('k6')
    .description('Read k6 --out json output (plain or .gz; several files from several runners add up exactly) of scenarios/k6/flash-sale.js into a result: audited, judged, reported like a native run. k6 latency is uncorrected only.')
    .argument('<files...>', 'k6 JSON output files (k6 run --out json=<file>)')
    .requiredOption('--scenario <scenario>', 'the scenario file or preset the k6 test ran')
    .option('--target <url>', "the service k6 loaded, audited now (default: the scenario's target.url; without one, no audit)", httpUrl)
    .option('--admin-token-file <path>', `bearer token for the target's GET /admin/orders (or set ${ADMIN_TOKEN_ENV})`)
    .option('--segment <from:to>', 'the execution segment these files ran, when they are one share of a test to merge later', segmentOption)
    .option('-o, --out <dir>', 'where results go (default: reports/<scenario>-<time>/)')
    .option('-q, --quiet', 'only the summary')
    .option('--json', 'print the result summary as one JSON object on stdout')
    .option('--no-color', 'no colour in the summary')
    .action(async (files: string[], opts: ImportOptions) => {
      const loaded = loadScenario(opts.scenario);
      const result = await importK6({ loaded, files, targetUrl: opts.target, adminToken: readAdminToken(opts.adminTokenFile), segment: opts.segment });
      const outDir = resolve(opts.out ?? defaultOutDir(process.cwd(), loaded.scenario.name));
      await mkdir(outDir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
        throw new UsageError(`--out ${outDir}: cannot create the folder (${e.code ?? e.message}).`);
      });
      process.exitCode = await writeImported(result, outDir, opts);
    });
  imp.exitOverride().showHelpAfterError();
  for (const cmd of imp.commands) cmd.exitOverride().showHelpAfterError();
}
