// The simulation's two event structures: a typed-array binary heap and a typed-array ring, both
// growing past their first capacity without losing or reordering an entry.
import { describe, expect, it } from 'vitest';
import { Fifo } from '../src/plan/whatif/fifo.ts';
import { MinHeap } from '../src/plan/whatif/min-heap.ts';
import { mulberry32 } from '../src/common/random.ts';

describe('MinHeap', () => {
  it('pops in time order across growth', () => {
    const h = new MinHeap(2);
    const rng = mulberry32(3);
    const times = Array.from({ length: 5000 }, () => rng.next() * 1000);
    times.forEach((t, i) => h.push(t, i));
    expect(h.size).toBe(5000);
    const out: number[] = [];
    while (h.size > 0) {
      const t = h.peekTime();
      const id = h.pop();
      expect(times[id]).toBe(t);
      out.push(t);
    }
    expect(out).toEqual([...times].sort((a, b) => a - b));
    expect(h.pop()).toBe(-1);
    expect(h.peekTime()).toBe(Infinity);
  });
});

describe('Fifo', () => {
  it('keeps arrival order across wrap-around and growth', () => {
    const q = new Fifo(4);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 200; round++) {
      for (let k = 0; k < (round % 7) + 1; k++) q.push(next * 10, next++);
      for (let k = 0; k < (round % 5); k++) {
        if (q.size === 0) break;
        expect(q.peekTime()).toBe(expected * 10);
        expect(q.shift()).toBe(expected++);
      }
    }
    while (q.size > 0) expect(q.shift()).toBe(expected++);
    expect(expected).toBe(next);
    expect(q.shift()).toBe(-1);
  });
});
