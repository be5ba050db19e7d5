// The shape of a run's result, defined once: what the load engine hands back (LoadResult), what the
// audit and the judge add, and what result.json holds (RunResult). The zod schemas below are the one
// source: the TypeScript types are inferred from them, src/report/read.ts checks a file with them, and
// schemas/result.schema.json is generated from them (node src/contract/write-result-schema.ts; a test
// fails when the committed file is stale).
//
// Histograms: HdrHistogram, values in MICROSECONDS, 3 significant digits, encoded with
// HdrHistogram's compressed base64 (hdr-histogram-js `encodeIntoCompressedBase64`), '' when empty.
// Times relative to the run are milliseconds from `t0EpochMs` (the first intended send / sale open).
// Objects accept fields they do not know (a later flashsale may add some), except where a closed set
// of keys is the point (steps, outcomes).
import { z } from 'zod';
import { OUTCOMES, STOP_REASONS, type Outcome, type Step } from './vocabulary.ts';

export { OUTCOMES };
export type { Outcome, Step };

/** 2: verdict.status (and exit codes 4, 105), counts.cutByStop, stock.acknowledged/ledger/soldFrom,
 * target.from, thresholds[].source/status/note, generator.lateShare/limits, warnings. Version-1 files
 * are upgraded when read (src/report/upgrade.ts). */
/** 3: faults (one record per scenario fault), intervals.errorsByKind/retries, orders[].idempotencyKey,
 * audit.committedUnacknowledged, the inventory_matches_ledger and one_order_per_key checks. Version-2
 * files are upgraded when read (they had no faults: an empty list). */
/** 4: stopReason `target_down`, target.stores (processes, perProcess lives and what each served, allDown),
 * the optional interval series (rejected, latenessMaxMs, statusCodes, soldBySku, connections). Version-3
 * files are upgraded when read (nothing to derive: each addition is optional, and no version-3 run
 * stopped for target_down). */
export const RESULT_SCHEMA_VERSION = 4;

// Messages name what was expected and what was found, as "path: message" lines (see resultIssues).
function found(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  return Array.isArray(v) ? 'array' : typeof v;
}
function saying(what: string) {
  return {
    error: (iss: z.core.$ZodRawIssue): string => {
      if (iss.input === undefined) return 'is missing';
      if (iss.code === 'too_small') return `must be ${iss.inclusive === false ? '>' : '≥'} ${String(iss.minimum)}, found ${String(iss.input)}`;
      if (iss.code === 'invalid_value') return `must be one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, found ${JSON.stringify(iss.input)}`;
      return `must be ${what}, found ${found(iss.input)}`;
    },
  };
}
const str = () => z.string(saying('string'));
const num = () => z.number(saying('number'));
const int = () => z.int(saying('integer'));
const bool = () => z.boolean(saying('boolean'));
const obj = <T extends z.core.$ZodLooseShape>(shape: T) => z.object(shape, saying('object'));
const closed = <T extends z.core.$ZodLooseShape>(shape: T) => z.strictObject(shape, saying('object'));
const list = <T extends z.core.$ZodType>(item: T) => z.array(item, saying('array'));
const oneOf = <const T extends readonly string[]>(values: T) => z.enum(values, saying('one of the listed values'));
const counter = () => int().min(0, saying('integer'));
/** The JSON Schema says "number or null" where the TypeScript type says `number | null`. */
const orNull = <T extends z.core.$ZodType>(schema: T, what: string) => z.union([schema, z.null()], saying(what));

const histogram = () => str().meta({ description: "HdrHistogram compressed base64 (µs), '' when empty." });

/** What the generator's lateness was judged against (src/measure/self-watch.ts). */
const GeneratorLimitsSchema = obj({
  /** The latency scale lateness is judged against, ms, and where it came from. */
  scaleMs: num(),
  scaleFrom: str(),
  /** A request that left later than this is late. */
  latenessMs: num(),
  /** More than this share of requests late means the generator did not keep its schedule. */
  lateShare: num(),
  /** A p99 event-loop delay above this means the workers could not send (or read) on time. */
  eventLoopMs: num(),
}).meta({ description: "What the generator was judged against: the scenario's tightest latency threshold (or the default scale)." });
export type GeneratorLimits = z.infer<typeof GeneratorLimitsSchema>;

/** How busy the machine was with other processes during the load (src/measure/host-watch.ts). */
const MachineLoadSchema = obj({
  /** Share of the machine's CPU time (all CPUs) other processes used during the load, 0..1. */
  othersCpuShare: num().min(0),
  cpus: int().min(1),
});
export type MachineLoad = z.infer<typeof MachineLoadSchema>;

const EncodedLatencySchema = obj({
  corrected: histogram().meta({ description: "From each request's intended start (coordinated-omission corrected)." }),
  uncorrected: histogram().meta({ description: 'From the moment the request went out (service time).' }),
});
export type EncodedLatency = z.infer<typeof EncodedLatencySchema>;

/** One schema per outcome (a closed set of keys, each optional). */
const perOutcome = <T extends z.ZodType>(item: T) =>
  closed({ success: item.optional(), sold_out: item.optional(), rejected: item.optional(), error: item.optional() } satisfies Record<Outcome, unknown>);
/** One schema per journey step (a closed set of keys, each optional). */
const perStep = <T extends z.ZodType>(item: T) => closed({ checkout: item.optional(), reserve: item.optional(), pay: item.optional() } satisfies Record<Step, unknown>);

const StepLatencySchema = obj({
  /** All outcomes together. */
  all: EncodedLatencySchema,
  byOutcome: perOutcome(EncodedLatencySchema),
});
export type StepLatency = z.infer<typeof StepLatencySchema>;

const series = () => list(num());
/** periodMs buckets from t0. Arrays all have the same length (src/report/read.ts checks it). */
const IntervalSeriesSchema = obj({
  periodMs: num().gt(0),
  sent: series(),
  completed: series(),
  successes: series(),
  soldOuts: series(),
  /** rejected + error answers */
  errors: series(),
  /** Units acknowledged as sold in the bucket (successful final steps × qty). */
  stockTaken: series(),
  /** Per bucket: corrected latency of every step and outcome completed in it, encoded ('' if none). */
  latency: list(histogram()).meta({ description: 'Corrected latency of everything completed in the bucket.' }),
  /** Rejected answers per bucket (they are also in errors). Absent in results written before it. */
  rejected: series().optional().meta({ description: 'Rejected answers per bucket (also counted in errors).' }),
  /** Worst send lateness of the requests sent in the bucket, ms. Absent in results written before it. */
  latenessMaxMs: series().optional().meta({ description: 'Worst send lateness (ms) of the requests sent in the bucket.' }),
  /** HTTP answers per status code ("201", "409", …) per bucket. */
  statusCodes: z.record(z.string(), series(), saying('object')).optional().meta({ description: 'HTTP answers per status code per bucket.' }),
  /** Units acknowledged per SKU per bucket. */
  soldBySku: z.record(z.string(), series(), saying('object')).optional().meta({ description: 'Units acknowledged per SKU per bucket.' }),
  /** Per kind of error ('ECONNREFUSED', 'timeout', 'http_503', …), a count per bucket (from version 3). */
  errorsByKind: z.record(z.string(), series(), saying('object')).optional().meta({ description: 'Per kind of error, a count per bucket (from version 3).' }),
  /** Retries sent per bucket (from version 3). */
  retries: series().optional().meta({ description: 'Retries sent per bucket (from version 3).' }),
  /** TCP connections the generator held open at the end of each bucket (absent in older results). */
  connectionsOpen: series().optional().meta({ description: 'TCP connections the generator held open at the end of the bucket (all workers).' }),
  /** Connections opened in the bucket (those opened before t0, by the warm-up, count in the first). */
  connects: series().optional().meta({ description: 'TCP connections opened in the bucket (before t0: in the first bucket).' }),
  /** Connections that closed in the bucket (either side; the generator's own close at the end is not counted). */
  disconnects: series().optional().meta({ description: "TCP connections closed in the bucket, by either side (the generator's close after the run is not counted)." }),
}).meta({ description: 'Fixed buckets of periodMs from t0; every array has the same length.' });
export type IntervalSeries = z.infer<typeof IntervalSeriesSchema>;

const OutcomeCountsSchema = obj({ success: counter(), sold_out: counter(), rejected: counter(), error: counter() } satisfies Record<Outcome, unknown>);

const CountsSchema = obj({
  requestsSent: counter(),
  /** Requests that got an HTTP answer, whatever its status. */
  requestsAnswered: counter(),
  retries: counter(),
  byOutcome: OutcomeCountsSchema,
  /** byOutcome per journey step (connection failures included, which have no latency to count). */
  byStep: perStep(OutcomeCountsSchema).meta({ description: 'byOutcome per journey step, connection failures included.' }),
  /** Why requests failed: 'http_503', 'http_429', 'timeout', 'ECONNRESET', ... */
  errorsByKind: z.record(z.string(), counter(), saying('object')),
  buyers: obj({
    started: counter(),
    /** Got an order. */
    succeeded: counter(),
    /** Ended on a sold-out answer. */
    soldOut: counter(),
    /** Ended on a refusal other than sold out (limit, declined, expired). */
    rejected: counter(),
    /** Ran out of retries or time. */
    gaveUp: counter(),
    /** Scheduled but never started: caps hit or the run stopped. k6's dropped_iterations. */
    dropped: counter(),
  }),
  unitsAcknowledged: counter(),
  /** Requests still in flight when the run stopped (sell-out, a cap, Ctrl-C): ended by the stop, not
   * by the target. Neither errors nor answers, and in no latency. */
  cutByStop: counter().meta({ description: 'In flight when the run stopped: neither errors nor answers, and in no latency.' }),
});
export type Counts = z.infer<typeof CountsSchema>;

const GeneratorHealthSchema = obj({
  /** How late requests left versus their intended time, µs, encoded. */
  lateness: histogram(),
  /** How long requests then waited for a free connection (all `connections` busy), µs, encoded.
   * Optional: results written before it existed do not have it. */
  connectionWait: histogram().optional().meta({ description: 'How long requests waited for a free connection (µs).' }),
  /** Event-loop delay of the load workers, ms (worst worker). */
  eventLoopDelayMs: obj({ p50: num(), p99: num(), max: num() }),
  /** True when the generator, not the target, set the pace. */
  generatorBound: bool(),
  /** Plain-language reason when generatorBound, else null. */
  reason: orNull(str(), 'string or null'),
  /** Share of requests that left later than limits.latenessMs. Absent in version-1 results. */
  lateShare: num().min(0).optional().meta({ description: 'Share of requests that left later than limits.latenessMs.' }),
  /** What it was judged against (the scenario's scale). Absent in version-1 results. */
  limits: GeneratorLimitsSchema.optional(),
});
export type GeneratorHealth = z.infer<typeof GeneratorHealthSchema>;

/** An order the generator saw acknowledged (201 on the final step). */
const AckedOrderSchema = obj({
  orderId: str(),
  userId: str(),
  sku: str(),
  qty: int().min(1),
  /** The Idempotency-Key of the request the order was acknowledged to (absent in version-2 results and ledger rows). */
  idempotencyKey: str().optional().meta({ description: 'The Idempotency-Key the order was acknowledged to (from version 3).' }),
});
export type AckedOrder = z.infer<typeof AckedOrderSchema>;

export const LoadResultSchema = obj({
  /** Epoch ms of time zero. */
  t0EpochMs: num().meta({ description: 'Epoch ms of time zero: the first intended send / sale open.' }),
  /** ms from t0 to the end of the run (schedule done and in-flight drained, or a cap/stop). */
  durationMs: num().min(0),
  /** ms from t0: first request sent; the unit that sold the last of the stock acknowledged. */
  firstSendMs: orNull(num(), 'number or null'),
  lastAckMs: orNull(num(), 'number or null'),
  /** Why the run ended. */
  stopReason: oneOf(STOP_REASONS),
  counts: CountsSchema,
  latency: perStep(StepLatencySchema).meta({ description: 'Per journey step.' }),
  intervals: IntervalSeriesSchema,
  generator: GeneratorHealthSchema,
  orders: list(AckedOrderSchema).meta({ description: 'Orders the generator saw acknowledged.' }),
});
export type LoadResult = z.infer<typeof LoadResultSchema>;

export const AUDIT_CHECK_IDS = [
  'sold_within_stock',
  'stock_conserved',
  'per_user_limit',
  'unique_order_ids',
  'acked_orders_in_ledger',
  'acked_counted_as_sold',
  'inventory_matches_ledger',
  'one_order_per_key',
] as const;
export type AuditCheckId = (typeof AUDIT_CHECK_IDS)[number];

const AuditCheckSchema = obj({
  id: oneOf(AUDIT_CHECK_IDS),
  title: str(),
  passed: bool(),
  /** True when the check could not be made against this target (and why, in detail). */
  skipped: bool(),
  detail: str(),
  /** Offending ids (order ids, user ids, SKUs), at most 100 listed; offendingCount has the total. */
  offending: list(str()),
  offendingCount: counter(),
});
export type AuditCheck = z.infer<typeof AuditCheckSchema>;

const AuditResultSchema = obj({
  passed: bool(),
  checks: list(AuditCheckSchema),
  oversold: counter(),
  lostOrders: counter(),
  /** Orders the ledger holds that no buyer was told about (the answer was cut: a kill, a reset): legal,
   * counted. Absent when the ledger could not be read, and in version-2 results. */
  committedUnacknowledged: counter().optional().meta({ description: 'Orders in the ledger no buyer heard about (legal, counted); absent without a ledger.' }),
});
export type AuditResult = z.infer<typeof AuditResultSchema>;

const InventoryStateSchema = obj({ sku: str(), initial: int(), available: int(), reserved: int(), sold: int() });
export type InventoryState = z.infer<typeof InventoryStateSchema>;

const ThresholdResultSchema = obj({
  /** e.g. 'http_req_duration{step:reserve}' */
  metric: str(),
  /** e.g. 'p(99)<250' */
  expression: str(),
  /** The observed value the expression was evaluated on, or null if there was no data. */
  actual: orNull(num(), 'number or null'),
  /** status === 'passed'. */
  pass: bool(),
  abortOnFail: bool(),
  /** 'default': one of flashsale's default thresholds (the scenario did not set this metric). */
  source: oneOf(['scenario', 'default']).meta({ description: "default: one of flashsale's default thresholds (the scenario did not set this metric)." }),
  /** 'inconclusive': crossed, but by no more than the generator's own lateness could explain. */
  status: oneOf(['passed', 'crossed', 'inconclusive']).meta({ description: "inconclusive: crossed by no more than the generator's own lateness could explain." }),
  /** Why it is inconclusive (or other words about it), else null. */
  note: orNull(str(), 'string or null'),
});
export type ThresholdResult = z.infer<typeof ThresholdResultSchema>;

const EnvironmentSchema = obj({
  node: str(),
  platform: str(),
  arch: str(),
  cpus: int().min(1),
  cpuModel: str(),
  totalMemoryBytes: num().min(0),
  gitCommit: orNull(str(), 'string or null'),
  flashsaleVersion: str(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;

/** What a run concluded, best first: the exit code each status gives (src/errors.ts EXIT). */
export const VERDICT_STATUSES = ['passed', 'thresholds_crossed', 'inconclusive', 'interrupted', 'audit_failed'] as const;
export type VerdictStatus = (typeof VERDICT_STATUSES)[number];

const VerdictSchema = obj({
  /** passed (0), thresholds_crossed (99), inconclusive (4: the generator could not keep its schedule,
   * so the target was not tested as asked), interrupted (105: Ctrl-C or SIGTERM), audit_failed (3,
   * outranks every other). */
  status: oneOf(VERDICT_STATUSES).meta({ description: 'See docs/verdicts.md.' }),
  /** status === 'passed'. */
  passed: bool(),
  exitCode: z.literal([0, 3, 4, 99, 105], saying('one of 0, 3, 4, 99, 105')),
  /** One line per reason, the deciding ones first. */
  reasons: list(str()),
});
export type Verdict = z.infer<typeof VerdictSchema>;

const StockResultSchema = obj({
  initial: int().min(0),
  /** Units sold, by `soldFrom`: the target's inventory when it has the route, else what was acknowledged. */
  sold: int().min(0).meta({ description: 'Units sold by soldFrom.' }),
  soldFrom: oneOf(['inventory', 'acknowledged']).meta({ description: "The target's inventory when it has the route, else the units acknowledged to buyers." }),
  /** Units the target acknowledged to the buyers (distinct orders). */
  acknowledged: int().min(0).meta({ description: 'Units in the distinct orders the target acknowledged to buyers.' }),
  /** Units in the target's order ledger; null when it could not be read. */
  ledger: orNull(int().min(0), 'integer or null').meta({ description: "Units in the target's order ledger; null when it could not be read." }),
  /** Units sold beyond stock in the worst of the views (acknowledged, ledger, inventory). */
  oversold: int().min(0).meta({ description: 'Units beyond stock in the worst view (inventory, acknowledged, ledger, audit).' }),
  sellOutMs: orNull(num(), 'number or null').meta({ description: 'First request to the acknowledgement of the last unit; null if stock remained.' }),
  inventory: list(InventoryStateSchema),
});
export type StockResult = z.infer<typeof StockResultSchema>;

const rangeOrNull = () => orNull(obj({ min: num(), max: num() }), 'object or null');

/** What the crowd saw of one fault (src/faults/impact.ts). */
const FaultImpactSchema = obj({
  fromMs: num(),
  toMs: num(),
  sent: counter(),
  completed: counter(),
  successes: counter(),
  soldOuts: counter(),
  errors: counter(),
  errorsByKind: orNull(z.record(z.string(), counter(), saying('object')), 'object or null'),
  retries: orNull(counter(), 'integer or null'),
  recoveryMs: rangeOrNull().meta({ description: "From the fault's end to the first success after it (bucket resolution)." }),
  outageMs: rangeOrNull().meta({ description: 'From its hit to that first success: how long buyers could not buy.' }),
  notes: list(str()),
});
export type FaultImpactResult = z.infer<typeof FaultImpactSchema>;

export const FAULT_STATUSES = ['healed', 'applied', 'failed', 'heal_failed', 'not_reached'] as const;

/** One fault of the scenario, as it happened (src/faults/record.ts); times in ms from t0. */
const FaultRecordSchema = obj({
  index: counter(),
  kind: str(),
  description: str(),
  spec: obj({ at: z.union([num(), str()], saying('number or string')) }).meta({ description: 'The fault as the scenario wrote it.' }),
  status: oneOf(FAULT_STATUSES).meta({ description: 'healed, applied (nothing to undo), failed (not injected), heal_failed, not_reached.' }),
  problem: orNull(str(), 'string or null'),
  plannedMs: num(),
  hitMs: orNull(num(), 'number or null'),
  inEffectMs: orNull(num(), 'number or null'),
  healStartMs: orNull(num(), 'number or null'),
  healedMs: orNull(num(), 'number or null'),
  healedEarly: bool(),
  detail: z.record(z.string(), z.unknown(), saying('object')),
  impact: orNull(FaultImpactSchema, 'object or null').optional(),
});
export type FaultRecordResult = z.infer<typeof FaultRecordSchema>;

/** One route's answers by one process: all, 2xx, 503 (its /metrics counters). */
const RouteServedSchema = obj({ answered: counter(), ok: counter(), unavailable: counter() });

/** One life of a service process on the stores (`run --service-processes`): a pid, from its start to its end; times in ms from t0. */
const ProcessLifeSchema = obj({
  pid: int(),
  /** run: started by the run before the load; fault: started again by a kill fault's heal. */
  startedBy: oneOf(['run', 'fault']),
  /** Spawned, and answering /healthz 200 (negative: before the load started). */
  startedMs: num(),
  readyMs: num(),
  /** How it ended; null: it was still running when the record was made. */
  ended: orNull(
    obj({
      atMs: num(),
      /** run: stopped by the run at its end; fault: killed by a kill fault; unasked: it crashed or something else killed it. */
      by: oneOf(['run', 'fault', 'unasked']),
      code: orNull(int(), 'integer or null'),
      signal: orNull(str(), 'string or null'),
    }),
    'object or null',
  ),
  /** What it served, as of its last health answer (atMs); null when it never answered one with counters. */
  served: orNull(
    obj({
      atMs: num(),
      checkout: RouteServedSchema,
      reserve: RouteServedSchema,
      pay: RouteServedSchema,
      /** 503 answers on every route. */
      unavailable: counter(),
      /** Store calls that failed, per store. */
      storeErrors: obj({ redis: counter(), postgres: counter() }),
    }),
    'object or null',
  ),
});

/** One service process on the stores, over its restarts (src/run/service-processes.ts). */
const ServiceProcessSchema = obj({
  index: counter(),
  /** The shared port it listens on. */
  port: int().min(0),
  lives: list(ProcessLifeSchema).meta({ description: 'One per pid: the first start, then each restart by a kill fault.' }),
  restartsByFaults: counter(),
  /** What its health checks found, in order (times in ms from t0). */
  troubles: list(
    obj({
      atMs: num(),
      pid: orNull(int(), 'integer or null'),
      kind: oneOf(['threads_down', 'no_answer', 'healthy_again', 'restart_failed']),
      detail: str(),
    }),
  ),
});
export type ServiceProcessRecord = z.infer<typeof ServiceProcessSchema>;

export const RunResultSchema = LoadResultSchema.extend({
  schemaVersion: z.literal(RESULT_SCHEMA_VERSION, saying(String(RESULT_SCHEMA_VERSION))).meta({
    description:
      'Bumped on any change an older reader could misread. 3: faults, intervals.errorsByKind/retries, orders[].idempotencyKey, audit.committedUnacknowledged, the inventory_matches_ledger and one_order_per_key checks. 2: verdict.status and exit codes 4 and 105, counts.cutByStop and byStep, stock views (soldFrom, acknowledged, ledger), target.from, thresholds[].source/status/note, generator.lateShare/limits, machine, warnings, the acked_counted_as_sold check.',
  }),
  scenario: obj({
    name: str(),
    description: str(),
    definition: z.unknown().refine((v): boolean => v !== undefined, { error: 'is missing' }).meta({ description: 'The validated scenario JSON the run used.' }),
  }),
  environment: EnvironmentSchema,
  target: obj({
    url: str(),
    builtIn: bool(),
    serviceThreads: orNull(int().min(1), 'integer or null'),
    /** Where the URL came from: the built-in service, the scenario's target.url, or --target. */
    from: oneOf(['built-in', 'scenario', 'flag']).meta({ description: "Where the URL came from: the built-in service, the scenario's target.url, or --target." }),
    /** `run --service-processes N`: the built-in service as N processes on the shared stores; absent otherwise. */
    stores: obj({
      processes: int().min(1),
      threadsPerProcess: int().min(1),
      /** The Redis URL without its password, or the run's own redis-server. */
      stockStore: str(),
      ownRedis: bool(),
      /** The PostgreSQL URL without its password. */
      ledger: str(),
      schema: str(),
      prefix: str(),
      kept: bool(),
      /** serve's --stock-strategy of every process (absent in results written before it was recorded). */
      strategy: oneOf(['redis-lua', 'redis-leased']).optional(),
      /** Each process: its pids over restarts, how each ended, its troubles, what it served (absent in results written before it was recorded). */
      perProcess: list(ServiceProcessSchema)
        .optional()
        .meta({ description: 'Each service process: its pids over restarts (start, ready, how each ended), restarts by faults, the troubles its health checks found, what it served. Times in ms from t0.' }),
      /** Every process had ended, none of them inside a kill fault that would restart it: the target was dead. */
      allDown: obj({
        atMs: num(),
        /** The crowd was stopped for it (stopReason target_down); false: the load had already ended. */
        crowdStopped: bool(),
        detail: str(),
      })
        .optional()
        .meta({ description: 'Every service process had ended, none inside a kill fault that would restart it (ms from t0); absent when it never happened.' }),
    })
      .optional()
      .meta({ description: 'run --service-processes N: the built-in service as N processes on the shared stores (URLs without passwords; the run\'s own schema and key prefix, and whether --keep-stores kept them); absent otherwise.' }),
  }),
  startedAt: str().meta({ description: 'ISO 8601.' }),
  endedAt: str().meta({ description: 'ISO 8601.' }),
  stock: StockResultSchema,
  audit: orNull(AuditResultSchema, 'object or null').meta({ description: 'Null when the target exposes no inventory route to audit against.' }),
  thresholds: list(ThresholdResultSchema),
  verdict: VerdictSchema,
  /** Things the reader must know to read the figures right (e.g. merged runs that did not overlap). */
  warnings: list(str()).optional().meta({ description: 'What a reader must know to read the figures right (e.g. merged runs that did not overlap in time).' }),
  /** What other processes took of this machine's CPU during the load; null when unknown (not Linux). */
  machine: orNull(MachineLoadSchema, 'object or null')
    .optional()
    .meta({ description: "What other processes took of this machine's CPU during the load; null when unknown (not Linux)." }),
  /** `run --segment` / `import k6` of a segmented run: the share of the crowd this run started (k6 syntax, "0:1/4"). */
  segment: str().optional().meta({ description: 'The execution segment this run started (k6 syntax, e.g. "0:1/4"); absent: the whole crowd.' }),
  /** Which load generator measured it; absent: the native engine. k6 measures uncorrected latency only. */
  engine: oneOf(['native', 'k6']).optional().meta({ description: 'The load generator that measured it (absent: native). k6 results hold uncorrected latency only.' }),
  /** The scenario's faults as they happened (docs/faults.md); absent when it had none. */
  faults: list(FaultRecordSchema).optional().meta({ description: "The scenario's faults as they happened (docs/faults.md); absent when it had none." }),
  /** Set by `flashsale merge`: the result files this one was merged from. */
  mergedFrom: list(str()).optional().meta({ description: 'Set by `flashsale merge`: the files merged.' }),
}).meta({
  title: `flashsale result.json, schema version ${RESULT_SCHEMA_VERSION}`,
  description:
    "One flash-sale run (or several merged). Version-1 and version-2 files are upgraded when read (src/report/upgrade.ts). Histograms are HdrHistogram compressed base64 of values in microseconds, 3 significant digits, '' when empty. Times relative to the run are milliseconds from t0EpochMs. Later versions of flashsale may add fields; readers ignore fields they do not know.",
});
export type RunResult = z.infer<typeof RunResultSchema>;

/** What is wrong with a document read as a result, one "path: message" line each (at most `limit`);
 * empty when it is a valid result. Paths read as in the file: counts.byOutcome.success, intervals.sent[3]. */
export function resultIssues(doc: unknown, limit = 20): string[] {
  const r = RunResultSchema.safeParse(doc, { reportInput: true });
  if (r.success) return [];
  const lines: string[] = [];
  for (const issue of r.error.issues) {
    const at = issue.path.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${String(k)}` : String(k)), '');
    if (issue.code === 'unrecognized_keys') for (const key of issue.keys) lines.push(`${at ? `${at}.` : ''}${key}: is not a known field`);
    else lines.push(`${at || '(root)'}: ${issue.message}`);
  }
  return lines.slice(0, limit);
}

/** schemas/result.schema.json's exact text: the JSON Schema of a result file as written (io: input),
 * stable key order, two-space indent, trailing newline. */
export function resultJsonSchemaText(): string {
  const schema = z.toJSONSchema(RunResultSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify({ $id: 'flashsale/result.schema.json', ...schema }, null, 2)}\n`;
}
