// How much threads really ran at the same time: the share of the wall time between the first thread's
// start and the last one's end during which all of them were running. Near 1 when they truly raced;
// near 0 when they took turns (a busy machine, more threads than cores, or a race too short to
// overlap). Shared by `flashsale simulate` and bench:stock, which both say so when it is low.

export interface Span {
  /** Epoch ms (fractional). */
  startedAt: number;
  endedAt: number;
}

/** Below this, a multi-thread figure is not a real race. */
export const LOW_OVERLAP = 0.8;

export function overlapOf(spans: readonly Span[]): number {
  if (spans.length < 2) return 1;
  const first = Math.min(...spans.map((s) => s.startedAt));
  const last = Math.max(...spans.map((s) => s.endedAt));
  if (last <= first) return 1;
  const together = Math.min(...spans.map((s) => s.endedAt)) - Math.max(...spans.map((s) => s.startedAt));
  return Math.round((Math.max(0, together) / (last - first)) * 1000) / 1000;
}

/** Progress words are this many Int32s apart (128 bytes): a thread's word never shares a line with another's. */
export const PROGRESS_STRIDE = 32;
/** A thread marks its progress every this many buyers, and looks at the others' every LOOK_EVERY marks
 * (about a thousand buyers, a few tens of µs of its own work): a thread running beside it moves its
 * word many times within one look, so none is missed for lack of a mark. */
export const PROBE_EVERY = 64;
const LOOK_EVERY = 16;

export function createProgress(threads: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(1, threads) * PROGRESS_STRIDE * Int32Array.BYTES_PER_ELEMENT);
}

/**
 * How much threads truly ran at the same instant, from inside: each thread bumps its own progress word
 * every PROBE_EVERY buyers and, every LOOK_EVERY bumps, checks whether any other thread's moved since
 * its last look. Two
 * threads on two cores nearly always see each other move; threads taking turns on one core (a busy
 * machine) almost never do within a stretch that short, however much their start and end times overlap.
 */
export class ConcurrencyProbe {
  readonly #words: Int32Array;
  readonly #self: number;
  readonly #threads: number;
  #lastOthers = -1;
  probes = 0;
  concurrent = 0;
  #mine = 0;

  constructor(progress: SharedArrayBuffer, self: number, threads: number) {
    this.#words = new Int32Array(progress);
    this.#self = self;
    this.#threads = threads;
  }

  /** Call every PROBE_EVERY buyers while selling. */
  probe(): void {
    Atomics.store(this.#words, this.#self * PROGRESS_STRIDE, ++this.#mine);
    if (this.#mine % LOOK_EVERY !== 0) return;
    let others = 0;
    for (let t = 0; t < this.#threads; t++) if (t !== this.#self) others += Atomics.load(this.#words, t * PROGRESS_STRIDE);
    if (this.#lastOthers >= 0) {
      this.probes++;
      if (others !== this.#lastOthers) this.concurrent++;
    }
    this.#lastOthers = others;
  }
}
