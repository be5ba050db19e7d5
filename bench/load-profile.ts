// node bench/load-profile.ts [--duration 5s] [--connections 64] [--transport raw] [--out /tmp/gen.cpuprofile] [--top 30]
// valgrind --tool=callgrind --instr-atstart=no node bench/load-profile.ts --callgrind --warmup 20s --duration 30s
//   counts the instructions of the measured run only (this script turns collection on and off with
//   callgrind_control); callgrind counts user-space instructions whatever the machine's load, so two
//   versions compare by Ir / request even on a busy machine (the kernel's socket work is not in it).
//
// Where one load worker's CPU per request goes: the same raw generator side as bench:load (one engine
// with full recording, closed loop, no think time, against bench:load's canned target in its own
// process), run once to warm up and once under V8's sampling profiler (node:inspector in this thread),
// then the sampled time summed by what the code was doing. Each sample goes to the category of the
// innermost frame a rule knows, walking from the leaf to the root, as bench/service-profile.ts does:
// a native socket write called from node:net counts as the socket, JSON.parse called from the engine as
// the engine's answer handling.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { runLoadInline } from '../src/load/inline.ts';
import { closedLoopPlan } from './closed-loop-plan.ts';
import { durationMs as parseDurationMs } from '../src/common/duration.ts';
import { startCannedTarget } from './canned-target.ts';

interface CallFrame { functionName: string; url: string }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export const CATEGORIES = [
  'answer parsing (http-parser-js + parser.ts)',
  'raw transport: dispatch, read, answer hand-off (raw.ts)',
  'request building (template, serialiser)',
  'recording (histograms, intervals, live bins, tallies)',
  'engine: journeys, scheduling, classify (engine, sender, journey…)',
  'socket writes (node:net, streams)',
  'timers, ticks, promises (event loop)',
  'garbage collection',
  'other (V8, native, unattributed)',
] as const;
type Category = (typeof CATEGORIES)[number];

const RULES: Array<[(f: CallFrame) => boolean, Category]> = [
  [(f) => f.functionName === '(garbage collector)', 'garbage collection'],
  [(f) => f.url.includes('/src/load/transport/parser.ts') || f.url.includes('/http-parser-js/'), 'answer parsing (http-parser-js + parser.ts)'],
  [(f) => f.url.includes('/src/load/transport/request.ts') || f.url.includes('/src/load/template.ts'), 'request building (template, serialiser)'],
  [(f) => f.url.includes('/src/measure/') || f.url.includes('/src/load/tally.ts') || f.url.includes('/hdr-histogram-js/'), 'recording (histograms, intervals, live bins, tallies)'],
  [(f) => /^node:(net|stream|internal\/stream|internal\/streams|internal\/net|internal\/stream_base_commons)/.test(f.url), 'socket writes (node:net, streams)'],
  [(f) => f.url.includes('/src/load/transport/raw.ts'), 'raw transport: dispatch, read, answer hand-off (raw.ts)'],
  [(f) => f.url.includes('/src/load/'), 'engine: journeys, scheduling, classify (engine, sender, journey…)'],
  [(f) => /^node:(internal\/timers|internal\/process\/task_queues|timers)/.test(f.url) || f.functionName === 'processTicksAndRejections', 'timers, ticks, promises (event loop)'],
];

function categoryOf(frames: CallFrame[]): Category {
  for (const f of frames) for (const [test, category] of RULES) if (test(f)) return category;
  return 'other (V8, native, unattributed)';
}

/** Busy sampled µs by category, and by function (leaf frame, with its file) for the top list. */
export function summarise(p: CpuProfile): { byCategory: Map<Category, number>; byFunction: Map<string, number>; busyUs: number } {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const byCategory = new Map<Category, number>();
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1] : p.timeDeltas[i];
    if (dt <= 0) continue;
    const leaf = byId.get(p.samples[i])!; // every sample names a node of the same profile
    if (leaf.callFrame.functionName === '(idle)') continue;
    const frames: CallFrame[] = [];
    for (let n: number | undefined = leaf.id; n !== undefined; n = parent.get(n)) frames.push(byId.get(n)!.callFrame);
    const cat = categoryOf(frames);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + dt);
    const name = `${leaf.callFrame.functionName || '(anonymous)'} ${leaf.callFrame.url.replace(/^.*\/(src|node_modules)\//, '$1/')}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + dt);
    busyUs += dt;
  }
  return { byCategory, byFunction, busyUs };
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}


const durationMs = parseDurationMs(argValue('--duration') ?? '5s');
const connections = Number(argValue('--connections') ?? 64);
const transport = (argValue('--transport') ?? 'raw') as 'raw' | 'undici';
// The benchmarks' canned target (bench/canned-target.ts), in its own process.
const { url, child } = await startCannedTarget();
try {
  // Under valgrind the JIT needs far longer to settle: --warmup (default 2 s) sets the warm-up run's length.
  await runLoadInline(closedLoopPlan(url, connections, parseDurationMs(argValue('--warmup') ?? `${Math.min(2_000, durationMs / 2)}ms`), { transport }));
  if (process.argv.includes('--callgrind')) {
    // Collection is on for exactly the measured run (turned on before it starts, off after it ends), so
    // the requests it answered are known exactly; its start and end (64 connects, closing, encoding the
    // result) are in the count too, the same for any version of the engine.
    const control = (on: boolean) => new Promise<void>((resolve, reject) => execFile('callgrind_control', ['-i', on ? 'on' : 'off', String(process.pid)], (err) => (err ? reject(err) : resolve())));
    await control(true);
    const result = await runLoadInline(closedLoopPlan(url, connections, durationMs, { transport }));
    await control(false);
    console.log(`callgrind: ${result.counts.requestsAnswered} requests answered in the measured run (divide the Ir total by it)`);
    process.exit(0);
  }
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const cpu = process.cpuUsage();
  const result = await runLoadInline(closedLoopPlan(url, connections, durationMs, { transport }));
  const used = process.cpuUsage(cpu);
  const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
  session.disconnect();
  const out = argValue('--out');
  if (out) writeFileSync(out, JSON.stringify(profile));
  const answered = result.counts.requestsAnswered;
  const { byCategory, byFunction, busyUs } = summarise(profile);
  const cpuUs = used.user + used.system;
  console.log(`${transport}: ${answered} requests in ${(durationMs / 1000).toFixed(1)} s; process CPU ${(cpuUs / answered).toFixed(1)} µs/request (user ${(used.user / answered).toFixed(1)}, system ${(used.system / answered).toFixed(1)}); sampled busy ${(busyUs / answered).toFixed(1)} µs/request (profiler overhead included)`);
  console.log('');
  for (const c of CATEGORIES) {
    const us = byCategory.get(c) ?? 0;
    console.log(`${c.padEnd(68)} ${(us / answered).toFixed(2).padStart(6)} µs ${((100 * us) / busyUs).toFixed(1).padStart(5)}%`);
  }
  console.log('\ntop functions (self time):');
  for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(argValue('--top') ?? 30))) {
    console.log(`${(us / answered).toFixed(2).padStart(6)} µs ${((100 * us) / busyUs).toFixed(1).padStart(5)}%  ${name}`);
  }
} finally {
  child.kill();
}
