// The admin token check: digests compared with timingSafeEqual (constant time, lengths made equal).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sameDigest } from '../src/service/admin.ts';

const expected = createHash('sha256').update('Bearer right-token').digest();

describe('sameDigest', () => {
  it('accepts only the exact header, whatever the length of a wrong one', () => {
    expect(sameDigest('Bearer right-token', expected)).toBe(true);
    for (const wrong of [undefined, '', 'Bearer right-toke', 'Bearer right-tokenX', 'bearer right-token', 'Bearer right-token ']) {
      expect(sameDigest(wrong, expected)).toBe(false);
    }
  });
});
