// When each of this worker's buyers is due: the next arrival of its share of the schedule (new buyers,
// src/schedule/), and the journeys waiting out a think time or a backoff (a min-heap by due time).
// Also whether new buyers are still being started, and until when in-flight journeys may finish.
import type { ArrivalSpec, ExecutionSegment } from '../contract/load-plan.ts';
import { ArrivalShare, arrivalShape } from '../schedule/index.ts';
import { DueHeap, type Due } from './due-heap.ts';

export class Timeline<J extends Due> {
  /** Closed model: a fixed set of users loop (their next journey is started by the last one's end). */
  readonly closed: boolean;
  /** When the schedule stops starting buyers, ms from t0 (Infinity: when it runs out). */
  readonly scheduleEndMs: number;
  /** Closed model: the users that loop (a user's n-th journey is buyer number user + n × users). */
  readonly users: number;
  /** The next new buyer's due time (Infinity when the schedule has no more). */
  nextArrivalMs = Infinity;
  /** Still starting new buyers (arrivals, or the next iteration of a closed-model user). */
  accepting = true;
  /** In-flight journeys may finish until then; after it the run ends. */
  drainUntilMs = Infinity;
  readonly #arrivals: ArrivalShare;
  readonly #later = new DueHeap<J>();

  constructor(arrival: ArrivalSpec, seed: number, worker: number, workers: number, segment?: ExecutionSegment) {
    const shape = arrivalShape(arrival);
    this.closed = shape.model === 'closed';
    this.scheduleEndMs = shape.scheduleEndMs(arrival);
    this.users = shape.users?.(arrival) ?? 1;
    this.#arrivals = new ArrivalShare(arrival, seed, worker, workers, segment);
  }

  /** Draws the first arrival (at t0, not before: the schedule's clock starts then). */
  start(): void {
    this.nextArrivalMs = this.#arrivals.next();
  }

  /** The buyer number (index in the whole schedule) of the arrival due at nextArrivalMs. */
  arrivalIndex(): number {
    return this.#arrivals.index;
  }

  /** Moves on to the next arrival. */
  advance(): void {
    this.nextArrivalMs = this.#arrivals.next();
  }

  /** The earliest journey waiting, Infinity when none. */
  laterMs(): number {
    return this.#later.peekMs();
  }

  /** Takes the earliest waiting journey (call only when laterMs() is finite). */
  takeLater(): J {
    // laterMs() was finite, so the heap is not empty.
    return this.#later.pop() as J;
  }

  /** A journey to come back to at its dueMs. */
  later(j: J): void {
    this.#later.push(j);
  }

  /** Every waiting journey, earliest first, removed. */
  drainLater(each: (j: J) => void): void {
    this.#later.drain(each);
  }

  /** The schedule has ended at `now`: no new buyer; in-flight journeys get gracefulStopMs after its end. */
  scheduleDone(now: number, gracefulStopMs: number): void {
    if (!this.accepting) return;
    this.accepting = false;
    const end = Number.isFinite(this.scheduleEndMs) ? Math.max(now, this.scheduleEndMs) : now;
    this.drainUntilMs = Math.min(this.drainUntilMs, end + gracefulStopMs);
  }

  /** A stop at `now`: no new buyer; in-flight journeys get gracefulStopMs. */
  stopAt(now: number, gracefulStopMs: number): void {
    this.accepting = false;
    this.drainUntilMs = Math.min(this.drainUntilMs, now + gracefulStopMs);
  }

  /** Arrivals due by `untilMs` that were never started (k6's dropped iterations); moves past them. */
  skipDueBy(untilMs: number): number {
    let n = 0;
    while (this.nextArrivalMs <= untilMs) {
      n++;
      this.nextArrivalMs = this.#arrivals.next();
    }
    return n;
  }
}
