import { describe, expect, it } from 'vitest';
import { Buyers } from '../src/load/buyers.ts';
import { mulberry32 } from '../src/common/random.ts';

describe('buyers', () => {
  it('gives the first `population` buyers distinct accounts, in a seed-dependent order', () => {
    const make = (seed: number) => new Buyers({ buyers: { population: 1000, userPrefix: 'fan-' }, skus: { ids: ['a'], weights: [1] }, seed });
    const b = make(3);
    const ids = Array.from({ length: 1000 }, (_, i) => b.userId(i, 0));
    expect(new Set(ids).size).toBe(1000);
    expect(ids.every((id) => /^fan-\d{1,3}$/.test(id))).toBe(true);
    expect(b.userId(1000, 0)).toBe(ids[0]); // the walk wraps after the population
    expect(make(3).userId(17, 0)).toBe(ids[17]);
    expect(Array.from({ length: 20 }, (_, i) => make(4).userId(i, 0))).not.toEqual(ids.slice(0, 20));
  });

  it('maps buyer and account to the account the walk formula (offset + k · stride) mod population gives', () => {
    for (const population of [1, 2, 7, 1000, 99_991, 10_000_000, 2 ** 31 - 1]) {
      for (const seed of [0, 1, 42, 0xffffffff]) {
        const b = new Buyers({ buyers: { population, userPrefix: 'u' }, skus: { ids: ['a'], weights: [1] }, seed });
        // The walk's offset and stride, read back through buyers 0 and 1.
        const offset = b.accountIndex(0, 0);
        const stride = (b.accountIndex(1, 0) - offset + population) % population;
        for (let i = 0; i < 500; i++) {
          const buyer = i * 1_000_003 + (i % 2 ? 2 ** 40 : 0);
          for (const account of [0, 1, 5]) {
            const k = (buyer + account * 104_729) % population;
            expect(b.accountIndex(buyer, account)).toBe((offset + ((k * stride) % population)) % population);
          }
        }
      }
    }
  });

  it('picks SKUs by weight', () => {
    const b = new Buyers({ buyers: { population: 10, userPrefix: 'u' }, skus: { ids: ['s', 'm', 'l'], weights: [1, 2, 1] }, seed: 1 });
    const rng = mulberry32(1);
    const counts = [0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[b.skuIndex(rng.next())]++;
    expect(counts[0] / 40_000).toBeCloseTo(0.25, 1);
    expect(counts[1] / 40_000).toBeCloseTo(0.5, 1);
    expect(counts[2] / 40_000).toBeCloseTo(0.25, 1);
    expect(b.sku(1)).toBe('m');
  });
});
