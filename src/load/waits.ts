// How long a buyer waits: before a retry (exponential backoff with full jitter) and before its next
// step (a think time drawn uniformly). `u` is the buyer's own uniform draw in [0, 1). Pure (nothing
// from node:*): the k6 script waits the same way, so both engines pace buyers alike.
import type { DurationRange, RetryPolicy } from '../contract/load-plan.ts';

/** random(0, min(maxMs, baseMs · 2^attempt)), with `attempt` the retries made so far. */
export function backoffMs(retries: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, attempt: number, u: number): number {
  return u * Math.min(retries.maxMs, retries.baseMs * 2 ** attempt);
}

/** A think time in [minMs, maxMs]. */
export function thinkWithinMs(range: DurationRange, u: number): number {
  return range.minMs + (range.maxMs - range.minMs) * u;
}
