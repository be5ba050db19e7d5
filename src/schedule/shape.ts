// What an arrival shape is: everything about one way buyers arrive, in one file, from the scenario
// field to the k6 executor. A shape file exports one ArrivalShape and src/schedule/index.ts lists it;
// adding a shape is adding one file and one line there (docs/architecture.md has the steps).
//
// The scenario side reads what a person wrote (`In`, with `executor` naming the shape): its zod schema
// (defaults applied), the checks a schema cannot express, the plan spec it becomes, a one-line
// description, and the k6 scenario it maps to. The schedule side turns the plan spec (`S`, with `type`
// naming the shape) into a lazy, ascending stream of intended start times (ms from t0), so a
// 10-million-buyer schedule costs O(1) memory. Shape files import zod only as a type and nothing from
// node:*, so the k6 script (scenarios/k6/mapping.js) loads them as they are.
import type * as Z from 'zod';
import type { ArrivalSpec } from '../contract/load-plan.ts';
import type { Zod } from '../common/scenario-fields.ts';

export type { Zod };

export interface ArrivalStream {
  /** The next intended start in ms from t0, never smaller than the previous one; Infinity when done. */
  next(): number;
}

/** What a shape's k6 scenario needs from the rest of the scenario. */
export interface K6Context {
  /** The run's hard stop: no executor runs longer. */
  maxDurationMs: number;
  gracefulStop: string;
  preAllocatedVUs: number;
  /** VUs an arrival-rate executor needs at this peak rate (journeys started per second). */
  vusFor(peakPerSec: number): number;
}

/** A k6 scenario (executor and parameters), as the k6 script's options.scenarios takes it. */
export type K6Scenario = { executor: string; exec: string; gracefulStop: string } & Record<string, unknown>;

/** A path inside the scenario file, for messages ("buyers.arrival.stages[0].duration"). */
export type At = (...rest: Array<string | number>) => string;

export interface ArrivalShape<In extends { executor: string } = { executor: string }, S extends ArrivalSpec = ArrivalSpec> {
  /** The scenario's `executor` and the plan spec's `type`: the same word. */
  type: string;
  /** open: buyers arrive on a schedule whatever the target does. closed: a fixed set of users loop. */
  model: 'open' | 'closed';

  // The scenario side --------------------------------------------------------------------------------
  /** A small block as a person writes it: the docs show it, and a test round-trips every shape's. */
  example: { executor: string } & Record<string, unknown>;
  /** The scenario's arrival block for this shape, strict, with its defaults. */
  schema(z: Zod): Z.ZodType<In, unknown>;
  /** The block with its defaults filled in where the zod schema is not at hand (the k6 script). */
  withDefaults(input: In): In;
  /** Problems a schema cannot express, each "path: problem"; empty when fine. */
  check(input: In, at: At): string[];
  /** The plan spec the load engine runs: durations in ms, defaults explicit. */
  toSpec(input: In): S;
  /** One line for `flashsale scenarios` and summaries. */
  describe(input: In): string;
  /** The k6 scenario that comes closest (k6 has no Poisson or flash-crowd executor: see each shape). */
  toK6(input: In, k6: K6Context): K6Scenario;

  // The schedule side --------------------------------------------------------------------------------
  /** The stream for one seed: the same seed gives the same times. */
  create(spec: S, seed: number): ArrivalStream;
  /** Buyers the schedule will start (closed model: the number of users); used for pacing estimates. */
  expectedArrivals(spec: S): number;
  /** When the schedule stops starting buyers, ms from t0 (Infinity if it ends only when exhausted). */
  scheduleEndMs(spec: S): number;
  /** Problems with a plan spec built in code, each naming the field; empty when valid. */
  validate(spec: S): string[];
  /** Closed model: the users that loop (a user's n-th journey is buyer number user + n × users). */
  users?(spec: S): number;
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
