// The terminal view of a simulation: one row per figure, then a verdict that says plainly whether the
// strategy oversold or lost updates, whether the threads really raced, and (for naive) why it loses them.
import { count, ms, rate } from '../common/format.ts';
import { STRATEGY_DESCRIPTIONS } from '../stock/index.ts';
import { LOW_OVERLAP } from './overlap.ts';
import type { SimulationResult } from './summary.ts';

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

export function renderTable(r: SimulationResult): string {
  const rows: Array<[string, string]> = [
    ['strategy', `${r.strategy} — ${STRATEGY_DESCRIPTIONS[r.strategy]}`],
    ['threads', count(r.threads)],
    ['stock', `${count(r.stock)} units over ${count(r.skus)} SKU${r.skus === 1 ? '' : 's'}`],
    ['buyers', `${count(r.buyers)} (${count(r.users)} distinct users, 1–${r.maxQty} units each, seed ${r.seed})`],
    ['demand', `${count(r.demand)} units`],
    ['sold', `${count(r.sold)} units, by the buyers' receipts`],
    ['counter', `${count(r.available)} units left, so it recorded ${count(r.stock - r.available)} sold`],
    ['lost updates', count(r.lostUpdates)],
    ['oversold', count(r.oversold)],
    ['stranded', count(r.stranded)],
    ['per-user limit', r.perUserLimit === null ? 'none' : count(r.perUserLimit)],
    ['userLimitViolations', count(r.userLimitViolations)],
    ['refused (sold out)', count(r.refusedSoldOut)],
    ['refused (limit)', count(r.refusedLimit)],
    ['threads overlap', r.threads > 1 ? `${pct(r.overlap)} of the sale by the clock${r.concurrency === null ? '' : `; at the same instant in ${pct(r.concurrency)} of it`}` : '– (one thread)'],
    ['ops/s', rate(r.opsPerSec)],
    ['sell-out', r.sellOutMs === null ? 'not sold out' : `${ms(r.sellOutMs)} ms`],
    ['elapsed', `${ms(r.elapsedMs)} ms`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  lines.push('', ...verdictLines(r));
  return lines.join('\n');
}

/** Why naive loses updates, in the terms of the race the student just watched. */
export const LOST_UPDATE = [
  'why: naive takes a unit in three separate steps: read the counter, check it has enough, write back',
  'the value read minus the quantity. When two threads interleave those steps (both read 5, both see',
  'enough, both write 4), the second write overwrites the first: two buyers hold a unit each, and the',
  'counter recorded one sale. That is a lost update; at sell-out it is an oversell. The other strategies',
  'make read-check-write one indivisible step (a lock, or a compare-and-swap).',
];

/** The verdict: a first line that is never "exact" when anything went wrong or nothing could have. */
export function verdictLines(r: SimulationResult): string[] {
  const problems: string[] = [];
  if (r.oversold > 0) problems.push(`OVERSOLD ${count(r.oversold)} units it did not have`);
  if (r.lostUpdates > 0) problems.push(`the counter LOST ${count(r.lostUpdates)} updates: buyers hold ${count(r.lostUpdates)} units it still counts as available or never counted`);
  if (r.stranded > 0) problems.push(`left ${count(r.stranded)} units stranded while buyers were refused`);
  if (r.userLimitViolations > 0) problems.push(`${count(r.userLimitViolations)} users bought above the limit`);
  if (r.sold !== r.counterSold && r.lostUpdates === 0) problems.push(`the counter disagrees with the receipts by ${count(Math.abs(r.sold - r.counterSold))} units`);
  const together = togetherShare(r);
  const raced = r.threads < 2 || together >= LOW_OVERLAP;
  const lost = r.lostUpdates > 0 || r.oversold > 0;
  const lines: string[] = [];
  if (problems.length) lines.push(`${problems.join('; ')}.`);
  else if (r.strategy === 'naive') lines.push(`no update lost in this run, but naive is not safe: its read-check-write is not atomic${r.threads < 2 ? ' (one thread cannot race itself: try --threads 2)' : ''}.`);
  else lines.push(`exact: no oversell, nothing stranded, every user within the limit${raced ? '' : ' (in this run: see below)'}.`);
  if (!raced && lost) {
    lines.push(`the threads ran at the same instant for only ${pct(together)} of the sale (a busy machine, or more threads than cores): a longer true race loses more.`);
  } else if (!raced) {
    lines.push(
      `the threads did not race: they ran at the same instant for only ${pct(together)} of the sale (they took turns: a busy machine, or more threads than cores), so updates had little chance to be lost; this run proves little either way. Run it on an idle machine, or with more --stock so the sale lasts longer.`,
    );
  }
  if (r.strategy === 'naive') lines.push('', ...LOST_UPDATE);
  return lines;
}

/** How much of the sale the threads really ran at once: the clock's overlap, or less if the threads
 * saw each other stand still (taking turns on a core). */
export function togetherShare(r: SimulationResult): number {
  return r.concurrency === null ? r.overlap : Math.min(r.overlap, r.concurrency);
}

/** The verdict as one line (the first of verdictLines). */
export function verdict(r: SimulationResult): string {
  return verdictLines(r)[0];
}
