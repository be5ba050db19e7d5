// `flashsale import k6` as a library: k6's raw output (made here by `run --engine k6`, or elsewhere by
// k6-operator runners writing to a shared volume) → the same result.json a native run gives: the load
// read exactly from every data point (src/measure/k6-output.ts), the audit of the target, the
// scenario's thresholds, the one judge. Files from several runners of one test give one result.
import { fetchAuditInputs, type AuditInputs } from '../audit/index.ts';
import { judge } from '../judge/judge.ts';
import { K6_LATENCY_NOTE, readK6Output } from '../measure/k6-output.ts';
import { RESULT_SCHEMA_VERSION, type RunResult } from '../contract/result.ts';
import type { ExecutionSegment } from '../schedule/index.ts';
import { perUserLimitOf, stockOf, type LoadedScenario } from '../scenario/index.ts';
import { describeEnvironment } from './environment.ts';
import { resolveTarget } from './run-scenario.ts';

export interface ImportK6Options {
  loaded: LoadedScenario;
  files: readonly string[];
  /** The target k6 loaded (else the scenario's target.url); audited now. */
  targetUrl?: string;
  adminToken?: string;
  /** The segment these files ran (one runner's share), recorded so `flashsale merge` can check the tiling. */
  segment?: ExecutionSegment;
  /** When k6 started and ended, if known (run --engine k6); else taken from the data points. */
  startedAt?: Date;
}

export async function importK6(options: ImportK6Options): Promise<RunResult> {
  const { scenario, raw } = options.loaded;
  const read = await readK6Output(options.files);
  const load = read.load;
  const stock = stockOf(scenario);
  const resolved = resolveTarget(options.loaded, options.targetUrl);
  const warnings = [`${K6_LATENCY_NOTE}.`];
  let inputs: AuditInputs;
  if (resolved.url === null) {
    const why = 'no target was given (--target) and the scenario names none, so the target was not audited';
    inputs = { inventory: null, ledgerOrders: null, unavailable: { inventory: why, ledger: why } };
    warnings.push(why);
  } else {
    inputs = await fetchAuditInputs(resolved.url, [...stock.bySku.keys()], { adminToken: options.adminToken });
  }
  const judged = judge({
    load,
    initialUnits: stock.total,
    audit: { inputs, perUserLimit: perUserLimitOf(scenario), initialStock: stock.bySku },
    thresholds: scenario.thresholds,
    droppedBindGenerator: true,
  });
  return {
    ...load,
    ...judged,
    schemaVersion: RESULT_SCHEMA_VERSION,
    scenario: { name: scenario.name, description: scenario.description, definition: raw },
    environment: describeEnvironment(),
    target: { url: resolved.url ?? '', builtIn: false, serviceThreads: null, from: resolved.from === 'built-in' ? 'flag' : resolved.from },
    machine: null,
    warnings,
    engine: 'k6',
    ...(options.segment ? { segment: options.segment.text } : {}),
    startedAt: (options.startedAt ?? new Date(load.t0EpochMs)).toISOString(),
    endedAt: new Date(load.t0EpochMs + load.durationMs).toISOString(),
  };
}
