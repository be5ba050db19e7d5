// A binary min-heap of things due at a time (journeys waiting out think time or backoff). Bounded by
// the number of journeys in progress, not by the number of requests.
export interface Due {
  dueMs: number;
}

export class DueHeap<T extends Due> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** Time of the earliest item, Infinity when empty. */
  peekMs(): number {
    return this.#items.length ? this.#items[0].dueMs : Infinity;
  }

  push(item: T): void {
    const a = this.#items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].dueMs <= item.dueMs) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && a[r].dueMs < a[l].dueMs ? r : l;
        if (a[c].dueMs >= last.dueMs) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }

  /** Removes everything, handing each item to `each`. */
  drain(each: (item: T) => void): void {
    for (let it = this.pop(); it !== undefined; it = this.pop()) each(it);
  }
}
