// `flashsale plan <scenario>`: the highest arrival rate the target sustains under the objectives
// (rate search over real steps), how it scales over service threads or instances (USL fit), and with
// --what-if a simulated whole sale from measured service times. Writes plan.json + plan.html (or
// whatif.json) under reports/. Exit codes: 0 a rate was found (maybe a lower bound: see atLeast),
// 99 no rate met the objectives, 2 bad usage, 1 no answer (nothing measured could say).
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { EXIT, UsageError } from '../../errors.ts';
import { formatPlan, stepLine } from '../../plan/plan-text.ts';
import { planJsonSummary, writePlanJson } from '../../plan/plan-json.ts';
import { writePlanHtml } from '../../plan/plan-html.ts';
import { planObjectives } from '../../plan/objectives.ts';
import { runPlan } from '../../plan/run-plan.ts';
import { runWhatIf } from '../../plan/whatif/run-whatif.ts';
import { formatWhatIf } from '../../plan/whatif/whatif-text.ts';
import { defaultOutDir } from '../../run/run-scenario.ts';
import { loadScenario, refuseFaults } from '../../scenario/index.ts';
import { duration, httpUrl, integer } from '../options.ts';

interface PlanCliOptions {
  target?: string;
  targets?: string[];
  serviceThreads?: number[];
  workers?: number;
  slo: string[];
  stepDuration: number;
  warmup: number;
  precision: number;
  startRate: number;
  maxRate: number;
  maxTime: number;
  maxRequests: number;
  inconclusiveRetries: number;
  memoryLedger?: boolean;
  seed?: number;
  out?: string;
  quiet?: boolean;
  json?: boolean;
  whatIf?: boolean;
  from?: string;
  instances?: number;
  servers?: number;
  targetP99?: number;
  buyers?: number;
  queueLimit?: number;
  queueTimeout?: number;
}

function intList(min: number, max: number): (value: string) => number[] {
  const one = integer(min, max);
  return (value) => {
    const parts = value.split(',').map((s) => s.trim());
    if (parts.some((p) => p === '')) throw new InvalidArgumentError(`"${value}" is not a comma-separated list of whole numbers.`);
    const list = parts.map(one);
    if (new Set(list).size !== list.length) throw new InvalidArgumentError(`"${value}" names a level twice.`);
    return list;
  };
}

function urlList(value: string): string[] {
  const list = value.split(',').map((s) => s.trim());
  if (list.some((u) => u === '')) throw new InvalidArgumentError(`"${value}" is not a comma-separated list of URLs.`);
  return list.map(httpUrl);
}

/** "5%" or "0.05". */
export function precisionValue(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(value);
  const n = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`"${value}" is not a precision between 0 and 100% (examples: 5%, 0.05).`);
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a number above 0.`);
  return n;
}

function positiveDuration(value: string): number {
  const ms = duration(value);
  if (ms <= 0) throw new InvalidArgumentError(`"${value}" must be longer than 0.`);
  return ms;
}

export function register(program: Command): void {
  program
    .command('plan')
    .description('Find the highest arrival rate a checkout sustains under its objectives, how it scales, and (--what-if) what a whole sale would need.')
    .argument('<scenario>', 'a scenario file or a preset name (its journey, objectives and target)')
    .option('--target <url>', 'the service to plan for (default: the built-in service, a fresh one per step)', httpUrl)
    .option('--targets <urls>', 'several instances, comma-separated: the rate is found for 1, 2, … of them and the USL fitted', urlList)
    .option('--service-threads <list>', 'built-in service threads, e.g. 2 or 1,2,4 (a list: one search per level and the USL fitted)', intList(1, 64))
    .option('-w, --workers <n>', 'load worker threads (per target)', integer(1, 64))
    .option('--slo <objective>', 'what a step must meet, instead of the scenario\'s thresholds: "p(99)<200" (corrected latency, ms) or "<metric> <expression>"; repeatable', (v: string, prev: string[]) => [...prev, v], new Array<string>())
    .option('--step-duration <time>', 'length of each measured step', positiveDuration, 5000)
    .option('--warmup <time>', 'warm-up at the same rate before each step (0 for none)', duration, 1000)
    .option('--precision <p>', 'stop when the rate is bracketed within this (5% or 0.05)', precisionValue, 0.05)
    .option('--start-rate <n>', 'first rate tried, arrivals/s', positiveNumber, 100)
    .option('--max-rate <n>', 'highest rate the search may offer, arrivals/s', positiveNumber, 1_000_000)
    .option('--max-time <time>', 'cap on the whole search', positiveDuration, 600_000)
    .option('--max-requests <n>', 'cap on requests the whole search sends', integer(1), 10_000_000)
    .option('--inconclusive-retries <n>', 'times a step the generator could not deliver is measured again before the search looks lower', integer(0, 10), 1)
    .option('--memory-ledger', "the built-in service keeps its ledger in memory (default: on disk, as `run` does, so each checkout's fsync is in the rate)")
    .option('--seed <n>', 'seed for every random choice', integer(0, 2 ** 32 - 1))
    .option('-o, --out <dir>', 'where plan.json and plan.html go (default: reports/<scenario>-plan-<time>/)')
    .option('-q, --quiet', 'no progress lines')
    .option('--json', 'print one JSON object on stdout (sustainableRate: the rate found)')
    .option('--what-if', 'simulate the scenario\'s whole sale instead of measuring (needs --from)')
    .option('--from <file>', 'what-if: the plan.json or result.json whose measured service times to use')
    .option('--instances <n>', 'what-if: instances to simulate', integer(1, 4096))
    .option('--servers <n>', 'what-if: requests one instance works on at once (default: from --from)', integer(1, 1_000_000))
    .option('--target-p99 <ms>', 'what-if: find the fewest instances whose corrected p99 is at most this', positiveNumber)
    .option('--buyers <n>', 'what-if: resize the flash crowd to this many buyers', integer(1, 1_000_000_000))
    .option('--queue-limit <n>', 'what-if: per instance, refuse at once past this many waiting (default: no limit)', integer(0))
    .option('--queue-timeout <time>', "what-if: a request waiting longer is an error (default: the buyers' timeout)", positiveDuration)
    .action(async (arg: string, opts: PlanCliOptions) => {
      const loaded = loadScenario(arg);
      refuseFaults(loaded.scenario, 'flashsale plan'); // its steps measure capacity; faults would only blur it
      const log = (line: string) => {
        if (!opts.quiet) process.stderr.write(`${line}\n`);
      };
      const whatIfOnly = ['from', 'instances', 'servers', 'targetP99', 'buyers', 'queueLimit', 'queueTimeout'] as const;
      if (opts.whatIf) {
        if (!opts.from) throw new UsageError('--what-if needs --from <plan.json|result.json>: the measured service times to simulate with');
        const outDir = resolve(opts.out ?? defaultOutDir(process.cwd(), `${loaded.scenario.name}-what-if`));
        const report = await runWhatIf({
          loaded,
          from: resolve(opts.from),
          instances: opts.instances,
          servers: opts.servers,
          targetP99Ms: opts.targetP99,
          buyers: opts.buyers,
          queueLimit: opts.queueLimit,
          queueTimeoutMs: opts.queueTimeout,
          seed: opts.seed,
          onSimulated: (k, r) => log(`simulated ${k} instance(s): p99 ${r.latency.p99.toFixed(1)} ms, sell-out ${r.sellOutMs === null ? 'none' : `${(r.sellOutMs / 1000).toFixed(2)} s`} (${(r.wallMs / 1000).toFixed(1)} s)`),
        });
        await mkdir(outDir, { recursive: true });
        await writeFile(join(outDir, 'whatif.json'), `${JSON.stringify(report, null, 1)}\n`);
        process.stdout.write(opts.json ? `${JSON.stringify({ ...report, outDir })}\n` : `${formatWhatIf(report)}\n`);
        log(`results: ${outDir}`);
        return;
      }
      const stray = whatIfOnly.filter((k) => opts[k] !== undefined);
      if (stray.length) throw new UsageError(`${stray.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} only go with --what-if`);
      if (opts.target && opts.targets) throw new UsageError('give --target or --targets, not both');
      if ((opts.target || opts.targets) && opts.serviceThreads) throw new UsageError('--service-threads is for the built-in service; with --target(s) the service is yours');
      if (opts.startRate > opts.maxRate) throw new UsageError(`--start-rate ${opts.startRate} is above --max-rate ${opts.maxRate}`);
      planObjectives(loaded.scenario.thresholds, opts.slo); // a bad --slo is refused before anything is written
      const scenarioUrl = loaded.scenario.target === 'built-in' ? null : loaded.scenario.target.url;
      const targets = opts.targets ?? (opts.target ? [opts.target] : scenarioUrl ? [scenarioUrl] : []);
      const outDir = resolve(opts.out ?? defaultOutDir(process.cwd(), `${loaded.scenario.name}-plan`));
      await mkdir(outDir, { recursive: true });
      const abort = new AbortController();
      const onSigint = () => {
        if (abort.signal.aborted) process.exit(130);
        log('\nstopping: finishing this step (Ctrl-C again to quit now)');
        abort.abort();
      };
      process.on('SIGINT', onSigint);
      let report;
      try {
        log(`flashsale plan: ${loaded.scenario.name} → ${targets.length ? targets.join(', ') : 'built-in service'}; steps of ${opts.stepDuration / 1000} s after ${opts.warmup / 1000} s of warm-up`);
        report = await runPlan({
          loaded,
          targets,
          serviceThreads: opts.serviceThreads ?? [],
          workers: opts.workers,
          seed: opts.seed,
          stepMs: opts.stepDuration,
          warmupMs: opts.warmup,
          precision: opts.precision,
          startRate: opts.startRate,
          maxRate: opts.maxRate,
          maxTimeMs: opts.maxTime,
          maxRequests: opts.maxRequests,
          inconclusiveRetries: opts.inconclusiveRetries,
          slo: opts.slo,
          ledgerDir: opts.memoryLedger ? null : outDir,
          signal: abort.signal,
          onLevel: (l) => {
            if (l.n !== null) log(`level: ${l.label}`);
          },
          onStep: (s) => log(stepLine(s)),
        });
      } finally {
        process.off('SIGINT', onSigint);
      }
      await writePlanJson(report, outDir);
      await writePlanHtml(report, outDir);
      process.stdout.write(opts.json ? `${JSON.stringify(planJsonSummary(report, outDir))}\n` : `${formatPlan(report)}\n`);
      log(`results: ${outDir} (plan.json, plan.html)`);
      const noRate = report.levels.every((l) => l.sustainableRate === null);
      const refused = report.levels.some((l) => l.stoppedBy === 'min-rate');
      process.exitCode = !noRate ? EXIT.ok : refused ? EXIT.thresholdsCrossed : EXIT.failure;
    });
}
