import { describe, expect, it } from 'vitest';
import { CapacityError } from '../src/errors.ts';
import { fnv1a32 } from '../src/stock/hash.ts';
import { attachUserLimits, createUserLimits } from '../src/stock/user-limits.ts';

describe('user limits', () => {
  it('counts per user up to the limit, releases, and reports absent users as 0', () => {
    const limits = attachUserLimits(createUserLimits(100));
    expect(limits.tryAcquire('alice', 1, 2)).toBe(true);
    expect(limits.tryAcquire('alice', 2, 2)).toBe(false); // 1 + 2 > 2
    expect(limits.tryAcquire('alice', 1, 2)).toBe(true);
    expect(limits.count('alice')).toBe(2);
    expect(limits.count('bob')).toBe(0);
    limits.release('alice', 1);
    expect(limits.count('alice')).toBe(1);
    expect(() => limits.release('alice', 2)).toThrow(/holds 1, cannot release 2/);
    expect(() => limits.release('bob', 1)).toThrow(/holds 0/);
    expect(limits.tryAcquire('carol', 3, 2)).toBe(false);
    expect(limits.count('carol')).toBe(0);
  });

  it('refuses ids with a lone surrogate rather than count them as U+FFFD (two ids, one count)', () => {
    const limits = attachUserLimits(createUserLimits(16));
    expect(() => limits.tryAcquire('\ud800', 1, 1)).toThrow(/not well-formed Unicode/);
    expect(() => limits.tryAcquire('\udc00', 1, 1)).toThrow(RangeError);
    expect(limits.tryAcquire('\ufffd', 1, 1)).toBe(true); // the replacement character itself is a fine id
    expect(limits.tryAcquire('zoë', 1, 1)).toBe(true);
  });

  it('compares full ids: two users with the same hash keep separate counts', () => {
    const shared = createUserLimits(16);
    const limits = attachUserLimits(shared, { hash: () => 42 }); // every id collides
    expect(limits.tryAcquire('user-1', 1, 1)).toBe(true);
    expect(limits.tryAcquire('user-2', 1, 1)).toBe(true);
    expect(limits.tryAcquire('user-1', 1, 1)).toBe(false);
    expect(limits.tryAcquire('user-10', 1, 1)).toBe(true); // a prefix is not a match either
    expect(limits.count('user-1')).toBe(1);
    expect(limits.count('user-2')).toBe(1);
    expect(limits.count('user-3')).toBe(0);
  });

  it('stores ids outside ASCII and tells them apart', () => {
    const limits = attachUserLimits(createUserLimits(8));
    expect(limits.tryAcquire('zoë', 1, 1)).toBe(true);
    expect(limits.tryAcquire('zoe', 1, 1)).toBe(true);
    expect(limits.tryAcquire('zoë', 1, 1)).toBe(false);
    expect(limits.count('用户-1')).toBe(0);
  });

  it('another attachment of the same buffers sees the same counts', () => {
    const shared = createUserLimits(8);
    attachUserLimits(shared).tryAcquire('dave', 2, 5);
    expect(attachUserLimits(structuredClone(shared)).count('dave')).toBe(2);
  });

  it('throws CapacityError when the table is full, never a silent pass', () => {
    const shared = createUserLimits(4, { loadFactor: 1 });
    expect(shared.capacity).toBe(4);
    const limits = attachUserLimits(shared);
    for (const id of ['a', 'b', 'c', 'd']) expect(limits.tryAcquire(id, 1, 1)).toBe(true);
    expect(() => limits.tryAcquire('e', 1, 1)).toThrow(CapacityError);
    expect(() => limits.tryAcquire('e', 1, 1)).toThrow(/table is full \(4 slots\)/);
    expect(limits.tryAcquire('a', 1, 2)).toBe(true); // existing users still work
    expect(limits.count('e')).toBe(0);
  });

  it('throws CapacityError when the id arena is full', () => {
    const limits = attachUserLimits(createUserLimits(2, { loadFactor: 1, idBytes: 4 })); // 8 bytes for ids
    expect(limits.tryAcquire('abcdef', 1, 1)).toBe(true);
    expect(() => limits.tryAcquire('ghijkl', 1, 1)).toThrow(CapacityError);
  });

  it('sizes the table from the expected population and rejects nonsense', () => {
    expect(createUserLimits(1000).capacity).toBe(2048); // ≥ 1000 / 0.5, a power of two
    expect(createUserLimits(1000, { loadFactor: 0.25 }).capacity).toBe(4096);
    expect(() => createUserLimits(0)).toThrow(/expectedUsers 0/);
    expect(() => createUserLimits(10, { loadFactor: 1.5 })).toThrow(/loadFactor 1.5/);
    const limits = attachUserLimits(createUserLimits(4));
    expect(() => limits.tryAcquire('x', 0, 1)).toThrow(/qty 0/);
    expect(() => limits.tryAcquire('x', 1, -1)).toThrow(/limit -1/);
  });

  it('hashes with FNV-1a over UTF-8 bytes', () => {
    expect(fnv1a32(new Uint8Array())).toBe(0x811c9dc5);
    expect(fnv1a32(new TextEncoder().encode('a'))).toBe(0xe40c292c);
  });
});
