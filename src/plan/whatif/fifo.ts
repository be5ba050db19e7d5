// A first-in first-out queue of (time, id) pairs in two typed-array rings that grow by doubling: the
// simulation's waiting line, and its reservation expiries (one TTL per sale, so holds expire in the
// order they were made and a ring does what a heap would, in O(1)).
export class Fifo {
  #times: Float64Array;
  #ids: Int32Array;
  #head = 0;
  #size = 0;

  constructor(capacity = 1024) {
    this.#times = new Float64Array(Math.max(2, capacity));
    this.#ids = new Int32Array(Math.max(2, capacity));
  }

  get size(): number {
    return this.#size;
  }

  /** Time of the oldest entry, Infinity when empty. */
  peekTime(): number {
    return this.#size === 0 ? Infinity : this.#times[this.#head];
  }

  push(time: number, id: number): void {
    if (this.#size === this.#times.length) this.#grow();
    let at = this.#head + this.#size;
    if (at >= this.#times.length) at -= this.#times.length;
    this.#times[at] = time;
    this.#ids[at] = id;
    this.#size++;
  }

  /** Removes the oldest entry and returns its id (-1 when empty). */
  shift(): number {
    if (this.#size === 0) return -1;
    const id = this.#ids[this.#head];
    this.#head = this.#head + 1 === this.#times.length ? 0 : this.#head + 1;
    this.#size--;
    return id;
  }

  #grow(): void {
    const n = this.#times.length;
    const times = new Float64Array(n * 2);
    const ids = new Int32Array(n * 2);
    // Unroll the ring into the front of the new arrays.
    times.set(this.#times.subarray(this.#head));
    times.set(this.#times.subarray(0, this.#head), n - this.#head);
    ids.set(this.#ids.subarray(this.#head));
    ids.set(this.#ids.subarray(0, this.#head), n - this.#head);
    this.#times = times;
    this.#ids = ids;
    this.#head = 0;
  }
}
