// `flashsale scenarios [scenario] [--json]`: lists the presets, or validates one scenario file and
// shows what it describes (exit 2 with every problem named if it is invalid).
import type { Command } from 'commander';
import { count } from '../../common/format.ts';
import { loadScenario, presetNames, summarizeScenario } from '../../scenario/index.ts';
import type { ScenarioSummary } from '../../scenario/index.ts';
import { NO_LIMIT } from '../../contract/sale.ts';

/** First sentence, cut to `width` characters. */
function headline(text: string, width: number): string {
  const first = /^(.*?[.!?])(\s|$)/.exec(text)?.[1] ?? text;
  return first.length <= width ? first : `${first.slice(0, width - 1)}…`;
}

function table(rows: ScenarioSummary[]): string {
  const cols = [
    ['name', (r: ScenarioSummary) => r.name],
    ['units', (r: ScenarioSummary) => count(r.units)],
    ['arrival', (r: ScenarioSummary) => r.arrival],
  ] as const;
  const widths = cols.map(([h, f]) => Math.max(h.length, ...rows.map((r) => f(r).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const room = Math.max(40, (process.stdout.columns ?? 160) - widths.reduce((a, w) => a + w + 2, 0));
  const out = [line(cols.map(([h]) => h)) + '  description'];
  for (const r of rows) out.push(line(cols.map(([, f]) => f(r))) + '  ' + headline(r.description, room));
  return out.join('\n');
}

function details(r: ScenarioSummary, path: string): string {
  return [
    `${r.name}: valid (${path})`,
    `  ${r.description}`,
    `  sale:       ${count(r.units)} units over ${r.skus} SKU${r.skus === 1 ? '' : 's'}, ${r.perUserLimit === NO_LIMIT ? 'no per-user limit' : `${r.perUserLimit} per user`}`,
    `  buyers:     ${r.arrival}; ${r.journey} journey`,
    `  target:     ${r.target}`,
    `  thresholds: ${r.thresholds}`,
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('scenarios')
    .description('List the preset scenarios, or validate a scenario file and show what it describes.')
    .argument('[scenario]', 'a scenario file or preset name to validate')
    .option('--json', 'print JSON instead of a table')
    .action((arg: string | undefined, opts: { json?: boolean }) => {
      if (arg !== undefined) {
        const { scenario, path } = loadScenario(arg);
        const summary = summarizeScenario(scenario);
        console.log(opts.json ? JSON.stringify({ ...summary, path }, null, 2) : details(summary, path));
        return;
      }
      const rows = presetNames().map((name) => {
        const { scenario, path } = loadScenario(name);
        return { ...summarizeScenario(scenario), path };
      });
      console.log(opts.json ? JSON.stringify(rows, null, 2) : table(rows));
    });
}
