// Every error flashsale raises on purpose, in one place, each with the exit code the CLI maps it to
// (src/cli/main.ts prints its message, never a stack, and exits with its code).
// Exit codes follow k6 where k6 has one (99: thresholds crossed, 105: interrupted from outside).

export const EXIT = {
  /** The run passed: audit, thresholds (defaults included), generator on schedule. */
  ok: 0,
  /** Anything else that went wrong. */
  failure: 1,
  /** Bad usage: an invalid scenario, flag or result file. */
  usage: 2,
  /** The audit failed (oversold, lost orders, limits, duplicate ids): outranks every other verdict. */
  auditFailed: 3,
  /** Inconclusive: the generator could not keep its schedule, so the target was not tested as asked. */
  inconclusive: 4,
  /** A threshold was crossed (k6's code). */
  thresholdsCrossed: 99,
  /** Interrupted by Ctrl-C or SIGTERM (k6's code for an external abort); everything is still written. */
  interrupted: 105,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class FlashsaleError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = EXIT.failure, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad command-line usage: unknown option value, out-of-range number. Exit 2. */
export class UsageError extends FlashsaleError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** A scenario file that does not validate. `issues` name the field and the problem. Exit 2. */
export class ScenarioError extends FlashsaleError {
  readonly issues: readonly string[];
  constructor(source: string, issues: readonly string[]) {
    super(`invalid scenario ${source}:\n  ${issues.join('\n  ')}`, EXIT.usage);
    this.issues = issues;
  }
}

/** The stock core's per-user table has no free slot: never a silent pass. */
export class CapacityError extends FlashsaleError {
  constructor(message: string) {
    super(message, EXIT.failure);
  }
}

/** A start that would silently replace a sale with orders (another stock or limit on the same ledger). Exit 2: --new-sale says it is meant. */
export class SaleConflictError extends FlashsaleError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** A ledger file that fails its integrity check at start: refused unless the risk is accepted (--accept-lost-orders). Exit 2. */
export class LedgerDamagedError extends FlashsaleError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** The service's port is taken (by another flashsale or any other process): named, with the holder when it can be found. Exit 2. */
export class PortInUseError extends FlashsaleError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** A foreign target whose sale is not the scenario's (SKUs it does not sell, another initial stock):
 * refused before any load, since the audit would blame the service for the difference. Exit 2. */
export class TargetSaleMismatchError extends FlashsaleError {
  readonly mismatches: readonly string[];
  constructor(targetUrl: string, mismatches: readonly string[]) {
    super(
      `the sale at ${targetUrl} does not match the scenario's sale.skus:\n  ${mismatches.join('\n  ')}\n` +
        'Start the target with the scenario\'s SKUs and stock, or change sale.skus to what the target sells.',
      EXIT.usage,
    );
    this.mismatches = mismatches;
  }
}

// Files a person hands flashsale --------------------------------------------------------------------

/** A result file that cannot be used. Names the file and, when it can, the field. Exit 2. */
export class ResultFileError extends FlashsaleError {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`, EXIT.usage);
    this.file = file;
  }
}

/** k6 output (`--out json`, plain or .gz) that cannot be read: names the file and line. Exit 2. */
export class K6OutputError extends FlashsaleError {
  readonly file: string;
  readonly line: number | null;
  constructor(file: string, line: number | null, problem: string) {
    super(`${line === null ? file : `${file}:${line}`}: ${problem}`, EXIT.usage);
    this.file = file;
    this.line = line;
  }
}

/** `--engine k6` without a k6 binary: says every place that was looked in and how to supply one. Exit 2. */
export class K6NotFoundError extends FlashsaleError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** A plan.json that cannot be used: names the file and the problem. Exit 2. */
export class PlanFileError extends FlashsaleError {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`, EXIT.usage);
  }
}

/** A duration that cannot be read (src/common/duration.ts: "500ms", "11.9s", "2m", "1h", or a number of ms). Exit 2. */
export class DurationError extends FlashsaleError {
  constructor(value: string) {
    super(`"${value}" is not a duration (examples: 500ms, 30s, 2m).`, EXIT.usage);
  }
}

/** A threshold that is not k6's syntax, or names a metric, tag or aggregation flashsale does not have. Exit 2. */
export class ThresholdSyntaxError extends FlashsaleError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

// The load engine -----------------------------------------------------------------------------------

/** A LoadPlan built in code (tests, merge, the API) that the engine cannot run; `issues` name each field. Exit 2. */
export class LoadPlanError extends FlashsaleError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid load plan:\n  ${issues.join('\n  ')}`, EXIT.usage);
    this.issues = issues;
  }
}

/** Threads (load workers, simulate's racers) that did not all reach the start line in time: the machine
 * is too busy or a thread died before it got there. Nothing was sent. Exit 1. */
export class StartTimeoutError extends FlashsaleError {
  constructor(message: string) {
    super(message, EXIT.failure);
  }
}

/** What the code needs from the platform is missing or broken (a module or capability Node should have). Exit 1. */
export class PlatformError extends FlashsaleError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.failure, options);
  }
}

// Ledgers and shared stores -------------------------------------------------------------------------

/** The SQLite ledger failed a write or a read (its message says which). Exit 1. */
export class LedgerError extends FlashsaleError {}

/** The PostgreSQL ledger refused a batch or could not be used (its message says which). Exit 1. */
export class PgLedgerError extends FlashsaleError {}

/** A --stock-store or --ledger URL that cannot be used: says which and why. Exit 2. */
export class StoreUrlError extends FlashsaleError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** A store did not answer, or answered something this code never sends back: the service answers 503. */
export class StoreUnavailableError extends FlashsaleError {}

/**
 * The stock the store holds was rebuilt (Redis lost its keys and came back from the ledger) after these
 * units were taken: the orders must not be committed, their buyers get a 503 and may retry.
 */
export class StaleStockEpochError extends FlashsaleError {}

/** A benchmark lab's own tool (redis-benchmark, pgbench, a store) did not answer as expected. Exit 1. */
export class LabError extends FlashsaleError {}

// Errors that never reach a user stay beside the code that raises and catches them, each saying why:
// RequestTimeoutError (src/load/answers.ts, counted as a request's 'timeout'), TooLargeError
// (src/audit/fetch.ts, becomes the audit's message), SaleRefused (src/service/admin.ts, answered as
// an HTTP status). A RangeError or TypeError means code called an API wrongly (a bug, never bad input:
// input is checked first and refused with one of the classes above).

/** The message of anything thrown (a catch binding is `unknown`; what code throws is almost always an Error). */
export function messageOf(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}

/** The `code` of anything thrown (Node's ENOENT, undici's UND_ERR_*, PostgreSQL's 40P01), if it has one. */
export function codeOf(thrown: unknown): string | undefined {
  const code = typeof thrown === 'object' && thrown !== null ? (thrown as { code?: unknown }).code : undefined; // an object may carry a code: read it as unknown
  return typeof code === 'string' ? code : undefined;
}

/** A fault that could not be injected or healed (no Toxiproxy, a service that would not restart, a refused
 * exec): raised by a fault kind, caught by the scheduler and written into that fault's record, so a failed
 * fault never loses what the run measured. */
export class FaultError extends FlashsaleError {
  /** What was done before it failed (a command's exit code and output), kept in the fault's record. */
  readonly detail: Record<string, unknown>;
  constructor(message: string, detail: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, EXIT.failure, options);
    this.detail = detail;
  }
}
