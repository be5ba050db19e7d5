// Every error flashsale raises on purpose, in one place, each with the exit code the CLI maps it to.
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
