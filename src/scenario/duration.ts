// Durations in scenario files: a number of milliseconds, or a string with a unit ("500ms", "11.9s",
// "2m", "1h") as k6 writes them. The pattern lives here so the schema, the JSON Schema and the
// converter agree on what a duration is.

export const DURATION_PATTERN = /^\d+(?:\.\d+)?(?:ms|s|m|h)$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration the schema has already accepted. */
export function durationMs(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (!m) throw new TypeError(`"${value}" is not a duration (examples: 500ms, 11.9s, 2m)`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}
