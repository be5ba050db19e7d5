// `flashsale merge`: runs made on several machines against one sale, merged into one result exactly.
// The load part (histograms, counts, intervals, orders) is src/measure/merge.ts's exact merge; the
// audits are combined by src/audit/merge.ts (which re-checks what only the whole can show); then the
// one judge (src/judge/judge.ts) decides, as it does for a single run. Nothing here judges.
import { mergeLoadResults } from '../measure/merge.ts';
import { mergeAudits } from '../audit/merge.ts';
import type { InventoryState, LoadResult, RunResult } from '../contract/result.ts';
import { parseThreshold, type ThresholdsSpec } from '../thresholds/index.ts';

import { judge } from '../judge/judge.ts';
import { duration } from '../common/format.ts';
import { messageOf, ResultFileError } from '../errors.ts';
import { fetchAuditInputs, type AuditInputs } from '../audit/index.ts';
import { parseSegment, segmentsTile } from '../schedule/index.ts';
import { perUserLimitOf, stockOf, validateScenario } from '../scenario/index.ts';

export interface MergeInput {
  file: string;
  result: RunResult;
}

/** `merge --target`: the one audit of the shared target, made once after every segment ended. */
export interface TargetAudit {
  url: string;
  inputs: AuditInputs;
  perUserLimit: number | null;
  initialStock: ReadonlyMap<string, number>;
}

/** Audits the shared target once, for the sale the merged runs recorded (their scenario). */
export async function auditSharedTarget(first: MergeInput, url: string, adminToken?: string): Promise<TargetAudit> {
  const scenario = validateScenario(first.result.scenario.definition, `${first.file} (scenario.definition)`);
  const stock = stockOf(scenario);
  const inputs = await fetchAuditInputs(url, [...stock.bySku.keys()], { adminToken });
  return { url, inputs, perUserLimit: perUserLimitOf(scenario), initialStock: stock.bySku };
}

/** Segmented runs: one crowd only if the segments tile 0:1 and all loaded the same target. */
function segmentProblems(inputs: MergeInput[]): string[] {
  const segmented = inputs.filter((i) => i.result.segment !== undefined);
  if (segmented.length === 0) return [];
  const whole = inputs.find((i) => i.result.segment === undefined);
  if (whole) throw new ResultFileError(whole.file, `is a whole run, ${segmented[0].file} is segment ${segmented[0].result.segment}: merge segments of one crowd, or whole runs`);
  const url = inputs[0].result.target.url;
  const other = inputs.find((i) => i.result.target.url !== url);
  if (other) throw new ResultFileError(other.file, `loaded ${other.result.target.url}, ${inputs[0].file} loaded ${url}: segments of one crowd load one shared target`);
  const segments = segmented.map((i) => parseSegment(i.result.segment ?? ''));
  if (segmentsTile(segments)) return [];
  return [`the segments merged (${segmented.map((i) => i.result.segment).join(', ')}) do not tile 0:1 once each: the merged crowd is not the scenario's crowd`];
}
/** One sale seen from several machines (same external target), or separate sales added up. */
function mergeStock(inputs: MergeInput[]): { initial: number; inventory: InventoryState[]; ledgerUnits: number | null } {
  const results = inputs.map((i) => i.result);
  const url = results[0].target.url;
  const shared = results.every((r) => !r.target.builtIn && r.target.url === url);
  if (shared) {
    const odd = inputs.find((i) => i.result.stock.initial !== results[0].stock.initial);
    if (odd) throw new ResultFileError(odd.file, `stock.initial is ${odd.result.stock.initial}, ${inputs[0].file} has ${results[0].stock.initial}: not the same sale`);
    // The server's final state is the snapshot taken last.
    const last = results.reduce((a, b) => (Date.parse(b.endedAt) > Date.parse(a.endedAt) ? b : a));
    return { initial: results[0].stock.initial, inventory: last.stock.inventory, ledgerUnits: last.stock.ledger };
  }
  // Each machine ran its own built-in service: separate sales, so stock adds up.
  const ledgers = results.map((r) => r.stock.ledger);
  return {
    initial: results.reduce((n, r) => n + r.stock.initial, 0),
    inventory: results.flatMap((r) => r.stock.inventory),
    ledgerUnits: ledgers.every((l): l is number => l !== null) ? ledgers.reduce((n, l) => n + l, 0) : null,
  };
}

/** The scenario's thresholds from its recorded definition, or none (with why) when they cannot be read. */
function scenarioThresholds(definition: unknown): { spec: ThresholdsSpec; problem: string | null } {
  const spec = (definition as { thresholds?: unknown } | null)?.thresholds; // the recorded scenario, read defensively: only its thresholds
  if (spec === undefined) return { spec: {}, problem: null };
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return { spec: {}, problem: 'scenario.definition.thresholds is not an object' };
  try {
    for (const [key, list] of Object.entries(spec as ThresholdsSpec)) { // an object (checked above); each entry is parsed below
      for (const e of list) parseThreshold(key, typeof e === 'string' ? e : e.threshold);
    }
  } catch (e) {
    return { spec: {}, problem: `the scenario's thresholds could not be read (${messageOf(e)}), so only the defaults were evaluated` };
  }
  return { spec: spec as ThresholdsSpec, problem: null }; // every entry parsed above
}

/** Runs that share no moment with any other: their merged rates and sell-out time span the gap. */
function overlapWarnings(inputs: MergeInput[]): string[] {
  const spans = inputs.map((i) => ({ file: i.file, from: i.result.t0EpochMs, to: i.result.t0EpochMs + i.result.durationMs }));
  const warnings: string[] = [];
  for (const a of spans) {
    if (spans.some((b) => b !== a && b.from < a.to && a.from < b.to)) continue;
    const nearest = spans.filter((b) => b !== a).map((b) => (b.to <= a.from ? a.from - b.to : b.from - a.to)).reduce((x, y) => Math.min(x, y));
    warnings.push(`${a.file} does not overlap any other run in time (${duration(nearest)} apart): the merged run time, rates and sell-out time span the gap, as if one sale had lasted that long`);
  }
  return warnings;
}

export function mergeRunResults(inputs: MergeInput[], targetAudit?: TargetAudit): RunResult {
  if (inputs.length === 0) throw new RangeError('mergeRunResults needs at least one result');
  const first = inputs[0];
  for (const i of inputs) {
    if (i.result.scenario.name !== first.result.scenario.name) {
      throw new ResultFileError(i.file, `is scenario "${i.result.scenario.name}", ${first.file} is "${first.result.scenario.name}": only runs of one scenario can be merged`);
    }
    if (i.result.intervals.periodMs !== first.result.intervals.periodMs) {
      throw new ResultFileError(i.file, `intervals.periodMs is ${i.result.intervals.periodMs}, ${first.file} has ${first.result.intervals.periodMs}`);
    }
  }
  const segmentWarnings = segmentProblems(inputs);
  const load: LoadResult = mergeLoadResults(inputs.map((i) => i.result));
  const stock = mergeStock(inputs);
  const thresholds = scenarioThresholds(first.result.scenario.definition);
  const judged = judge({
    load,
    initialUnits: targetAudit ? [...targetAudit.initialStock.values()].reduce((n, u) => n + u, 0) : stock.initial,
    audit: targetAudit
      ? { inputs: targetAudit.inputs, perUserLimit: targetAudit.perUserLimit, initialStock: targetAudit.initialStock }
      : { merged: mergeAudits(inputs.map((i) => i.result.audit), stock.inventory, load.orders), inventory: stock.inventory, ledgerUnits: stock.ledgerUnits },
    thresholds: thresholds.spec,
    sharedMachine: busiestSharedMachine(inputs),
    droppedBindGenerator: inputs.some((i) => i.result.engine === 'k6'),
  });
  const byTime = (pick: (r: RunResult) => string, min: boolean) =>
    inputs.map((i) => pick(i.result)).reduce((a, b) => ((Date.parse(b) < Date.parse(a)) === min ? b : a));
  // Any k6 part makes the whole uncorrected-only: its "corrected" histograms hold uncorrected values, and
  // added to another run's corrected ones they are neither; so the merge is k6's, and says so when mixed.
  const k6Parts = inputs.filter((i) => i.result.engine === 'k6');
  const mixed = k6Parts.length > 0 && k6Parts.length < inputs.length
    ? [`${k6Parts.map((i) => i.file).join(', ')} measured by k6 and merged with runs of flashsale's own engine: the merged result has uncorrected latency only (k6 has no corrected latency to add to the other runs'), and reports show that alone`]
    : [];
  const engine = k6Parts.length > 0 ? 'k6' : first.result.engine;
  const warnings = [...new Set([...inputs.flatMap((i) => i.result.warnings ?? []), ...overlapWarnings(inputs), ...segmentWarnings, ...mixed, ...(thresholds.problem ? [thresholds.problem] : [])])];
  return {
    ...load,
    ...judged,
    schemaVersion: first.result.schemaVersion,
    scenario: first.result.scenario,
    environment: first.result.environment,
    target: targetAudit ? { url: targetAudit.url, builtIn: false, serviceThreads: null, from: 'flag' } : first.result.target,
    ...(engine ? { engine } : {}),
    startedAt: byTime((r) => r.startedAt, true),
    endedAt: byTime((r) => r.endedAt, false),
    ...(warnings.length ? { warnings } : {}),
    machine: busiestSharedMachine(inputs),
    mergedFrom: inputs.flatMap((i) => i.result.mergedFrom ?? [i.file]),
  };
}

/** Runs each against its own built-in service: the busiest of their machines (each shared with its service). */
function busiestSharedMachine(inputs: MergeInput[]): RunResult['machine'] {
  if (!inputs.every((i) => i.result.target.builtIn)) return null;
  const known = inputs.map((i) => i.result.machine).filter((m): m is NonNullable<RunResult['machine']> => m !== null && m !== undefined);
  return known.length ? known.reduce((a, b) => (b.othersCpuShare > a.othersCpuShare ? b : a)) : null;
}
