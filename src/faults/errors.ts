// A fault that could not be injected or healed (no Toxiproxy, a service that would not restart, a
// refused exec): raised by a fault kind, caught by the scheduler and written into that fault's record,
// so a failed fault never loses what the run measured. Phase 2 moves it into src/errors.ts.
import { EXIT, FlashsaleError } from '../errors.ts';

export class FaultError extends FlashsaleError {
  /** What was done before it failed (a command's exit code and output), kept in the fault's record. */
  readonly detail: Record<string, unknown>;
  constructor(message: string, detail: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, EXIT.failure, options);
    this.detail = detail;
  }
}
