// `flashsale plan` as a library: scenario → objectives → (for each concurrency level) the rate search
// over real steps → knee → USL fit across levels → the plan report (plan.json's content).
import { describeEnvironment, type LoadedScenario } from './adapter.ts';
import { findKnee, type Knee } from './knee.ts';
import type { MeasuredStep } from './judge.ts';
import { planObjectives, type Objectives } from './objectives.ts';
import { searchRate, SEARCH_DEFAULTS, type SearchClock, type SearchOptions, type SearchResult, type StopReason, type RateProbe } from './search.ts';
import { createStepProbe } from './step-runner.ts';
import { fitUsl, type UslFit } from './usl.ts';
import { PLAN_SCHEMA_VERSION, type LevelReport, type PlanReport } from './report-types.ts';

export interface PlanOptions {
  loaded: LoadedScenario;
  /** Foreign targets, one per instance; with two or more, each prefix 1..k is a scaling level. */
  targets: string[];
  /** Built-in service threads; with two or more values, each is a scaling level. */
  serviceThreads: number[];
  workers?: number;
  seed?: number;
  stepMs: number;
  warmupMs: number;
  precision: number;
  startRate: number;
  maxRate: number;
  maxTimeMs: number;
  maxRequests: number;
  /** Times an inconclusive step is measured again (default 1). */
  inconclusiveRetries?: number;
  slo: string[];
  /** Built-in service ledgers go here during each step (null: in memory). */
  ledgerDir: string | null;
  signal?: AbortSignal;
  onStep?: (step: MeasuredStep) => void;
  onLevel?: (level: { n: number | null; label: string }) => void;
  /** Tests replace real steps with a simulated target. */
  probeFactory?: (level: LevelSpec, objectives: Objectives) => RateProbe<MeasuredStep>;
  clock?: SearchClock;
}

export interface LevelSpec {
  /** Threads or instances; null for a plan with one level. */
  n: number | null;
  label: string;
  targets: string[];
  serviceThreads?: number;
}

export function planLevels(o: Pick<PlanOptions, 'targets' | 'serviceThreads'>): { kind: 'none' | 'instances' | 'threads'; levels: LevelSpec[] } {
  if (o.targets.length > 1) {
    return {
      kind: 'instances',
      levels: o.targets.map((_, i) => ({ n: i + 1, label: `${i + 1} instance${i ? 's' : ''}`, targets: o.targets.slice(0, i + 1) })),
    };
  }
  if (o.targets.length === 0 && o.serviceThreads.length > 1) {
    return { kind: 'threads', levels: o.serviceThreads.map((t) => ({ n: t, label: `${t} thread${t > 1 ? 's' : ''}`, targets: [], serviceThreads: t })) };
  }
  return { kind: 'none', levels: [{ n: null, label: 'target', targets: o.targets, serviceThreads: o.serviceThreads[0] }] };
}

/** The sentence that goes with the answer: what was found, and how sure. */
export function describeAnswer(r: Pick<SearchResult<MeasuredStep>, 'sustainableRate' | 'failedRate' | 'atLeast' | 'stoppedBy' | 'generatorLimit'>, workers: number): { message: string; advice: string | null } {
  const rate = (n: number) => `${Number(n.toPrecision(4)).toLocaleString('en-US')}/s`;
  const low = r.sustainableRate;
  const messages: Record<StopReason, () => string> = {
    precision: () => `sustains ${rate(low!)}; fails at ${rate(r.failedRate!)}: the limit is in between`, // the precision stop is reached only with a passing and a failing rate
    generator: () =>
      low === null
        ? `no answer: the generator could not deliver even ${rate(r.generatorLimit!)}; the generator, not the target, stopped here` // the generator stop sets generatorLimit
        : `at least ${rate(low)}; the generator, not the target, stopped here (it could not deliver ${rate(r.generatorLimit!)})`, // the generator stop sets generatorLimit
    'max-time': () => (low === null ? 'no rate passed before the time cap' : `at least ${rate(low)}; the time cap stopped the search${r.failedRate ? ` (fails at ${rate(r.failedRate)})` : ''}`),
    'max-requests': () => (low === null ? 'no rate passed before the request cap' : `at least ${rate(low)}; the request cap stopped the search${r.failedRate ? ` (fails at ${rate(r.failedRate)})` : ''}`),
    'max-rate': () => `at least ${rate(low!)}: the highest rate the search was allowed to offer passed`, // the max-rate stop is reached only after a pass
    'min-rate': () => `no rate passed, down to ${rate(r.failedRate!)}`, // the min-rate stop is reached only after a failure
    interrupted: () => (low === null ? 'interrupted before any rate passed' : `at least ${rate(low)}; interrupted`),
  };
  const advice =
    r.stoppedBy === 'generator'
      ? `To go further, add load workers (--workers, now ${workers}) on a machine with idle cores, or move the generator off the target's machine (run it on other machines and point --target at the service)`
      : r.stoppedBy === 'max-time'
        ? 'Raise --max-time, or lower --precision / --step-duration'
        : r.stoppedBy === 'max-requests'
          ? 'Raise --max-requests'
          : r.stoppedBy === 'max-rate'
            ? 'Raise --max-rate'
            : null;
  return { message: messages[r.stoppedBy](), advice };
}

export async function runPlan(o: PlanOptions): Promise<PlanReport> {
  const startedAt = new Date();
  const { scenario } = o.loaded;
  const objectives = planObjectives(scenario.thresholds, o.slo);
  const { kind, levels } = planLevels(o);
  const clock = o.clock ?? { now: () => performance.now() };
  const workers = o.workers ?? scenario.load.workers;
  const seed = o.seed ?? scenario.load.seed;
  const began = clock.now();
  let requestsUsed = 0;
  const reports: LevelReport[] = [];
  for (const [i, level] of levels.entries()) {
    if (o.signal?.aborted) break;
    o.onLevel?.({ n: level.n, label: level.label });
    // What is left of the caps, shared evenly by the levels still to measure.
    const left = levels.length - i;
    const search: SearchOptions = {
      ...SEARCH_DEFAULTS,
      startRate: o.startRate,
      precision: o.precision,
      maxRate: o.maxRate,
      minRate: Math.min(SEARCH_DEFAULTS.minRate, o.startRate),
      inconclusiveRetries: o.inconclusiveRetries ?? SEARCH_DEFAULTS.inconclusiveRetries,
      maxTimeMs: Math.max(1, (o.maxTimeMs - (clock.now() - began)) / left),
      maxRequests: Math.max(1, Math.floor((o.maxRequests - requestsUsed) / left)),
    };
    const probe =
      o.probeFactory?.(level, objectives) ??
      createStepProbe({
        loaded: o.loaded,
        targets: level.targets,
        serviceThreads: level.serviceThreads,
        workers: o.workers,
        seed,
        stepMs: o.stepMs,
        warmupMs: o.warmupMs,
        objectives: objectives.spec,
        level: level.n,
        ledgerDir: o.ledgerDir,
        signal: o.signal,
      });
    const observed: RateProbe<MeasuredStep> = {
      estimate: (rate) => probe.estimate(rate),
      measure: async (rate, ctx) => {
        const step = await probe.measure(rate, ctx);
        o.onStep?.(step);
        return step;
      },
    };
    const result = await searchRate(observed, search, clock);
    requestsUsed += result.steps.reduce((n, s) => n + s.requests, 0);
    reports.push(levelReport(level, result, workers));
  }
  const usl = kind === 'none' ? null : scaling(reports);
  const best = reports.reduce<LevelReport | null>((b, r) => (r.sustainableRate !== null && (b === null || r.sustainableRate > (b.sustainableRate ?? -1)) ? r : b), null) ?? reports[0] ?? null;
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    kind: 'flashsale-plan',
    scenario: { name: scenario.name, path: o.loaded.path },
    target: { builtIn: o.targets.length === 0, urls: o.targets, serviceThreads: o.targets.length === 0 ? o.serviceThreads : null },
    environment: describeEnvironment(),
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    settings: {
      stepMs: o.stepMs,
      warmupMs: o.warmupMs,
      precision: o.precision,
      startRate: o.startRate,
      growth: SEARCH_DEFAULTS.growth,
      maxRate: o.maxRate,
      maxTimeMs: o.maxTimeMs,
      maxRequests: o.maxRequests,
      inconclusiveRetries: o.inconclusiveRetries ?? SEARCH_DEFAULTS.inconclusiveRetries,
      workers,
      seed,
    },
    objectives: { list: objectives.list, ignored: objectives.ignored },
    scaling: kind,
    sustainableRate: best?.sustainableRate ?? null,
    atLeast: best?.atLeast ?? true,
    bestLevel: kind === 'none' ? null : (best?.n ?? null),
    message: best?.message ?? 'interrupted before any step',
    levels: reports,
    usl,
  };
}

function levelReport(level: LevelSpec, r: SearchResult<MeasuredStep>, workers: number): LevelReport {
  const knee: Knee | null = findKnee(
    r.steps.filter((s) => s.verdict !== 'inconclusive' && s.latency.corrected !== null).map((s) => ({ offeredRate: s.offeredRate, p99Ms: s.latency.corrected!.p99 })), // filtered non-null just before
  );
  const { message, advice } = describeAnswer(r, workers);
  return {
    n: level.n,
    label: level.label,
    targets: level.targets,
    serviceThreads: level.serviceThreads ?? null,
    sustainableRate: r.sustainableRate,
    failedRate: r.failedRate,
    atLeast: r.atLeast,
    stoppedBy: r.stoppedBy,
    generatorLimit: r.generatorLimit,
    message,
    advice,
    knee,
    steps: r.steps,
  };
}

function scaling(levels: LevelReport[]): UslFit | null {
  const points = levels.filter((l) => l.n !== null).map((l) => ({ n: l.n!, x: l.sustainableRate ?? 0 })); // filtered non-null just before
  if (!points.some((p) => p.x > 0)) return null;
  const fit = fitUsl(points);
  for (const l of levels) {
    if (l.atLeast && l.sustainableRate !== null) fit.warnings.push(`${l.label}: ${l.message} — a lower bound, so the fit leans on it as if it were the limit`);
  }
  return fit;
}
