// The one judge: measurements + what the target says (audit inputs) + the scenario's thresholds +
// the generator's health + why the run stopped → the judged result: stock views, audit, thresholds
// (the scenario's and the defaults), the generator judged at the scenario's scale, and the verdict.
// `flashsale run` and `flashsale merge` both call it; report/ only renders what it decided.
//
// Verdicts, most severe first (exit codes in src/errors.ts):
//   audit_failed (3)        an invariant broke: oversold, a lost order, a limit ignored. Outranks all.
//   interrupted (105)       Ctrl-C or SIGTERM ended the run early: what was measured is kept, not judged.
//   thresholds_crossed (99) a threshold the target crossed (the defaults included: no order at all, too
//                           many errors or refusals: a sale that did not happen never passes), or the
//                           target died during the load (`run --service-processes`: every process ended,
//                           none restarting; the crowd was stopped early): judged as a dead target is.
//   inconclusive (4)        the generator could not keep its schedule, or a threshold was crossed by no
//                           more than the generator's own lateness, or a fault of the scenario failed to
//                           inject or heal (or never hit): the target was not tested as asked.
//   passed (0)
import { acknowledgedUnits, auditRun, distinctById } from '../audit/audit.ts';
import type { AuditInput } from '../audit/audit.ts';
import type { AuditInputs } from '../audit/fetch.ts';
import { EXIT } from '../errors.ts';
import { decodeHistogram, percentilesMs } from '../common/histogram.ts';
import { generatorLimits, judgeGenerator } from '../measure/self-watch.ts';
import { defaultsFor, describeThreshold, evaluateThresholds, type ThresholdsSpec } from '../thresholds/index.ts';
import { compare, parseThreshold } from '../thresholds/parse.ts';
import type { ThresholdInputs } from '../thresholds/values.ts';
import type { AuditResult, FaultRecordResult, GeneratorHealth, InventoryState, LoadResult, MachineLoad, StockResult, ThresholdResult, Verdict } from '../contract/result.ts';
import { countsOutsideFaults, faultProblems } from './faults.ts';

export interface JudgeInput {
  /** What the load generator measured (one run, or several merged). */
  load: LoadResult;
  /** Units on sale in the whole sale. */
  initialUnits: number;
  /** The audit to make (`inputs`: what the target said after the run; `initialStock` per SKU, a Map
   * since SKU ids are user input), or one already combined from several runs by `flashsale merge`
   * (`merged`, with the merged stock views). */
  audit:
    | { inputs: AuditInputs; perUserLimit: number | null; initialStock: ReadonlyMap<string, number> }
    | { merged: AuditResult | null; inventory: InventoryState[]; ledgerUnits: number | null };
  /** The scenario's own thresholds (k6 syntax); the defaults are added for metrics it does not name. */
  thresholds: ThresholdsSpec;
  /** The target runs on this machine (the built-in service), and what other processes took of its CPU. */
  sharedMachine?: MachineLoad | null;
  /** k6 measured it: its dropped buyers (dropped_iterations) mean the generator could not keep the rate. */
  droppedBindGenerator?: boolean;
  /** The scenario's faults as they happened (docs/faults.md): errors during them are expected. */
  faults?: readonly FaultRecordResult[];
  /** The target died during the load, and how (`run --service-processes`: every process ended, none restarting). */
  targetDown?: string | null;
}

export interface Judged {
  stock: StockResult;
  audit: AuditResult | null;
  thresholds: ThresholdResult[];
  generator: GeneratorHealth;
  verdict: Verdict;
}

export function judge(input: JudgeInput): Judged {
  const { load } = input;
  const initial = input.initialUnits;
  let audit: AuditResult | null;
  let inventory: InventoryState[];
  let ledgerUnits: number | null;
  if ('inputs' in input.audit) {
    const { inputs, perUserLimit, initialStock } = input.audit;
    const auditInput: AuditInput = { ...inputs, ackedOrders: load.orders, perUserLimit, initialStock };
    audit = auditRun(auditInput);
    inventory = inputs.inventory ?? [];
    ledgerUnits = inputs.ledgerOrders ? distinctById(inputs.ledgerOrders).reduce((n, o) => n + o.qty, 0) : null;
  } else {
    ({ merged: audit, inventory, ledgerUnits } = input.audit);
  }
  const stock = stockViews(load, initial, inventory, ledgerUnits, audit);
  const measured: ThresholdInputs = { latency: load.latency, counts: load.counts, durationMs: load.durationMs, stock, audit };
  const faults = input.faults ?? [];
  const results = [...evaluateThresholds(input.thresholds, measured, 'scenario'), ...evaluateDefaults(defaultsFor(input.thresholds), measured, load, faults)];
  const generator = boundByDrops(judgeGeneratorAtScale(load.generator, results), input.droppedBindGenerator ? load.counts.buyers.dropped : 0);
  const busy = input.sharedMachine && input.sharedMachine.othersCpuShare > MACHINE_BUSY_SHARE ? input.sharedMachine : null;
  const thresholds = results.map((t) => attribute(t, load, generator, busy));
  return { stock, audit, thresholds, generator, verdict: verdictOf(audit, thresholds, generator, load.stopReason, faultProblems(faults), input.targetDown ?? null) };
}

/** The default thresholds; with faults, the default http_req_failed counts only requests outside the
 * faults' windows (from each hit to the first success after it): errors a fault causes are expected. */
function evaluateDefaults(spec: ThresholdsSpec, measured: ThresholdInputs, load: LoadResult, faults: readonly FaultRecordResult[]): ThresholdResult[] {
  const outside = countsOutsideFaults(load.counts, load.intervals, faults);
  if (!outside || !spec.http_req_failed) return evaluateThresholds(spec, measured, 'default');
  const { http_req_failed: failed, ...rest } = spec;
  const note = `counted outside the faults' windows (${outside.excluded.toLocaleString('en-US')} answers during them not counted)`;
  return [
    ...evaluateThresholds(rest, measured, 'default'),
    ...evaluateThresholds({ http_req_failed: failed }, { ...measured, counts: outside.counts }, 'default').map((t) => ({ ...t, note: t.note ?? note })),
  ];
}

/** One definition of sold per source, each kept: the inventory's, the buyers' (acknowledged), the ledger's. */
function stockViews(load: LoadResult, initial: number, inventory: InventoryState[], ledgerUnits: number | null, audit: AuditResult | null): StockResult {
  const acknowledged = acknowledgedUnits(load.orders);
  const fromInventory = inventory.length > 0;
  const sold = fromInventory ? inventory.reduce((n, s) => n + s.sold, 0) : acknowledged;
  const worst = Math.max(sold, acknowledged, ledgerUnits ?? 0);
  return {
    initial,
    sold,
    soldFrom: fromInventory ? 'inventory' : 'acknowledged',
    acknowledged,
    ledger: ledgerUnits,
    oversold: Math.max(0, worst - initial, audit?.oversold ?? 0),
    sellOutMs: sellOutMs(load, sold, initial),
    inventory,
  };
}

/** First request to the acknowledgement of the unit that emptied the stock; null if stock remained. */
export function sellOutMs(load: { firstSendMs: number | null; lastAckMs: number | null }, sold: number, initial: number): number | null {
  if (sold < initial || load.firstSendMs === null || load.lastAckMs === null) return null;
  return load.lastAckMs - load.firstSendMs;
}

/** The latency scale of a scenario: its tightest upper bound on latency (ms), from the thresholds. */
export function latencyScale(thresholds: ReadonlyArray<Pick<ThresholdResult, 'metric' | 'expression'>>): { ms: number; from: string } | null {
  let best: { ms: number; from: string } | null = null;
  for (const t of thresholds) {
    const parsed = parseThreshold(t.metric, t.expression);
    const { name } = parsed.metric;
    const { operator, value, aggregation } = parsed.expression;
    if (name !== 'http_req_duration' && name !== 'http_req_duration_uncorrected') continue;
    if ((operator !== '<' && operator !== '<=') || aggregation.kind === 'min' || value <= 0) continue;
    if (best === null || value < best.ms) best = { ms: value, from: `the threshold ${t.metric} ${t.expression}` };
  }
  return best;
}

function judgeGeneratorAtScale(health: GeneratorHealth, thresholds: readonly ThresholdResult[]): GeneratorHealth {
  const scale = latencyScale(thresholds);
  const limits = generatorLimits(scale?.ms ?? null, scale?.from);
  return { ...health, ...judgeGenerator({ lateness: health.lateness, eventLoopDelayMs: health.eventLoopDelayMs, limits }) };
}

/** k6's dropped iterations: buyers k6 could not start at the arrival rate; the generator set the pace. */
function boundByDrops(health: GeneratorHealth, dropped: number): GeneratorHealth {
  if (dropped === 0) return health;
  const reason = `k6 dropped ${dropped.toLocaleString('en-US')} iteration${dropped === 1 ? '' : 's'} (dropped_iterations): it could not start buyers at the scenario's arrival rate`;
  return { ...health, generatorBound: true, reason: health.reason ? `${reason}; ${health.reason}` : reason };
}

/** Metrics whose value depends on when requests left, not only on how the target answered. */
const SCHEDULE_METRICS = new Set(['sellout_ms', 'http_reqs', 'dropped_iterations']);
/** Metrics of time: a target that shares a busy machine is slowed by it. */
const TIME_METRICS = new Set(['http_req_duration', 'http_req_duration_uncorrected', ...SCHEDULE_METRICS]);
/** Other processes using more than this share of the machine's CPU make a target that shares it
 * (the built-in service) too slow to judge on time. */
export const MACHINE_BUSY_SHARE = 0.25;

/**
 * A crossed threshold the generator could have crossed by itself is inconclusive, not the target's
 * failure: a latency threshold the observed value minus the generator's own part would have met (for
 * corrected latency its lateness at the same aggregation plus its event-loop delay; for uncorrected
 * latency, which lateness does not feed, the event-loop delay);
 * the sell-out time, within the latest request's lateness; and, when the generator was bound, any
 * threshold on the schedule itself (the sell-out time, requests sent, dropped buyers). And a threshold on
 * time crossed by a target that shares this machine (the built-in service) while other processes kept
 * its CPU busy: the target's slowness may be the machine's.
 */
function attribute(t: ThresholdResult, load: LoadResult, generator: GeneratorHealth, busyMachine: MachineLoad | null): ThresholdResult {
  if (t.status !== 'crossed' || t.actual === null) return t;
  const parsed = parseThreshold(t.metric, t.expression);
  const { name } = parsed.metric;
  const { operator, value, aggregation } = parsed.expression;
  if (busyMachine && TIME_METRICS.has(name)) {
    return {
      ...t,
      status: 'inconclusive',
      note: `other processes used ${Math.round(busyMachine.othersCpuShare * 100)}% of this machine's CPU during the run, and the built-in service shares it: its slowness may be the machine's`,
    };
  }
  if (generator.generatorBound && SCHEDULE_METRICS.has(name)) {
    return { ...t, status: 'inconclusive', note: 'the generator could not keep its schedule, so this figure is partly its own' };
  }
  // A timeout is judged by the generator's own clock: a generator that could not keep its schedule
  // (its event loop stalled) cannot tell a slow answer from its own stall.
  const timeouts = load.counts.errorsByKind.timeout ?? 0;
  if (generator.generatorBound && timeouts > 0 && (name === 'http_req_failed' || name === 'checks') && parsed.metric.tags.step === undefined) {
    const c = load.counts.byOutcome;
    const all = c.success + c.sold_out + c.rejected + c.error - timeouts;
    const without = all <= 0 ? null : name === 'http_req_failed' ? (c.error - timeouts) / all : (c.success + c.sold_out) / all;
    if (without === null || compare(without, operator, value)) {
      return { ...t, status: 'inconclusive', note: `crossed only by timeouts (${timeouts.toLocaleString('en-US')}), which a generator that could not keep its schedule measures with its own stalled clock` };
    }
  }
  let own: number | null = null;
  let what = '';
  if (name === 'http_req_duration' || name === 'sellout_ms') {
    const late = decodeHistogram(generator.lateness);
    if (late.totalCount === 0) return t;
    if (name === 'sellout_ms') {
      own = late.maxValue / 1000;
      what = `the generator sent requests up to ${own.toFixed(1)} ms late`;
    } else {
      // The generator's own part of a corrected latency: it sent the request late, and its stalled
      // event loop read the answer late (the event-loop delay, which also feeds uncorrected latency).
      const p = percentilesMs(late, aggregation.kind === 'percentile' ? [aggregation.p] : []);
      const sent = aggregation.kind === 'percentile' ? p[`p${String(aggregation.p).replace('.', '')}`] : aggregation.kind === 'avg' ? p.mean : aggregation.kind === 'med' ? p.p50 : aggregation.kind === 'max' ? p.max : null;
      const read = aggregation.kind === 'max' ? generator.eventLoopDelayMs.max : generator.eventLoopDelayMs.p99;
      own = sent === null ? null : sent + read;
      what = `the generator itself sent requests ${sent?.toFixed(1)} ms late at the same ${aggregation.kind === 'percentile' ? `p(${aggregation.p})` : aggregation.kind} and its event loop stalled up to ${read.toFixed(1)} ms reading answers`;
    }
  } else if (name === 'http_req_duration_uncorrected') {
    own = aggregation.kind === 'max' ? generator.eventLoopDelayMs.max : generator.eventLoopDelayMs.p99;
    what = `the load workers' event loops stalled up to ${own.toFixed(1)} ms (p99), which delays reading answers`;
  }
  if (own === null || own <= 0 || (operator !== '<' && operator !== '<=')) return t;
  if (!compare(t.actual - own, operator, value)) return t;
  return { ...t, status: 'inconclusive', note: `crossed by no more than ${what}: the target may not have crossed it` };
}

export function verdictOf(
  audit: AuditResult | null,
  thresholds: readonly ThresholdResult[],
  generator: GeneratorHealth,
  stopReason: LoadResult['stopReason'],
  faultsUntested: readonly string[] = [],
  targetDown: string | null = null,
): Verdict {
  const reasons: string[] = [];
  const auditFailed = audit !== null && !audit.passed;
  if (auditFailed) {
    for (const c of audit.checks) if (!c.passed && !c.skipped) reasons.push(`audit: ${c.title}: ${c.detail}`);
  }
  const interrupted = stopReason === 'interrupted';
  if (interrupted) reasons.push('interrupted: the run was stopped (Ctrl-C or SIGTERM) before it ended; what was measured is kept, not judged');
  // A dead target fails the run as a refused port does (docs/verdicts.md), whatever the thresholds made of the shortened load.
  const down = targetDown ?? (stopReason === 'target_down' ? 'the target went down during the load and the crowd was stopped early' : null);
  if (down !== null) reasons.push(`target: ${down}`);
  const crossed = thresholds.filter((t) => t.status === 'crossed');
  reasons.push(...crossed.map((t) => `threshold: ${describeThreshold(t)}`));
  const unsure = thresholds.filter((t) => t.status === 'inconclusive');
  if (generator.generatorBound) reasons.push(`generator: ${generator.reason ?? 'it could not keep its schedule'}`);
  reasons.push(...unsure.map((t) => `inconclusive threshold: ${describeThreshold(t)}`));
  reasons.push(...faultsUntested.map((f) => `fault: ${f}`));
  const status: Verdict['status'] = auditFailed
    ? 'audit_failed'
    : interrupted
      ? 'interrupted'
      : crossed.length > 0 || down !== null
        ? 'thresholds_crossed'
        : generator.generatorBound || unsure.length > 0 || faultsUntested.length > 0
          ? 'inconclusive'
          : 'passed';
  return { status, passed: status === 'passed', exitCode: EXIT_OF[status], reasons };
}

export const EXIT_OF = {
  passed: EXIT.ok,
  thresholds_crossed: EXIT.thresholdsCrossed,
  audit_failed: EXIT.auditFailed,
  inconclusive: EXIT.inconclusive,
  interrupted: EXIT.interrupted,
} as const satisfies Record<Verdict['status'], Verdict['exitCode']>;
