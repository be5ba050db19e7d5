// What every arrival shape provides. A shape turns its spec into a lazy, ascending stream of intended
// start times (ms from t0), so a 10-million-buyer schedule costs O(1) memory. Adding a shape is adding
// one file that exports an ArrivalShape and one line in ./index.ts.
import type { ArrivalSpec } from '../contract/load-plan.ts';

export interface ArrivalStream {
  /** The next intended start in ms from t0, never smaller than the previous one; Infinity when done. */
  next(): number;
}

export interface ArrivalShape<S extends ArrivalSpec = ArrivalSpec> {
  type: S['type'];
  /** open: buyers arrive on a schedule whatever the target does. closed: a fixed set of users loop. */
  model: 'open' | 'closed';
  /** The stream for one seed: the same seed gives the same times. */
  create(spec: S, seed: number): ArrivalStream;
  /** Buyers the schedule will start (closed model: the number of users); used for pacing estimates. */
  expectedArrivals(spec: S): number;
  /** When the schedule stops starting buyers, ms from t0 (Infinity if it ends only when exhausted). */
  scheduleEndMs(spec: S): number;
  /** Problems with the spec, each naming the field; empty when valid. */
  validate(spec: S): string[];
}

/** A stream from a function that returns times until it returns Infinity, and Infinity ever after. */
export function streamOf(nextTime: () => number): ArrivalStream {
  let done = false;
  return {
    next() {
      if (done) return Infinity;
      const t = nextTime();
      if (t === Infinity || Number.isNaN(t)) {
        done = true;
        return Infinity;
      }
      return t;
    },
  };
}

export function positive(name: string, v: number): string[] {
  return Number.isFinite(v) && v > 0 ? [] : [`arrival.${name} must be a number above 0 (got ${v})`];
}

export function nonNegative(name: string, v: number): string[] {
  return Number.isFinite(v) && v >= 0 ? [] : [`arrival.${name} must be a number of 0 or more (got ${v})`];
}
