// The checks that keep one bad row from failing its whole PostgreSQL batch (src/stores/postgres/row-checks.ts).
import { describe, expect, it } from 'vitest';
import { fingerprintProblem, nulProblem, qtyProblem } from '../src/stores/postgres/row-checks.ts';

describe('row checks before a batch', () => {
  it('qty: a whole number in 1..2^31-1', () => {
    for (const ok of [1, 7, 2 ** 31 - 1]) expect(qtyProblem(ok)).toBeNull();
    for (const bad of [0, -1, 1.5, 2 ** 31, Number.NaN, '3', null]) expect(qtyProblem(bad), String(bad)).toMatch(/qty must be a whole number/);
  });
  it('fingerprint: an Int32 or null', () => {
    for (const ok of [null, 0, -(2 ** 31), 2 ** 31 - 1]) expect(fingerprintProblem(ok)).toBeNull();
    for (const bad of [2 ** 31, -(2 ** 31) - 1, 0.5, '1', undefined]) expect(fingerprintProblem(bad), String(bad)).toMatch(/Int32 or null/);
  });
  it('text: no NUL anywhere; nulls and numbers pass', () => {
    expect(nulProblem(['a', null, 3, 'b'])).toBeNull();
    expect(nulProblem(['a', 'b\u0000c'])).toMatch(/NUL/);
  });
});
