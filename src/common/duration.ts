// Durations, read one way everywhere (scenario files, command-line flags, the k6 script): a number of
// milliseconds, or a string with a unit as k6 writes them ("500ms", "11.9s", "2m", "1h"). A string
// without a unit is milliseconds too (a flag's "250"); scenario files must give the unit, which their
// schema checks with DURATION_PATTERN before anything here reads them.
import { DurationError } from '../errors.ts';

/** A duration string as scenario files (and k6) write it: a number and a unit. */
export const DURATION_PATTERN = /^\d+(?:\.\d+)?(?:ms|s|m|h)$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration; throws DurationError (exit 2) naming the value when it is not one. */
export function durationMs(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new DurationError(value);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']);
}

/** A duration as k6 writes it: whole milliseconds, never negative ("1500ms"). */
export function k6Duration(ms: number): string {
  return `${Math.max(0, Math.round(ms))}ms`;
}
