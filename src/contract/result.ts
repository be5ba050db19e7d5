// The shape of a run's result: what the load engine hands back (LoadResult), what the audit adds,
// and what result.json holds (RunResult). One contract between load → audit → report.
//
// Histograms: HdrHistogram, values in MICROSECONDS, 3 significant digits, encoded with
// HdrHistogram's compressed base64 (hdr-histogram-js `encodeIntoCompressedBase64`), '' when empty.
// Times relative to the run are milliseconds from `t0EpochMs` (the first intended send / sale open).

import { OUTCOMES, type Outcome, type Step, type StopReason } from './vocabulary.ts';

export { OUTCOMES };
export type { Outcome, Step };

/** 2: verdict.status (and exit codes 4, 105), counts.cutByStop, stock.acknowledged/ledger/soldFrom,
 * target.from, thresholds[].source/status/note, generator.lateShare/limits, warnings. Version-1 files
 * are upgraded when read (src/report/read.ts). */
export const RESULT_SCHEMA_VERSION = 2;


/** What the generator's lateness was judged against (src/measure/self-watch.ts). */
export interface GeneratorLimits {
  /** The latency scale lateness is judged against, ms, and where it came from. */
  scaleMs: number;
  scaleFrom: string;
  /** A request that left later than this is late. */
  latenessMs: number;
  /** More than this share of requests late means the generator did not keep its schedule. */
  lateShare: number;
  /** A p99 event-loop delay above this means the workers could not send (or read) on time. */
  eventLoopMs: number;
}

/** How busy the machine was with other processes during the load (src/measure/host-watch.ts). */
export interface MachineLoad {
  /** Share of the machine's CPU time (all CPUs) other processes used during the load, 0..1. */
  othersCpuShare: number;
  cpus: number;
}

export interface EncodedLatency {
  /** From each request's intended start: coordinated-omission corrected. */
  corrected: string;
  /** From the moment the request actually went out: the service time. */
  uncorrected: string;
}

export interface StepLatency {
  /** All outcomes together. */
  all: EncodedLatency;
  byOutcome: Partial<Record<Outcome, EncodedLatency>>;
}

/** 100 ms buckets from t0. Arrays all have the same length. */
export interface IntervalSeries {
  periodMs: number;
  sent: number[];
  completed: number[];
  successes: number[];
  soldOuts: number[];
  /** rejected + error answers */
  errors: number[];
  /** Units acknowledged as sold in the bucket (successful final steps × qty). */
  stockTaken: number[];
  /** Per bucket: corrected latency of every step and outcome completed in it, encoded ('' if none). */
  latency: string[];
}

export interface Counts {
  requestsSent: number;
  /** Requests that got an HTTP answer, whatever its status. */
  requestsAnswered: number;
  retries: number;
  byOutcome: Record<Outcome, number>;
  /** byOutcome per journey step (connection failures included, which have no latency to count). */
  byStep: Partial<Record<Step, Record<Outcome, number>>>;
  /** Why requests failed: 'http_503', 'http_429', 'timeout', 'ECONNRESET', ... */
  errorsByKind: Record<string, number>;
  buyers: {
    started: number;
    /** Got an order. */
    succeeded: number;
    /** Ended on a sold-out answer. */
    soldOut: number;
    /** Ended on a refusal other than sold out (limit, declined, expired). */
    rejected: number;
    /** Ran out of retries or time. */
    gaveUp: number;
    /** Scheduled but never started: caps hit or the run stopped. k6's dropped_iterations. */
    dropped: number;
  };
  unitsAcknowledged: number;
  /** Requests still in flight when the run stopped (sell-out, a cap, Ctrl-C): ended by the stop, not
   * by the target. Neither errors nor answers, and in no latency. */
  cutByStop: number;
}

export interface GeneratorHealth {
  /** How late requests left versus their intended time, µs, encoded. */
  lateness: string;
  /** How long requests then waited for a free connection (all `connections` busy), µs, encoded.
   * Optional: results written before it existed do not have it. */
  connectionWait?: string;
  /** Event-loop delay of the load workers, ms (worst worker). */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** True when the generator, not the target, set the pace. */
  generatorBound: boolean;
  /** Plain-language reason when generatorBound, else null. */
  reason: string | null;
  /** Share of requests that left later than limits.latenessMs. Absent in version-1 results. */
  lateShare?: number;
  /** What it was judged against (the scenario's scale). Absent in version-1 results. */
  limits?: GeneratorLimits;
}

/** An order the generator saw acknowledged (201 on the final step). */
export interface AckedOrder {
  orderId: string;
  userId: string;
  sku: string;
  qty: number;
}

export interface LoadResult {
  /** Epoch ms of time zero. */
  t0EpochMs: number;
  /** ms from t0 to the end of the run (schedule done and in-flight drained, or a cap/stop). */
  durationMs: number;
  /** ms from t0: first request sent; the unit that sold the last of the stock acknowledged. */
  firstSendMs: number | null;
  lastAckMs: number | null;
  /** Why the run ended: 'completed' | 'sold_out' | 'max_duration' | 'max_requests' | 'interrupted'. */
  stopReason: StopReason;
  counts: Counts;
  latency: Partial<Record<Step, StepLatency>>;
  intervals: IntervalSeries;
  generator: GeneratorHealth;
  orders: AckedOrder[];
}

export const AUDIT_CHECK_IDS = ['sold_within_stock', 'stock_conserved', 'per_user_limit', 'unique_order_ids', 'acked_orders_in_ledger', 'acked_counted_as_sold'] as const;
export type AuditCheckId = (typeof AUDIT_CHECK_IDS)[number];

export interface AuditCheck {
  id: AuditCheckId;
  title: string;
  passed: boolean;
  /** Null when the check could not be made against this target (and why, in detail). */
  skipped: boolean;
  detail: string;
  /** Offending ids (order ids, user ids, SKUs), at most 100 listed; offendingCount has the total. */
  offending: string[];
  offendingCount: number;
}

export interface AuditResult {
  passed: boolean;
  checks: AuditCheck[];
  oversold: number;
  lostOrders: number;
}

export interface InventoryState {
  sku: string;
  initial: number;
  available: number;
  reserved: number;
  sold: number;
}

export interface ThresholdResult {
  /** e.g. 'http_req_duration{step:reserve}' */
  metric: string;
  /** e.g. 'p(99)<250' */
  expression: string;
  /** The observed value the expression was evaluated on, or null if there was no data. */
  actual: number | null;
  /** status === 'passed'. */
  pass: boolean;
  abortOnFail: boolean;
  /** 'default': one of flashsale's default thresholds (the scenario did not set this metric). */
  source: 'scenario' | 'default';
  /** 'inconclusive': crossed, but by no more than the generator's own lateness could explain. */
  status: 'passed' | 'crossed' | 'inconclusive';
  /** Why it is inconclusive (or other words about it), else null. */
  note: string | null;
}

export interface Environment {
  node: string;
  platform: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  totalMemoryBytes: number;
  gitCommit: string | null;
  flashsaleVersion: string;
}

/** What a run concluded, best first: the exit code each status gives (src/errors.ts EXIT). */
export const VERDICT_STATUSES = ['passed', 'thresholds_crossed', 'inconclusive', 'interrupted', 'audit_failed'] as const;
export type VerdictStatus = (typeof VERDICT_STATUSES)[number];

export interface Verdict {
  /** passed (0), thresholds_crossed (99), inconclusive (4: the generator could not keep its schedule,
   * so the target was not tested as asked), interrupted (105: Ctrl-C or SIGTERM), audit_failed (3,
   * outranks every other). */
  status: VerdictStatus;
  /** status === 'passed'. */
  passed: boolean;
  exitCode: 0 | 3 | 4 | 99 | 105;
  /** One line per reason, the deciding ones first. */
  reasons: string[];
}

export interface StockResult {
  initial: number;
  /** Units sold, by `soldFrom`: the target's inventory when it has the route, else what was acknowledged. */
  sold: number;
  soldFrom: 'inventory' | 'acknowledged';
  /** Units the target acknowledged to the buyers (distinct orders). */
  acknowledged: number;
  /** Units in the target's order ledger; null when it could not be read. */
  ledger: number | null;
  /** Units sold beyond stock in the worst of the views (acknowledged, ledger, inventory). */
  oversold: number;
  sellOutMs: number | null;
  inventory: InventoryState[];
}

export interface RunResult extends LoadResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  scenario: { name: string; description: string; definition: unknown };
  environment: Environment;
  /** from: where the URL came from: the built-in service, the scenario's target.url, or --target. */
  target: { url: string; builtIn: boolean; serviceThreads: number | null; from: 'built-in' | 'scenario' | 'flag' };
  startedAt: string;
  endedAt: string;
  stock: StockResult;
  audit: AuditResult | null;
  thresholds: ThresholdResult[];
  verdict: Verdict;
  /** Things the reader must know to read the figures right (e.g. merged runs that did not overlap). */
  warnings?: string[];
  /** What other processes took of this machine's CPU during the load; null when unknown (not Linux). */
  machine?: MachineLoad | null;
  /** Set by `flashsale merge`: the result files this one was merged from. */
  mergedFrom?: string[];
}
