// The group-commit queue shared by the ledger's orders and reservations' rows (src/stores/postgres/batcher.ts):
// what arrives in one turn goes in one batch, later arrivals wait for the batch in flight and go together
// in the next, maxBatch bounds a batch, results go back by index, and a batch that failed rejects its own
// members only.
import { describe, expect, it } from 'vitest';
import { Batcher } from '../src/stores/postgres/batcher.ts';

describe('Batcher', () => {
  it('batches one turn together, queues arrivals behind the batch in flight, answers by index', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new Batcher<number, string>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await gate;
      return items.map((n) => `r${n}`);
    }, 100);
    const first = [1, 2, 3].map((n) => b.add(n));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1, 2, 3]]);
    const later = [4, 5].map((n) => b.add(n)); // the first batch is still in flight
    release();
    expect(await Promise.all([...first, ...later])).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(batches).toEqual([[1, 2, 3], [4, 5]]);
    await b.drain();
  });

  it('bounds a batch by maxBatch', async () => {
    const sizes: number[] = [];
    const b = new Batcher<number, number>(async (items) => (sizes.push(items.length), items), 4);
    expect(await Promise.all(Array.from({ length: 10 }, (_, i) => b.add(i)))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('a batch that failed rejects its members only; the next batch runs', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new Batcher<string, string>(async (items) => {
      calls++;
      if (calls === 1) {
        await gate;
        throw new Error('statement failed');
      }
      return items;
    }, 100);
    const failing = [b.add('a'), b.add('b')].map((p) => p.then(() => 'ok', (e: Error) => e.message));
    await new Promise((r) => setImmediate(r));
    const next = b.add('c');
    release();
    expect(await Promise.all(failing)).toEqual(['statement failed', 'statement failed']);
    expect(await next).toBe('c');
    await b.drain();
  });

  it('refuses a maxBatch that is not a positive whole number', () => {
    expect(() => new Batcher(async (x: number[]) => x, 0)).toThrow(/maxBatch 0/);
  });
});
