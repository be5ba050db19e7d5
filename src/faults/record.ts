// What result.json keeps of each fault (its `faults` list): what was asked, when it hit and healed (ms
// from the sale's opening, like the interval series), what it did, and — added after the run from the
// interval series by impact.ts — what the crowd saw during it and how long until the first success.
import type { FaultSpec } from './kinds.ts';
import type { FaultImpact, FaultImpactTimings } from './impact.ts';

/**
 * healed: in effect, then undone; applied: in effect, nothing to undo (an exec without heal);
 * failed: could not be injected (see problem); heal_failed: injected, the heal failed (the target may
 * still suffer it); not_reached: the run ended before its moment.
 */
export type FaultStatus = FaultImpactTimings['status'];

export interface FaultRecord {
  /** Its position in the scenario's faults list. */
  index: number;
  kind: string;
  description: string;
  spec: FaultSpec;
  status: FaultStatus;
  /** Why it failed, or why its heal did. */
  problem: string | null;
  /** `at`, ms from the sale's opening. */
  plannedMs: number;
  /** When it was triggered (SIGKILL sent, toxic requested, command started); later than planned when
   * an earlier fault on the same resource still held it. */
  hitMs: number | null;
  /** When it was in effect (the process gone, the toxic added, the command ended). */
  inEffectMs: number | null;
  healStartMs: number | null;
  /** When it was undone (the service answered /healthz again, the toxic removed, the heal command ended). */
  healedMs: number | null;
  /** The run ended before downFor was over, so it was healed then (the audit needs the target back). */
  healedEarly: boolean;
  /** What the fault and its heal did: pids and timings, toxics, a command's exit code and output. */
  detail: Record<string, unknown>;
  /** What the crowd saw during it (impact.ts); absent until computed after the run. */
  impact?: FaultImpact;
}
