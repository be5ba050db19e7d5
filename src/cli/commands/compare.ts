// `flashsale compare <a.json> <b.json> [--html out.html]`: two runs side by side with the change.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { change, compareRows, unjudgedNote } from '../../report/compare.ts';
import { formatCompare } from '../../report/compare-text.ts';
import { buildCompareHtml } from '../../report/html/compare-page.ts';
import { readResult } from '../../report/index.ts';
import { useColor } from '../color.ts';

export function register(program: Command): void {
  program
    .command('compare')
    .description('Put two runs side by side: latency percentiles per step, throughput, sell-out time, sold, verdicts, and the change in each.')
    .argument('<a.json>', 'the baseline result.json (A)')
    .argument('<b.json>', 'the result.json to compare with it (B)')
    .option('--html <file.html>', 'also write a comparison page with charts')
    .option('--json', 'print the comparison as JSON instead of a table')
    .option('--no-color', 'no colour in the table')
    .action(async (fileA: string, fileB: string, opts: { html?: string; json?: boolean; color?: boolean }) => {
      const [a, b] = await Promise.all([readResult(fileA), readResult(fileB)]);
      if (opts.json) {
        const rows = compareRows(a, b).map((r) => (r.kind === 'number' ? { key: r.key, a: r.a, b: r.b, ...change(r) } : { key: r.key, a: r.a, b: r.b }));
        const note = unjudgedNote(a, b);
        console.log(JSON.stringify({ a: fileA, b: fileB, verdicts: { a: a.verdict.status, b: b.verdict.status }, judged: note === null, note, rows }, null, 2));
      } else {
        console.log(formatCompare(a, b, [fileA, fileB], { color: useColor(opts.color) }));
      }
      if (opts.html) {
        const out = resolve(opts.html);
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, buildCompareHtml(a, b, [fileA, fileB]));
        console.error(`comparison page written to ${out}`);
      }
    });
}
