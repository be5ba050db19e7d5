import { describe, expect, it } from 'vitest';
import { DueHeap } from '../src/load/due-heap.ts';
import { mulberry32 } from '../src/common/random.ts';

describe('due heap', () => {
  it('hands items back in due order, whatever order they came in', () => {
    const heap = new DueHeap<{ dueMs: number }>();
    const rng = mulberry32(5);
    const due = Array.from({ length: 2000 }, () => Math.floor(rng.next() * 500));
    for (const d of due) heap.push({ dueMs: d });
    expect(heap.size).toBe(2000);
    expect(heap.peekMs()).toBe(Math.min(...due));
    const out: number[] = [];
    for (let it = heap.pop(); it; it = heap.pop()) out.push(it.dueMs);
    expect(out).toEqual([...due].sort((a, b) => a - b));
    expect(heap.peekMs()).toBe(Infinity);
    heap.push({ dueMs: 3 });
    const drained: number[] = [];
    heap.drain((it) => drained.push(it.dueMs));
    expect(drained).toEqual([3]);
    expect(heap.size).toBe(0);
  });
});
