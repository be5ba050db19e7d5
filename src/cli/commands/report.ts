// `flashsale report <result.json> [--out file.html]`: rebuilds the HTML report of a finished run.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildReportHtml, formatSummary, readResult } from '../../report/index.ts';
import { useColor } from '../color.ts';

export function register(program: Command): void {
  program
    .command('report')
    .description('Rebuild the self-contained HTML report (report.html) from a result.json.')
    .argument('<result.json>', 'a result.json written by flashsale run or merge')
    .option('-o, --out <file.html>', 'where to write the page (default: report.html beside the result)')
    .option('-s, --summary', 'also print the terminal summary')
    .option('--no-color', 'no colour in the summary')
    .action(async (file: string, opts: { out?: string; summary?: boolean; color?: boolean }) => {
      const result = await readResult(file);
      const out = resolve(opts.out ?? join(dirname(file), 'report.html'));
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, buildReportHtml(result));
      if (opts.summary) console.log(formatSummary(result, { color: useColor(opts.color) }));
      console.log(`report written to ${out}`);
    });
}
