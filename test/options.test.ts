import { describe, expect, it } from 'vitest';
import { duration, fraction, httpUrl, integer, oneOf, perUserLimit } from '../src/cli/options.ts';
import { durationMs as parseDurationMs } from '../src/common/duration.ts';
import { cliInProcess } from './helpers/cli.ts';

describe('option parsers', () => {
  it('parses durations with units and rejects junk', () => {
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('40')).toBe(40);
    expect(() => parseDurationMs('soon')).toThrow(/not a duration/);
    expect(() => duration('-1s')).toThrow(/not a duration/);
  });
  it('bounds integers and names the problem', () => {
    expect(integer(1)('4')).toBe(4);
    expect(() => integer(1)('0')).toThrow(/below the minimum of 1/);
    expect(() => integer(0)('1.5')).toThrow(/not a whole number/);
    expect(() => integer(0, 10)('11')).toThrow(/above the maximum of 10/);
  });
  it('checks fractions and choices', () => {
    expect(fraction('0.25')).toBe(0.25);
    expect(() => fraction('1.5')).toThrow(/between 0 and 1/);
    expect(oneOf(['a', 'b'] as const)('b')).toBe('b');
    expect(() => oneOf(['a', 'b'] as const)('c')).toThrow(/not one of: a, b/);
  });
  it('accepts only absolute http(s) URLs as targets', () => {
    expect(httpUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(() => httpUrl('127.0.0.1:8080')).toThrow(/not an http\(s\) URL|not a URL/);
    expect(() => httpUrl('ftp://example.test/')).toThrow(/not an http\(s\) URL/);
    expect(() => httpUrl('nonsense')).toThrow(/not a URL/);
  });
  it('spells "no per-user limit" one way, "none", as scenario files do; 0 is refused, not read as none', () => {
    expect(perUserLimit('none')).toBe('none');
    expect(perUserLimit('2')).toBe(2);
    expect(() => perUserLimit('0')).toThrow(/0 would let nobody buy; write "none"/);
    expect(() => perUserLimit('unlimited')).toThrow(/not a whole number/);
  });
  it('serve and simulate take --per-user-limit none, and refuse 0 with exit 2 before starting anything', async () => {
    for (const command of ['serve', 'simulate']) {
      const r = await cliInProcess(command, ...(command === 'simulate' ? ['--strategy', 'atomic'] : []), '--per-user-limit', '0');
      expect(r.code, command).toBe(2);
      expect(r.err, command).toMatch(/--per-user-limit.*0 would let nobody buy; write "none"/);
    }
  });
});
