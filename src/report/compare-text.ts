// The terminal table of `flashsale compare`: A, B, the change, and whether it is better or worse.
import type { RunResult } from '../contract/result.ts';
import { compareRows, formatChange, judgement, NOISE, render, unjudgedNote, type CompareRow } from './compare.ts';

const TEXT_WIDTH = 24;

const ansi = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[39m`;

function cells(row: CompareRow): [string, string, string, string] {
  if (row.kind === 'text') return [row.a, row.b, row.a === row.b ? '' : 'changed', ''];
  const show = (v: number | null) => (v === null ? '–' : render(row.unit, v));
  const c = formatChange(row);
  return [show(row.a), show(row.b), c.abs, c.pct];
}

export function formatCompare(a: RunResult, b: RunResult, names: [string, string], options: { color?: boolean } = {}): string {
  const rows = compareRows(a, b);
  const table = rows.map((r) => ({ r, c: cells(r) }));
  // Long texts (a generator's reason) would stretch every column: they go on lines of their own.
  const fits = (t: { r: CompareRow; c: string[] }) => t.r.kind === 'number' || (t.c[0].length <= TEXT_WIDTH && t.c[1].length <= TEXT_WIDTH);
  const inTable = table.filter(fits);
  const w = [
    Math.max(22, ...rows.map((r) => r.label.length + 2)),
    Math.max(12, ...inTable.map((t) => t.c[0].length)),
    Math.max(12, ...inTable.map((t) => t.c[1].length)),
    Math.max(10, ...table.map((t) => t.c[2].length)),
    Math.max(8, ...table.map((t) => t.c[3].length)),
  ];
  const note = unjudgedNote(a, b);
  const paint = (row: CompareRow, s: string) => {
    if (!options.color || row.kind !== 'number') return s;
    const j = judgement(row, note === null);
    return j === 'better' ? ansi(32)(s) : j === 'worse' ? ansi(31)(s) : s;
  };
  const label = (r: RunResult) => (r.verdict.status === 'inconclusive' || r.verdict.status === 'interrupted' ? `  [${r.verdict.status.toUpperCase()}]` : '');
  const out = ['', `  A: ${names[0]}${label(a)}`, `  B: ${names[1]}${label(b)}`, ''];
  if (note) out.push(`  ${options.color ? ansi(33)(note) : note}`, '');
  out.push(`  ${''.padEnd(w[0])}${'A'.padStart(w[1])}  ${'B'.padStart(w[2])}  ${'change'.padStart(w[3])}  ${'%'.padStart(w[4])}`);
  let group = '';
  for (const { r, c } of table) {
    if (r.group !== group) {
      group = r.group;
      out.push('', `  ${group}`);
    }
    if (!fits({ r, c })) {
      out.push(`    ${r.label}${c[2] ? ` (${c[2]})` : ''}`, `      A: ${c[0]}`, `      B: ${c[1]}`);
      continue;
    }
    const change = `${c[2].padStart(w[3])}  ${c[3].padStart(w[4])}`;
    out.push(`  ${`  ${r.label}`.padEnd(w[0])}${c[0].padStart(w[1])}  ${c[1].padStart(w[2])}  ${paint(r, change)}`);
  }
  out.push('', `  change = B − A; % relative to A${options.color ? `; green better, red worse (under ${NOISE * 100}% is noise)` : ''}. Corrected latency is timed from the intended send.`, '');
  return out.join('\n');
}
