// Where the simulation's servers and service times come from: a measured plan.json or result.json.
//
// - plan.json: service times from the lowest-rate step that passed (light load: the closest thing to
//   pure service time the plan measured), and as many servers per instance as make one simulated
//   instance sustain the rate the plan found (Little's law: servers = rate × requests per buyer ×
//   mean service time).
// - result.json: service times are the run's own uncorrected latencies (time on the connection),
//   and the servers are the connections the run had open (workers × connections): the service never
//   had more requests at once, so the simulation replays the run's conditions.
// - `--servers` overrides either.
import { readFile } from 'node:fs/promises';
import { messageOf, parseResult, PlanFileError, UsageError, type RunResult, type Step, type JourneyType, stepsOf, type StepLatency } from '../adapter.ts';
import type { MeasuredStep } from '../judge.ts';
import { readPlanJson } from '../plan-json.ts';
import type { PlanReport } from '../report-types.ts';
import { samplerFromHistogram, type ServiceTimeSampler } from './service-time.ts';
import type { SimServiceTimes } from './simulate.ts';

export interface Calibration {
  file: string;
  kind: 'plan' | 'result';
  serviceTimes: SimServiceTimes;
  /** Mean service time per step, ms (what the servers figure rests on). */
  meanMs: Partial<Record<Step, number>>;
  serversPerInstance: number;
  /** How serversPerInstance was arrived at, in words. */
  serversFrom: string;
  /** For plan.json: the step the service times come from, and the rate the plan found. */
  planStep?: { offeredRate: number; level: number | null };
  sustainableRate?: number | null;
}

/** Uncorrected histogram of one outcome of a step, or of all its outcomes when that one never happened. */
function pick(step: StepLatency, outcome: 'success' | 'sold_out' | 'rejected'): ServiceTimeSampler {
  const enc = step.byOutcome[outcome]?.uncorrected ?? '';
  return samplerFromHistogram(enc !== '' ? enc : step.all.uncorrected);
}

function serviceTimesOf(latency: Partial<Record<Step, StepLatency>>, journey: JourneyType, source: string): { times: SimServiceTimes; meanMs: Partial<Record<Step, number>> } {
  const steps = stepsOf(journey);
  const meanMs: Partial<Record<Step, number>> = {};
  for (const s of steps) {
    const l = latency[s];
    if (!l || l.all.uncorrected === '') {
      throw new UsageError(`${source} has no ${s} latency: the scenario's ${journey} journey needs it (was it measured with another journey?)`);
    }
    meanMs[s] = samplerFromHistogram(l.all.uncorrected).meanMs;
  }
  const times: SimServiceTimes = {};
  if (journey === 'checkout') times.checkout = { success: pick(latency.checkout!, 'success'), soldOut: pick(latency.checkout!, 'sold_out') }; // the loop above refused a journey whose steps were not measured
  else {
    times.reserve = { success: pick(latency.reserve!, 'success'), soldOut: pick(latency.reserve!, 'sold_out') }; // the loop above refused a journey whose steps were not measured
    times.pay = { success: pick(latency.pay!, 'success'), rejected: pick(latency.pay!, 'rejected') }; // the loop above refused a journey whose steps were not measured
  }
  return { times, meanMs };
}

function fromPlan(file: string, plan: PlanReport, journey: JourneyType, servers: number | undefined): Calibration {
  // The level whose rate was found (the best one), and its lowest passing step.
  const level = plan.levels.find((l) => l.n === plan.bestLevel) ?? plan.levels[0];
  const passed = (level?.steps ?? []).filter((s: MeasuredStep) => s.verdict === 'pass').sort((a, b) => a.offeredRate - b.offeredRate);
  if (passed.length === 0) throw new PlanFileError(file, 'no step passed: there is no measured service time to simulate with');
  const step = passed[0];
  const { times, meanMs } = serviceTimesOf(step.histograms, journey, `${file} (step ${step.index + 1})`);
  const rate = level.sustainableRate ?? step.offeredRate;
  const work = Object.values(meanMs).reduce((a, b) => a + b, 0); // ms of service per buyer, all steps
  const little = Math.max(1, Math.ceil((rate * work) / 1000));
  return {
    file,
    kind: 'plan',
    serviceTimes: times,
    meanMs,
    serversPerInstance: servers ?? little,
    serversFrom:
      servers !== undefined
        ? '--servers'
        : `Little's law at the plan's ${level.atLeast ? 'lower bound of ' : ''}${rate}/s × ${work.toFixed(3)} ms of service per buyer (so one simulated instance sustains what the plan measured)`,
    planStep: { offeredRate: step.offeredRate, level: level.n },
    sustainableRate: level.sustainableRate,
  };
}

function fromResult(file: string, result: RunResult, journey: JourneyType, servers: number | undefined): Calibration {
  const { times, meanMs } = serviceTimesOf(result.latency, journey, file);
  const def = result.scenario.definition as { load?: { workers?: number; connections?: number } } | undefined; // the recorded scenario, read defensively field by field
  const connections = (def?.load?.workers ?? 1) * (def?.load?.connections ?? 64);
  return {
    file,
    kind: 'result',
    serviceTimes: times,
    meanMs,
    serversPerInstance: servers ?? connections,
    serversFrom: servers !== undefined ? '--servers' : `the run's ${connections} connections (load.workers × load.connections): the service never had more requests at once`,
  };
}

/** Reads a plan.json or a result.json and derives the simulation's servers and service times. */
export async function calibrate(file: string, journey: JourneyType, servers?: number): Promise<Calibration> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: ${e instanceof SyntaxError ? 'is not JSON' : 'cannot be read'}: ${messageOf(e)}`);
  }
  if (servers !== undefined && !(Number.isInteger(servers) && servers >= 1)) throw new UsageError(`--servers must be a whole number ≥ 1 (got ${servers})`);
  if ((doc as { kind?: unknown })?.kind === 'flashsale-plan') return fromPlan(file, await readPlanJson(file, doc), journey, servers); // any JSON: only its kind field is looked at
  return fromResult(file, parseResult(doc, file), journey, servers);
}

