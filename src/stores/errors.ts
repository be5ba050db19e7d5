// Errors of the shared stores. Kept beside them (not in src/errors.ts) while the service and the ledger
// are being changed by others; phase 2 may move them there.
import { EXIT, FlashsaleError } from '../errors.ts';

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
