// The registry of arrival shapes, and how a worker takes its share of a schedule.
import type { ArrivalSpec, ArrivalType } from '../contract/load-plan.ts';
import { deriveSeed } from '../shared/random.ts';
import type { ArrivalShape, ArrivalStream } from './base.ts';
import { constantArrivalRate } from './constant-arrival-rate.ts';
import { constantVus } from './constant-vus.ts';
import { flashCrowd } from './flash-crowd.ts';
import { poisson } from './poisson.ts';
import { rampingArrivalRate } from './ramping-arrival-rate.ts';

export type { ArrivalShape, ArrivalStream } from './base.ts';

const SHAPES: { [K in ArrivalType]: ArrivalShape<Extract<ArrivalSpec, { type: K }>> } = {
  'constant-arrival-rate': constantArrivalRate,
  'ramping-arrival-rate': rampingArrivalRate,
  poisson,
  'flash-crowd': flashCrowd,
  'constant-vus': constantVus,
};

export const ARRIVAL_TYPES = Object.keys(SHAPES) as ArrivalType[];

export function arrivalShape(spec: ArrivalSpec): ArrivalShape {
  const shape = SHAPES[spec?.type] as unknown as ArrivalShape | undefined;
  if (!shape) throw new TypeError(`arrival.type "${spec?.type}" is not one of: ${ARRIVAL_TYPES.join(', ')}`);
  return shape;
}

/** The whole run's schedule for a seed (every worker derives the same one). */
export function createArrivals(spec: ArrivalSpec, seed: number): ArrivalStream {
  return arrivalShape(spec).create(spec as never, deriveSeed(seed, 0x5c4ed));
}

/**
 * One worker's share: every `workers`-th arrival starting at `worker`, with its index in the whole
 * schedule (the buyer number, from which the buyer's user id and random choices derive, so a run
 * gives the same buyers whatever the worker count). Skipping costs a few ns per foreign arrival.
 */
export class ArrivalShare {
  /** Index in the whole schedule of the arrival `next()` returned last. */
  index = -1;
  readonly #stream: ArrivalStream;
  readonly #worker: number;
  readonly #workers: number;
  #global = -1;

  constructor(spec: ArrivalSpec, seed: number, worker: number, workers: number) {
    this.#stream = createArrivals(spec, seed);
    this.#worker = worker;
    this.#workers = workers;
  }

  next(): number {
    for (;;) {
      const t = this.#stream.next();
      if (t === Infinity) return Infinity;
      this.#global++;
      if (this.#global % this.#workers === this.#worker) {
        this.index = this.#global;
        return t;
      }
    }
  }
}
