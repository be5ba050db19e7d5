// `flashsale merge <result.json…> --out merged.json`: runs of one sale driven from several machines,
// merged exactly into one result (histograms added count for count).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { readResult } from '../../report/index.ts';
import { auditSharedTarget, mergeRunResults } from '../../run/merge-runs.ts';
import { ADMIN_TOKEN_ENV, readAdminToken } from '../admin-token.ts';
import { httpUrl } from '../options.ts';
import { resultJsonText } from '../../report/outputs/result-json.ts';
import { count, duration } from '../../common/format.ts';

export function register(program: Command): void {
  program
    .command('merge')
    .description('Merge the result.json files of one sale run from several machines into one, exactly.')
    .argument('<result.json...>', 'two or more result.json files')
    .requiredOption('-o, --out <merged.json>', 'where to write the merged result')
    .option('--target <url>', 'the shared target the runs loaded: audit it once now, after every run ended, instead of combining the audits each run made at its own end', httpUrl)
    .option('--admin-token-file <path>', `bearer token for the target's GET /admin/orders, so the audit reads its ledger (or set ${ADMIN_TOKEN_ENV})`)
    .action(async (files: string[], opts: { out: string; target?: string; adminTokenFile?: string }) => {
      if (files.length < 2 && opts.target === undefined) throw new UsageError(`merge needs at least two result files, got ${files.length}`);
      const inputs = [];
      for (const file of files) inputs.push({ file, result: await readResult(file) });
      const targetAudit = opts.target === undefined ? undefined : await auditSharedTarget(inputs[0], opts.target, readAdminToken(opts.adminTokenFile));
      const merged = mergeRunResults(inputs, targetAudit);
      const out = resolve(opts.out);
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, resultJsonText(merged));
      const s = merged.stock;
      for (const w of merged.warnings ?? []) console.error(`warning: ${w}`);
      const v = merged.verdict;
      console.log(`merged ${files.length} runs into ${out}: ${count(merged.counts.requestsSent)} requests, ${count(s.sold)} of ${count(s.initial)} units sold${s.sellOutMs === null ? '' : `, sold out in ${duration(s.sellOutMs)}`}; ${v.status.replace('_', ' ')}${v.reasons.length ? ` (${v.reasons.join('; ')})` : ''}`);
      console.log(`view it: flashsale report ${out}`);
    });
}
