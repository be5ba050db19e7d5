// A binary min-heap of (time, id) pairs in two typed arrays: no object per entry, so a simulation of
// millions of buyers allocates nothing per event. Grows by doubling. Ties come out in no set order.
export class MinHeap {
  #times: Float64Array;
  #ids: Int32Array;
  #size = 0;

  constructor(capacity = 1024) {
    this.#times = new Float64Array(Math.max(2, capacity));
    this.#ids = new Int32Array(Math.max(2, capacity));
  }

  get size(): number {
    return this.#size;
  }

  /** The smallest time, Infinity when empty. */
  peekTime(): number {
    return this.#size === 0 ? Infinity : this.#times[0];
  }

  /** The id of the smallest time (undefined behaviour when empty: check size or peekTime first). */
  peekId(): number {
    return this.#ids[0];
  }

  push(time: number, id: number): void {
    if (this.#size === this.#times.length) this.#grow();
    const times = this.#times;
    const ids = this.#ids;
    let i = this.#size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] <= time) break;
      times[i] = times[parent];
      ids[i] = ids[parent];
      i = parent;
    }
    times[i] = time;
    ids[i] = id;
  }

  /** Removes the smallest entry and returns its id (-1 when empty). */
  pop(): number {
    if (this.#size === 0) return -1;
    const times = this.#times;
    const ids = this.#ids;
    const top = ids[0];
    const n = --this.#size;
    if (n === 0) return top;
    const time = times[n];
    const id = ids[n];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && times[child + 1] < times[child]) child++;
      if (times[child] >= time) break;
      times[i] = times[child];
      ids[i] = ids[child];
      i = child;
    }
    times[i] = time;
    ids[i] = id;
    return top;
  }

  clear(): void {
    this.#size = 0;
  }

  #grow(): void {
    const times = new Float64Array(this.#times.length * 2);
    const ids = new Int32Array(this.#ids.length * 2);
    times.set(this.#times);
    ids.set(this.#ids);
    this.#times = times;
    this.#ids = ids;
  }
}
