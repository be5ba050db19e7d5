// The knee: the highest offered rate before latency starts to climb for good.
//
// Definition (docs/plan.md says the same): take the conclusive steps in order of offered rate. A step
// k "starts the climb" when its corrected p99 and that of every step above it are more than
// KNEE_FACTOR × the lowest corrected p99 measured at any rate below k (that lowest value floored at
// KNEE_FLOOR_MS, so sub-millisecond jitter is no climb). The knee is the step just below the first
// step that starts the climb. "For good" keeps one noisy step from being taken for the knee.

export const KNEE_FACTOR = 2;
export const KNEE_FLOOR_MS = 1;

export interface KneePoint {
  offeredRate: number;
  /** Corrected p99, ms. */
  p99Ms: number;
}

export interface Knee {
  /** The highest rate whose latency had not started to climb. */
  rate: number;
  p99Ms: number;
  /** The first rate from which latency stayed above KNEE_FACTOR × the baseline. */
  climbedAt: number;
  climbedP99Ms: number;
  /** The low-load reference the climb is measured against (ms). */
  baselineP99Ms: number;
}

export function findKnee(points: readonly KneePoint[]): Knee | null {
  // One point per rate (a rate measured twice keeps its last measurement), in order of rate.
  const byRate = new Map<number, KneePoint>();
  for (const p of points) if (Number.isFinite(p.p99Ms)) byRate.set(p.offeredRate, p);
  const sorted = [...byRate.values()].sort((a, b) => a.offeredRate - b.offeredRate);
  if (sorted.length < 2) return null;
  // suffixMin[k]: the lowest p99 from step k upward; the climb from k is "for good" when that is high.
  const suffixMin = new Array<number>(sorted.length);
  for (let k = sorted.length - 1, min = Infinity; k >= 0; k--) suffixMin[k] = min = Math.min(min, sorted[k].p99Ms);
  let baseline = Infinity;
  for (let k = 1; k < sorted.length; k++) {
    baseline = Math.min(baseline, sorted[k - 1].p99Ms);
    const reference = Math.max(KNEE_FLOOR_MS, baseline);
    if (suffixMin[k] > KNEE_FACTOR * reference) {
      return {
        rate: sorted[k - 1].offeredRate,
        p99Ms: sorted[k - 1].p99Ms,
        climbedAt: sorted[k].offeredRate,
        climbedP99Ms: sorted[k].p99Ms,
        baselineP99Ms: reference,
      };
    }
  }
  return null;
}
