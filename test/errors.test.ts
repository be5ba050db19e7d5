// Errors in one place: every error class a user can meet lives in src/errors.ts with its exit code;
// the few that never reach a user stay beside the code that raises and catches them, and say so.
// Durations are read by one parser. Plain `throw new Error` is not used in src/.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DurationError, EXIT, FlashsaleError, K6NotFoundError, K6OutputError, LoadPlanError, ResultFileError, ThresholdSyntaxError } from '../src/errors.ts';
import { durationMs } from '../src/common/duration.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Raised and caught inside one module, never shown as such: kept private on purpose (each says why). */
const PRIVATE = ['RequestTimeoutError', 'TooLargeError', 'SaleRefused', 'ArgvError', 'ToxiproxyError'];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('errors', () => {
  const sources = files(join(ROOT, 'src')).map((f) => ({ file: relative(ROOT, f), text: readFileSync(f, 'utf8') }));

  it('defines every error class in src/errors.ts, except the private ones', () => {
    const elsewhere = sources
      .filter((s) => s.file !== 'src/errors.ts')
      .flatMap((s) => [...s.text.matchAll(/class (\w+) extends \w*Error\b/g)].map((m) => `${s.file}: ${m[1]}`))
      .filter((line) => !PRIVATE.some((p) => line.endsWith(`: ${p}`)));
    expect(elsewhere).toEqual([]);
  });

  it('throws no plain Error in src/', () => {
    const plain = sources.flatMap((s) => (s.text.includes('throw new Error(') ? [s.file] : []));
    expect(plain).toEqual([]);
  });

  it('gives each typed error its exit code', () => {
    expect(new DurationError('soon').exitCode).toBe(EXIT.usage);
    expect(new ThresholdSyntaxError('x').exitCode).toBe(EXIT.usage);
    expect(new LoadPlanError(['a']).exitCode).toBe(EXIT.usage);
    expect(new ResultFileError('r.json', 'bad').message).toBe('r.json: bad');
    expect(new ThresholdSyntaxError('x')).toBeInstanceOf(FlashsaleError);
    expect(new K6OutputError('out.json.gz', 12, 'not JSON').message).toBe('out.json.gz:12: not JSON');
    expect(new K6OutputError('out.json', 3, 'x').exitCode).toBe(EXIT.usage);
    expect(new K6NotFoundError('no k6').exitCode).toBe(EXIT.usage);
  });

  it('reads durations one way: scenario strings, flag strings and numbers', () => {
    expect(durationMs(250)).toBe(250);
    expect(durationMs('11.9s')).toBe(11_900);
    expect(durationMs('2m')).toBe(120_000);
    expect(durationMs(' 40 ')).toBe(40);
    expect(() => durationMs('soon')).toThrow(DurationError);
    expect(() => durationMs('soon')).toThrow('"soon" is not a duration (examples: 500ms, 30s, 2m).');
  });

  it('defines "no limit" once', () => {
    const defs = sources.filter((s) => /export const NO_LIMIT\b/.test(s.text)).map((s) => s.file);
    expect(defs).toEqual(['src/contract/sale.ts']);
  });
});
