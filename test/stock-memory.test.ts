import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.ts';
import { checkSharedMemory } from '../src/stock/memory.ts';

describe('checkSharedMemory', () => {
  it('refuses over half the machine, saying what needs how much and the way out', () => {
    expect(() => checkSharedMemory(3 * 2 ** 30, '10 users', 'lower --users', 4 * 2 ** 30)).toThrow(UsageError);
    expect(() => checkSharedMemory(3 * 2 ** 30, '10 users', 'lower --users', 4 * 2 ** 30)).toThrow(/^10 users need 3\.0 GB of shared tables, more than half of this machine's 4\.0 GB: lower --users$/);
    expect(() => checkSharedMemory(2 * 2 ** 30, '10 users', 'lower --users', 4 * 2 ** 30)).not.toThrow();
  });
});
