// The registry of arrival shapes, and how a worker takes its share of a schedule. Adding a shape is
// adding its file (see shape.ts) and one line in SHAPES below: the scenario schema, validation,
// conversion to a plan, descriptions, the schedule and the k6 mapping all come from the list.
import type * as Z from 'zod';
import type { ArrivalSpec } from '../contract/load-plan.ts';
import { deriveSeed } from '../common/random.ts';
import { constantArrivalRate } from './constant-arrival-rate.ts';
import { constantVus } from './constant-vus.ts';
import { flashCrowd } from './flash-crowd.ts';
import { poisson } from './poisson.ts';
import { rampingArrivalRate } from './ramping-arrival-rate.ts';
import type { ArrivalShape, ArrivalStream, Zod } from './shape.ts';
import { inSegment, type ExecutionSegment } from './segment.ts';

export type { ArrivalShape, ArrivalStream, K6Context, K6Scenario } from './shape.ts';
export { formatSegment, inSegment, parseSegment, segmentShare, segmentsTile, type ExecutionSegment } from './segment.ts';
export { flashCrowdArrivedBy, flashCrowdStages, isFlashCrowd, type FlashCrowdSpec } from './flash-crowd.ts';

/** Every arrival shape, in the order the docs list them. */
export const SHAPES = [constantArrivalRate, rampingArrivalRate, poisson, flashCrowd, constantVus] as const;

type Shapes = typeof SHAPES;
type InputOf<S> = S extends ArrivalShape<infer In, infer _Spec> ? In : never;
type SpecOf<S> = S extends ArrivalShape<infer _In, infer Spec> ? Spec : never;
/** The scenario's buyers.arrival, as validated (defaults applied): one shape's block. */
export type ArrivalInput = InputOf<Shapes[number]>;
/** A plan's arrival, one shape's spec (the contract's ArrivalSpec, narrowed to the shapes there are). */
export type KnownArrivalSpec = SpecOf<Shapes[number]>;

export const ARRIVAL_TYPES: readonly string[] = SHAPES.map((s) => s.type);

// One lookup for both sides: a scenario names its shape in `executor`, a plan in `type`.
const BY_TYPE = new Map<string, ArrivalShape>(SHAPES.map((s) => [s.type, s as unknown as ArrivalShape]));

/** The shape a plan's arrival names; throws naming the known ones. */
export function arrivalShape(spec: ArrivalSpec): ArrivalShape {
  const shape = BY_TYPE.get(spec?.type);
  if (!shape) throw new TypeError(`arrival.type "${spec?.type}" is not one of: ${ARRIVAL_TYPES.join(', ')}`);
  return shape;
}

/** The shape a scenario's arrival names (the schema has checked that it is one). */
export function shapeOf(input: { executor: string }): ArrivalShape<{ executor: string }> {
  return arrivalShape({ type: input.executor });
}

/** The scenario's buyers.arrival schema: one strict block per shape, told apart by `executor`. */
export function arrivalSchema(z: Zod): Z.ZodType<ArrivalInput, unknown> {
  const [first, ...rest] = SHAPES.map((s) => s.schema(z));
  // Each shape's schema is a strict object with a literal `executor`: a discriminated union of them
  // is exactly ArrivalInput, which zod's types cannot follow through the registry's map.
  return z.discriminatedUnion('executor', [first, ...rest] as unknown as [Z.ZodObject, ...Z.ZodObject[]]) as unknown as Z.ZodType<ArrivalInput, unknown>;
}

/** The plan spec for a scenario's arrival. */
export function toArrivalSpec(input: ArrivalInput): KnownArrivalSpec {
  return shapeOf(input).toSpec(input) as KnownArrivalSpec; // the shape named by the input's executor makes that shape's spec
}

/** The whole run's schedule for a seed (every worker derives the same one). */
export function createArrivals(spec: ArrivalSpec, seed: number): ArrivalStream {
  return arrivalShape(spec).create(spec, deriveSeed(seed, 0x5c4ed));
}

/**
 * One worker's share: every `workers`-th arrival starting at `worker`, with its index in the whole
 * schedule (the buyer number, from which the buyer's user id and random choices derive, so a run
 * gives the same buyers whatever the worker count). Skipping costs a few ns per foreign arrival.
 * With a segment (`run --segment`), only that segment's buyers are shared out among the workers.
 */
export class ArrivalShare {
  /** Index in the whole schedule of the arrival `next()` returned last. */
  index = -1;
  readonly #stream: ArrivalStream;
  readonly #worker: number;
  readonly #workers: number;
  readonly #segment: ExecutionSegment | null;
  #global = -1;
  /** Arrivals of this machine's segment seen so far (all of them without a segment). */
  #local = -1;

  constructor(spec: ArrivalSpec, seed: number, worker: number, workers: number, segment?: ExecutionSegment) {
    this.#stream = createArrivals(spec, seed);
    this.#worker = worker;
    this.#workers = workers;
    this.#segment = segment ?? null;
  }

  next(): number {
    for (;;) {
      const t = this.#stream.next();
      if (t === Infinity) return Infinity;
      this.#global++;
      if (this.#segment !== null && !inSegment(this.#segment, this.#global)) continue;
      this.#local++;
      if (this.#local % this.#workers === this.#worker) {
        this.index = this.#global;
        return t;
      }
    }
  }
}
