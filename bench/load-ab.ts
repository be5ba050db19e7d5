// node bench/load-ab.ts <base worktree> <new worktree> [pairs 10] [ms per run 2000]
//
// A/B of two versions of the load engine in ONE process: each worktree's runLoadInline (its own copy of
// src/, the same node_modules), taking turns in short closed-loop runs (64 connections, full recording,
// the raw transport, bench:load's plan) against one canned target (bench:load's, in its own process),
// the order swapped every pair. Each pair's ratio is read within the pair, so a shared machine's
// drifting speed falls on both alike; prints CPU per request (user + system, and user), requests/s,
// and the median and range of new / base. For example:
//   git worktree add /tmp/base <commit>; ln -s "$PWD/node_modules" /tmp/base/node_modules
//   node bench/load-ab.ts /tmp/base "$PWD"
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import type { LoadPlan } from '../src/contract/load-plan.ts';
import { closedLoopPlan } from './closed-loop-plan.ts';
import type { LoadResult } from '../src/contract/result.ts';
import { startCannedTarget } from './canned-target.ts';

type RunInline = (plan: LoadPlan) => Promise<LoadResult>;
type Side = 'base' | 'new';

const [baseArg, newArg] = process.argv.slice(2, 4);
if (baseArg === undefined || newArg === undefined) throw new Error('usage: node bench/load-ab.ts <base worktree> <new worktree> [pairs] [ms per run]');
const pairs = Number(process.argv[4] ?? 10);
const sliceMs = Number(process.argv[5] ?? 2000);
const load = async (dir: string): Promise<RunInline> => ((await import(`${resolve(dir)}/src/load/inline.ts`)) as { runLoadInline: RunInline }).runLoadInline; // each worktree's own engine
const engines: Record<Side, RunInline> = { base: await load(baseArg), new: await load(newArg) };
const { url, child } = await startCannedTarget();
try {
  const plan = (durationMs: number): LoadPlan => closedLoopPlan(url, 64, durationMs);
  const one = async (side: Side) => {
    const cpu = process.cpuUsage();
    const r = await engines[side](plan(sliceMs));
    const u = process.cpuUsage(cpu);
    const n = r.counts.requestsAnswered;
    return { us: (u.user + u.system) / n, user: u.user / n, rps: n / (sliceMs / 1000) };
  };
  for (const s of ['base', 'new', 'base', 'new'] as const) await one(s); // warm both
  const ratios: number[] = [];
  const userRatios: number[] = [];
  const rpsRatios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const order: Side[] = i % 2 ? ['new', 'base'] : ['base', 'new'];
    const res: Partial<Record<Side, Awaited<ReturnType<typeof one>>>> = {};
    for (const s of order) res[s] = await one(s);
    const b = res.base!;
    const n = res.new!; // both sides ran just above
    ratios.push(n.us / b.us);
    userRatios.push(n.user / b.user);
    rpsRatios.push(n.rps / b.rps);
    console.log(`pair ${i + 1}: CPU µs/request base ${b.us.toFixed(1)} (user ${b.user.toFixed(1)}), new ${n.us.toFixed(1)} (user ${n.user.toFixed(1)}); req/s base ${Math.round(b.rps)}, new ${Math.round(n.rps)}`);
  }
  const median = (a: number[]) => {
    const v = [...a].sort((x, y) => x - y);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const f = (a: number[]) => `${median(a).toFixed(3)} (${Math.min(...a).toFixed(3)}–${Math.max(...a).toFixed(3)})`;
  console.log(`new/base over ${pairs} pairs, median (range): CPU per request ${f(ratios)}; user CPU ${f(userRatios)}; req/s ${f(rpsRatios)}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  child.kill();
}
