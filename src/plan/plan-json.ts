// plan.json written and read back, and the one JSON object `plan --json` prints on stdout.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf, PlanFileError } from './adapter.ts';
import { PLAN_SCHEMA_VERSION, type PlanReport } from './report-types.ts';

export const PLAN_FILE = 'plan.json';

export async function writePlanJson(report: PlanReport, dir: string): Promise<string> {
  const path = join(dir, PLAN_FILE);
  await writeFile(path, `${JSON.stringify(report, null, 1)}\n`);
  return path;
}

/** The figures without the histograms: what a script wants on stdout. */
export function planJsonSummary(report: PlanReport, outDir: string | null) {
  const level = (l: PlanReport['levels'][number]) => ({
    n: l.n,
    label: l.label,
    sustainableRate: l.sustainableRate,
    failedRate: l.failedRate,
    atLeast: l.atLeast,
    stoppedBy: l.stoppedBy,
    generatorLimit: l.generatorLimit,
    message: l.message,
    advice: l.advice,
    knee: l.knee,
    steps: l.steps.map((s) => ({
      index: s.index,
      phase: s.phase,
      retry: s.retry,
      offeredRate: s.offeredRate,
      achievedRate: s.achievedRate,
      corrected: s.latency.corrected && { p50: s.latency.corrected.p50, p99: s.latency.corrected.p99 },
      uncorrected: s.latency.uncorrected && { p50: s.latency.uncorrected.p50, p99: s.latency.uncorrected.p99 },
      errors: s.errors,
      errorRate: s.errorRate,
      generatorBound: s.generatorBound,
      verdict: s.verdict,
      reasons: s.reasons,
    })),
  });
  const single = report.levels.length === 1 ? level(report.levels[0]) : null;
  return {
    scenario: report.scenario.name,
    unit: 'arrivals/s',
    // One level: its figures at the top. Several: the best level's rate, and each level's figures.
    ...(single ?? { sustainableRate: report.sustainableRate, atLeast: report.atLeast, message: report.message, bestLevel: report.bestLevel, levels: report.levels.map(level) }),
    objectives: report.objectives,
    usl: report.usl && { ...report.usl },
    outDir,
  };
}

/** Reads plan.json, checking what `--what-if` relies on. */
export async function readPlanJson(file: string, doc?: unknown): Promise<PlanReport> {
  let parsed = doc;
  if (parsed === undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new PlanFileError(file, `cannot be read: ${messageOf(e)}`);
    }
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new PlanFileError(file, `is not JSON: ${messageOf(e)}`);
    }
  }
  const p = parsed as Partial<PlanReport>; // read field by field and checked below
  if (typeof p !== 'object' || p === null || p.kind !== 'flashsale-plan') throw new PlanFileError(file, 'is not a flashsale plan (kind "flashsale-plan" missing)');
  if (p.schemaVersion !== PLAN_SCHEMA_VERSION) throw new PlanFileError(file, `schemaVersion is ${JSON.stringify(p.schemaVersion)}; this flashsale reads ${PLAN_SCHEMA_VERSION}`);
  if (!Array.isArray(p.levels)) throw new PlanFileError(file, 'levels: must be an array');
  p.levels.forEach((l, i) => {
    if (!Array.isArray(l?.steps)) throw new PlanFileError(file, `levels[${i}].steps: must be an array`);
    l.steps.forEach((s, k) => {
      if (typeof s?.offeredRate !== 'number' || typeof s.verdict !== 'string' || typeof s.histograms !== 'object' || s.histograms === null) {
        throw new PlanFileError(file, `levels[${i}].steps[${k}]: needs offeredRate, verdict and histograms`);
      }
    });
  });
  return p as PlanReport; // every field PlanReport needs was checked above
}
