// A latency histogram with a cheap hot path. hdr-histogram-js's JS recordValue costs ~60 ns (Math.log2,
// Math.pow, several virtual calls); the engine records five values per request. Here a value is
// counted in a plain array with HdrHistogram's own bucket index, computed with Math.clz32, and the
// counts are added to the real HdrHistogram when it is read. Same buckets, same exact min and max,
// same encoding as recording into the HdrHistogram directly: staging changes the cost, not the result.
import { createLatencyHistogram, SIGNIFICANT_DIGITS, type Histogram } from '../common/histogram.ts';

// HdrHistogram's layout for lowestDiscernibleValue 1 (unit magnitude 0) and SIGNIFICANT_DIGITS:
// sub-buckets of 2^SUB_MAG values, each bucket twice the range of the one before.
const SUB_COUNT_MAG = Math.ceil(Math.log2(2 * 10 ** SIGNIFICANT_DIGITS));
const HALF_MAG = SUB_COUNT_MAG - 1;
const HALF_COUNT = 1 << HALF_MAG;
const SUB_MASK = (1 << SUB_COUNT_MAG) - 1;
/** bucket index = CLZ_BASE - clz32(v | SUB_MASK), for v < 2^31. */
const CLZ_BASE = 32 - SUB_COUNT_MAG;
/** Values from here up go straight to the HdrHistogram (35 min in µs: rare, and clz32 stops here). */
const STAGED_LIMIT = 2 ** 31;
const INITIAL_SLOTS = 4 * HALF_COUNT;

/** The smallest value counted at index i (what HdrHistogram's valueFromIndex gives). */
function valueAtIndex(i: number): number {
  let bucket = (i >> HALF_MAG) - 1;
  let sub = (i & (HALF_COUNT - 1)) + HALF_COUNT;
  if (bucket < 0) {
    sub -= HALF_COUNT;
    bucket = 0;
  }
  return sub * 2 ** bucket;
}

export class StagedHistogram {
  readonly #h: Histogram;
  #counts = new Float64Array(INITIAL_SLOTS);
  /** Highest index counted since the last flush (-1: nothing staged). */
  #top = -1;
  #min = Infinity;
  #max = -1;

  constructor(h: Histogram = createLatencyHistogram()) {
    this.#h = h;
  }

  /** Records an integer value ≥ 0 (µs). */
  record(v: number): void {
    // Beyond clz32's range, or not a valid value (the HdrHistogram throws for negatives, as before).
    if (v >= STAGED_LIMIT || !(v >= 0)) {
      this.#h.recordValue(v);
      return;
    }
    const bucket = CLZ_BASE - Math.clz32(v | SUB_MASK);
    const i = ((bucket + 1) << HALF_MAG) + (v >>> bucket) - HALF_COUNT;
    if (i >= this.#counts.length) this.#grow(i);
    this.#counts[i]++;
    if (i > this.#top) this.#top = i;
    if (v > this.#max) this.#max = v;
    if (v !== 0 && v < this.#min) this.#min = v;
  }

  /** The HdrHistogram with everything recorded so far (flushes the staged counts into it). */
  get histogram(): Histogram {
    this.#flush();
    return this.#h;
  }

  /** Empties it (staged counts are dropped, not added first). */
  reset(): void {
    this.#counts.fill(0, 0, this.#top + 1);
    this.#top = -1;
    this.#min = Infinity;
    this.#max = -1;
    this.#h.reset();
  }

  #flush(): void {
    const top = this.#top;
    if (top < 0) return;
    const c = this.#counts;
    const h = this.#h;
    // The exact min and max go in as themselves (in their own buckets) so the HdrHistogram's
    // minNonZeroValue and maxValue are what direct recording would have given.
    const minIndex = this.#min === Infinity ? -1 : this.#indexOf(this.#min);
    const maxIndex = this.#indexOf(this.#max);
    for (let i = 0; i <= top; i++) {
      let n = c[i];
      if (n === 0) continue;
      c[i] = 0;
      if (i === maxIndex) {
        h.recordValueWithCount(this.#max, 1);
        n--;
      }
      // The min's bucket is recorded at the min (a lower value of the same bucket would lower it).
      if (n > 0) h.recordValueWithCount(i === minIndex ? this.#min : valueAtIndex(i), n);
    }
    this.#top = -1;
    this.#min = Infinity;
    this.#max = -1;
  }

  #indexOf(v: number): number {
    const bucket = CLZ_BASE - Math.clz32(v | SUB_MASK);
    return ((bucket + 1) << HALF_MAG) + (v >>> bucket) - HALF_COUNT;
  }

  #grow(index: number): void {
    let n = this.#counts.length;
    while (n <= index) n *= 2;
    const bigger = new Float64Array(n);
    bigger.set(this.#counts);
    this.#counts = bigger;
  }
}
