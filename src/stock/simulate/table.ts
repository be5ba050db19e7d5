// The terminal view of a simulation: one row per figure, then a one-line verdict that says plainly
// whether the strategy oversold.
import { count, ms, rate } from '../../report/format.ts';
import { STRATEGY_DESCRIPTIONS } from '../index.ts';
import type { SimulationResult } from './summary.ts';

export function renderTable(r: SimulationResult): string {
  const rows: Array<[string, string]> = [
    ['strategy', `${r.strategy} — ${STRATEGY_DESCRIPTIONS[r.strategy]}`],
    ['threads', count(r.threads)],
    ['stock', `${count(r.stock)} units over ${count(r.skus)} SKU${r.skus === 1 ? '' : 's'}`],
    ['buyers', `${count(r.buyers)} (${count(r.users)} distinct users, 1–${r.maxQty} units each, seed ${r.seed})`],
    ['demand', `${count(r.demand)} units`],
    ['sold', `${count(r.sold)} units (counter says ${count(r.counterSold)})`],
    ['oversold', count(r.oversold)],
    ['stranded', count(r.stranded)],
    ['per-user limit', r.perUserLimit === null ? 'none' : count(r.perUserLimit)],
    ['userLimitViolations', count(r.userLimitViolations)],
    ['refused (sold out)', count(r.refusedSoldOut)],
    ['refused (limit)', count(r.refusedLimit)],
    ['ops/s', rate(r.opsPerSec)],
    ['sell-out', r.sellOutMs === null ? 'not sold out' : `${ms(r.sellOutMs)} ms`],
    ['elapsed', `${ms(r.elapsedMs)} ms`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  lines.push('', verdict(r));
  return lines.join('\n');
}

export function verdict(r: SimulationResult): string {
  const problems: string[] = [];
  if (r.oversold > 0) problems.push(`OVERSOLD ${count(r.oversold)} units it did not have`);
  if (r.stranded > 0) problems.push(`left ${count(r.stranded)} units stranded while buyers were refused`);
  if (r.userLimitViolations > 0) problems.push(`${count(r.userLimitViolations)} users bought above the limit`);
  if (r.sold !== r.counterSold) problems.push(`the counter disagrees with the receipts by ${count(Math.abs(r.sold - r.counterSold))} units`);
  return problems.length === 0 ? 'exact: no oversell, nothing stranded, every user within the limit.' : `${problems.join('; ')}.`;
}
