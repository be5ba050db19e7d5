// Where a checkout's CPU goes: reads the V8 CPU profiles (--cpu-prof, one file per thread) of a
// service that ran under bench:service's load and sums the sampled time by what the code was doing.
// Each sample is put in the category of the innermost frame a rule knows, walking from the leaf to the
// root: JSON.parse (a native frame no rule names) called from body.ts counts as the body, a socket
// write called from reply.ts counts as the socket. Only samples inside the measured window count.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame { functionName: string; url: string }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
export interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** The categories, in the order the table lists them. */
export const CATEGORIES = [
  'HTTP parsing (node:http, llhttp)',
  'body read + JSON parse',
  'routing, admission, validation',
  'idempotency',
  'per-user limits',
  'stock take',
  'ledger hand-off (HTTP thread side)',
  'ledger: messages in/out (ledger thread)',
  'ledger: SQLite insert + commit',
  'metrics counters',
  'reply (headers, node:http writing)',
  'socket reads/writes, event loop',
  'garbage collection',
  'other (V8, native, unattributed)',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** First rule whose test matches a frame decides; rules are tried leaf first, frame by frame. */
const RULES: Array<[(f: CallFrame) => boolean, Category]> = [
  [(f) => f.functionName === '(garbage collector)', 'garbage collection'],
  [(f) => f.url.includes('/src/service/body.ts'), 'body read + JSON parse'],
  [(f) => f.url.includes('/src/service/idempotency.ts'), 'idempotency'],
  [(f) => f.url.includes('/src/stock/user-limits.ts'), 'per-user limits'],
  [(f) => f.url.includes('/src/stock/') || f.url.includes('/src/service/state.ts'), 'stock take'],
  [(f) => f.url.includes('/src/service/ledger-client.ts'), 'ledger hand-off (HTTP thread side)'],
  [(f) => f.url.includes('/src/ledger/store.ts') || f.functionName === 'run' && f.url === '', 'ledger: SQLite insert + commit'],
  [(f) => f.url.includes('/src/ledger/') || f.url.includes('/src/service/ledger-thread.ts'), 'ledger: messages in/out (ledger thread)'],
  [(f) => f.url.includes('/src/service/prometheus.ts'), 'metrics counters'],
  [(f) => f.url.includes('/src/service/reply.ts') || f.url.includes('/src/service/exchange.ts'), 'reply (headers, node:http writing)'],
  [(f) => /\/src\/service\/(app|purchases|payment)\.ts/.test(f.url), 'routing, admission, validation'],
  [(f) => f.url === 'node:_http_outgoing', 'reply (headers, node:http writing)'],
  [(f) => /^node:(_http_server|_http_common|_http_incoming)$/.test(f.url), 'HTTP parsing (node:http, llhttp)'],
  [(f) => f.url.startsWith('node:internal/worker') || f.functionName === 'postMessage', 'ledger hand-off (HTTP thread side)'],
  [(f) => /^node:(net|stream|internal\/stream|internal\/streams|internal\/timers|internal\/process\/task_queues|timers)/.test(f.url), 'socket reads/writes, event loop'],
];

function categoryOf(frames: CallFrame[], isLedgerThread: boolean): Category {
  for (const f of frames) {
    for (const [test, category] of RULES) {
      if (!test(f)) continue;
      // On the ledger thread, port traffic is its side of the hand-off.
      if (isLedgerThread && category === 'ledger hand-off (HTTP thread side)') return 'ledger: messages in/out (ledger thread)';
      return category;
    }
  }
  return 'other (V8, native, unattributed)';
}

export interface ThreadSummary {
  /** main, http, ledger, or other (a thread whose role its frames do not say). */
  role: 'main' | 'http' | 'ledger' | 'other';
  /** Busy (non-idle) sampled µs in the window, by category. */
  busyUs: Map<Category, number>;
}

/** Sums one thread's profile by category over [fromUs, toUs] (the profile clock). */
export function summariseProfile(p: CpuProfile, fromUs = -Infinity, toUs = Infinity): ThreadSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const urls = p.nodes.map((n) => n.callFrame.url);
  const isLedger = urls.some((u) => u.includes('/src/service/ledger-thread.ts'));
  const role = isLedger ? 'ledger' : urls.some((u) => u.includes('/src/service/http-thread.ts')) ? 'http' : urls.some((u) => u.includes('/src/service/index.ts')) ? 'main' : 'other';
  const cache = new Map<number, Category | null>();
  const busyUs = new Map<Category, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    // A sample's time is the gap to the next sample (the last one gets the gap before it).
    const dt = i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1] : p.timeDeltas[i];
    if (t < fromUs || t > toUs || dt <= 0) continue;
    const id = p.samples[i];
    let cat = cache.get(id);
    if (cat === undefined) {
      const leaf = byId.get(id)!; // every sample names a node of the same profile
      if (leaf.callFrame.functionName === '(idle)') cat = null;
      else {
        const frames: CallFrame[] = [];
        for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) frames.push(byId.get(n)!.callFrame);
        cat = categoryOf(frames, isLedger);
      }
      cache.set(id, cat);
    }
    if (cat !== null) busyUs.set(cat, (busyUs.get(cat) ?? 0) + dt);
  }
  return { role, busyUs };
}

export interface ProfileTable {
  checkouts: number;
  /** µs of CPU per checkout by category, summed over all threads, and by thread role. */
  rows: Array<{ category: Category; usPerCheckout: number; share: number; byRole: Record<string, number> }>;
  totalUsPerCheckout: number;
}

/** Reads every .cpuprofile in `dir` and divides each category's time by the checkouts answered in the window. */
export function profileTable(dir: string, checkouts: number, fromUs: number, toUs: number): ProfileTable {
  const threads = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => summariseProfile(JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile, fromUs, toUs)); // files V8 wrote with --cpu-prof
  let total = 0;
  const rows = CATEGORIES.map((category) => {
    const byRole: Record<string, number> = {};
    let us = 0;
    for (const t of threads) {
      const v = t.busyUs.get(category) ?? 0;
      us += v;
      byRole[t.role] = (byRole[t.role] ?? 0) + v / Math.max(1, checkouts);
    }
    total += us;
    return { category, usPerCheckout: us / Math.max(1, checkouts), share: 0, byRole };
  });
  for (const r of rows) r.share = total > 0 ? (r.usPerCheckout * Math.max(1, checkouts)) / total : 0;
  return { checkouts, rows, totalUsPerCheckout: total / Math.max(1, checkouts) };
}

export function formatProfileTable(t: ProfileTable): string {
  const lines = [`CPU per checkout by category (${t.checkouts} checkouts in the window; sampled, all threads of the service process)`, ''];
  lines.push(`${'category'.padEnd(42)} ${'µs/checkout'.padStart(11)} ${'share'.padStart(6)}   ${'http'.padStart(6)} ${'ledger'.padStart(6)} ${'main'.padStart(6)}`);
  const f = (x: number | undefined) => (x ?? 0).toFixed(1).padStart(6);
  for (const r of t.rows) {
    lines.push(`${r.category.padEnd(42)} ${r.usPerCheckout.toFixed(1).padStart(11)} ${`${(r.share * 100).toFixed(1)}%`.padStart(6)}   ${f(r.byRole.http)} ${f(r.byRole.ledger)} ${f(r.byRole.main)}`);
  }
  lines.push(`${'total'.padEnd(42)} ${t.totalUsPerCheckout.toFixed(1).padStart(11)}`);
  return lines.join('\n');
}
