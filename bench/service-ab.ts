// node bench/service-ab.ts --base /tmp/svc-base [--pairs 8] [--rows 2:disk] [--duration 4 --warmup 1]
// A/B of the service between two trees: this one ("new") and --base (a worktree of the commit to compare
// with, node_modules linked). Each pair runs bench:service once from each tree, one after the other,
// the order swapped every pair, and takes new/base of checkouts/s and of service CPU µs per checkout
// (all threads, and the HTTP threads and ledger thread apart) for every row. On a shared machine the
// absolute figures swing several-fold between runs; the ratios within a pair are what to read, as
// median and range over the pairs. With --json the last line is one JSON object.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spread } from './stats.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    pairs: { type: 'string', default: '8' },
    rows: { type: 'string', default: '2:disk' },
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '64' },
    json: { type: 'boolean', default: false },
  },
});
const here = fileURLToPath(new URL('..', import.meta.url));
if (values.base === undefined || !existsSync(join(values.base, 'bench/service.ts'))) {
  console.error('bench:service-ab: --base must name a tree that holds bench/service.ts (e.g. git worktree add /tmp/svc-base <commit>, node_modules linked)');
  process.exit(2);
}
const pairs = Math.max(1, Math.floor(Number(values.pairs)) || 1);

interface Row { threads: number; ledger: string; checkoutsPerSec: number; serviceCpuUsPerCheckout: number; cpuUsByThread: { http: number; ledger: number } | null; ordersPerCommit: number }

function run(tree: string): Row[] {
  const args = [join(tree, 'bench/service.ts'), '--json', '--rows', values.rows, '--duration', values.duration, '--warmup', values.warmup, '--connections', values.connections];
  const r = spawnSync(process.execPath, args, { cwd: tree, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !last.startsWith('{')) {
    console.error(`bench:service-ab: the run in ${tree} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
  return (JSON.parse(last) as { rows: Row[] }).rows; // bench:service --json prints one summary object last
}

const figures = ['checkoutsPerSec', 'cpuUsPerCheckout', 'httpCpuUs', 'ledgerCpuUs', 'ordersPerCommit'] as const;
type Figure = (typeof figures)[number];
const pick = (r: Row): Record<Figure, number> => ({
  checkoutsPerSec: r.checkoutsPerSec,
  cpuUsPerCheckout: r.serviceCpuUsPerCheckout,
  httpCpuUs: r.cpuUsByThread?.http ?? NaN,
  ledgerCpuUs: r.cpuUsByThread?.ledger ?? NaN,
  ordersPerCommit: r.ordersPerCommit,
});
const ratios = new Map<string, Record<Figure, number[]>>();
const absolute: Array<{ pair: number; tree: 'base' | 'new'; row: string } & Record<Figure, number>> = [];

for (let p = 0; p < pairs; p++) {
  const order: Array<'base' | 'new'> = p % 2 === 0 ? ['base', 'new'] : ['new', 'base'];
  const got: Partial<Record<'base' | 'new', Row[]>> = {};
  for (const side of order) {
    got[side] = run(side === 'base' ? values.base : here);
    for (const r of got[side]) absolute.push({ pair: p + 1, tree: side, row: `${r.threads}:${r.ledger}`, ...pick(r) });
  }
  for (const n of got.new!) {
    const b = got.base!.find((x) => x.threads === n.threads && x.ledger === n.ledger);
    if (!b) continue;
    const key = `${n.threads}:${n.ledger}`;
    const acc = ratios.get(key) ?? (Object.fromEntries(figures.map((f) => [f, []])) as unknown as Record<Figure, number[]>); // filled just below
    const pn = pick(n);
    const pb = pick(b);
    for (const f of figures) acc[f].push(pn[f] / pb[f]);
    ratios.set(key, acc);
  }
  if (!values.json) process.stderr.write(`pair ${p + 1}/${pairs}: ${got.new!.map((r) => `${r.threads}:${r.ledger} new ${r.checkoutsPerSec}/s ${r.serviceCpuUsPerCheckout} µs, base ${got.base!.find((x) => x.threads === r.threads && x.ledger === r.ledger)?.checkoutsPerSec}/s ${got.base!.find((x) => x.threads === r.threads && x.ledger === r.ledger)?.serviceCpuUsPerCheckout} µs`).join('; ')}\n`);
}

const summary = Object.fromEntries([...ratios].map(([row, acc]) => [row, Object.fromEntries(figures.map((f) => [f, spread(acc[f])]))]));
if (values.json) console.log(JSON.stringify({ bench: 'service-ab', pairs, rows: values.rows, durationSec: Number(values.duration), ratios: summary, absolute }));
else {
  console.log(`\nnew/base over ${pairs} pair(s), median (range):`);
  for (const [row, s] of Object.entries(summary)) {
    console.log(`${row}: ${figures.map((f) => `${f} ${s[f].median.toFixed(3)} (${s[f].min.toFixed(3)}–${s[f].max.toFixed(3)})`).join(', ')}`);
  }
}
