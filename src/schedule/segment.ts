// k6 execution segments (`0:1/4`, `1/4:1/2`, `50%:100%`, `0.5:1`, or `1/3` for `0:1/3`): the share
// of one schedule a machine starts, so N machines each run a disjoint part of the same seeded crowd
// and together run all of it. Buyer number i (its index in the whole schedule) belongs to the segment
// that holds van der Corput's point for i (i's bits reversed behind the binary point: 0, 1/2, 1/4,
// 3/4, 1/8, …). That is a function of i alone, so segments that tile 0:1 partition the crowd buyer for
// buyer whatever the machines' worker counts, and the points are spread evenly, so each segment's
// buyers arrive evenly through the schedule, as k6's striped segments do. k6 runs its own segments
// (`--execution-segment`); this is how the native engine splits a schedule the same way.
import type { ExecutionSegment, Fraction } from '../contract/load-plan.ts';

export type { ExecutionSegment, Fraction };

/** Largest denominator a segment bound may have (keeps the membership test exact in doubles). */
const MAX_DENOMINATOR = 1_000_000;
const TWO_32 = 2 ** 32;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function fraction(n: number, d: number): Fraction {
  const g = gcd(n, d) || 1;
  return [n / g, d / g];
}

/** One bound: `1/4`, `0.25`, `25%`, `0`, `1`. */
function parseBound(text: string, whole: string): Fraction {
  const t = text.trim();
  let m = /^(\d+)\/(\d+)$/.exec(t);
  if (m) {
    const n = Number(m[1]);
    const d = Number(m[2]);
    if (d === 0 || d > MAX_DENOMINATOR) throw new RangeError(`segment "${whole}": "${t}" needs a denominator from 1 to ${MAX_DENOMINATOR}`);
    return fraction(n, d);
  }
  m = /^(\d+)(?:\.(\d{1,6}))?(%?)$/.exec(t);
  if (m) {
    const decimals = m[2] ?? '';
    const scale = 10 ** decimals.length * (m[3] ? 100 : 1);
    if (scale > MAX_DENOMINATOR) throw new RangeError(`segment "${whole}": "${t}" has too many decimals`);
    return fraction(Number(m[1] + decimals), scale);
  }
  throw new RangeError(`segment "${whole}": "${t}" is not a fraction (1/4), a decimal (0.25) or a percentage (25%)`);
}

const less = (a: Fraction, b: Fraction) => a[0] * b[1] < b[0] * a[1];

/** Parses k6's `--execution-segment` syntax; throws a RangeError saying what is wrong. */
export function parseSegment(text: string): ExecutionSegment {
  const parts = text.split(':');
  if (parts.length > 2 || text.trim() === '') throw new RangeError(`segment "${text}" must be "from:to" (e.g. 0:1/4) or one end (1/4, meaning 0:1/4)`);
  const from = parts.length === 2 ? parseBound(parts[0], text) : fraction(0, 1);
  const to = parseBound(parts[parts.length - 1], text);
  if (less(fraction(1, 1), to)) throw new RangeError(`segment "${text}": its end must be at most 1`);
  if (!less(from, to)) throw new RangeError(`segment "${text}": its start must be below its end`);
  return { from, to, text: formatSegment(from, to) };
}

function formatFraction([n, d]: Fraction): string {
  return d === 1 ? String(n) : `${n}/${d}`;
}

/** The canonical `from:to` text (`0:1/4`). */
export function formatSegment(from: Fraction, to: Fraction): string {
  return `${formatFraction(from)}:${formatFraction(to)}`;
}

/** The share of the crowd a segment runs, 0..1. */
export function segmentShare(s: ExecutionSegment): number {
  return s.to[0] / s.to[1] - s.from[0] / s.from[1];
}

/** i's 32 low bits reversed: van der Corput's point for i, times 2^32. */
export function radicalInverse32(i: number): number {
  let x = i >>> 0;
  x = ((x >>> 1) & 0x55555555) | ((x & 0x55555555) << 1);
  x = ((x >>> 2) & 0x33333333) | ((x & 0x33333333) << 2);
  x = ((x >>> 4) & 0x0f0f0f0f) | ((x & 0x0f0f0f0f) << 4);
  x = ((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8);
  x = (x >>> 16) | (x << 16);
  return x >>> 0;
}

/** Whether buyer number `index` belongs to the segment: from ≤ point(index) < to, compared exactly
 * (point × 2^32 is an integer below 2^32, denominators at most 10^6: products stay below 2^53). */
export function inSegment(s: ExecutionSegment, index: number): boolean {
  const r = radicalInverse32(index % TWO_32);
  return s.from[0] * TWO_32 <= r * s.from[1] && r * s.to[1] < s.to[0] * TWO_32;
}

/** Whether the segments tile 0:1 with no gap and no overlap (what merging them needs to be one crowd). */
export function segmentsTile(segments: readonly ExecutionSegment[]): boolean {
  const sorted = [...segments].sort((a, b) => (less(a.from, b.from) ? -1 : less(b.from, a.from) ? 1 : 0));
  let at: Fraction = [0, 1];
  for (const s of sorted) {
    if (less(at, s.from) || less(s.from, at)) return false;
    at = s.to;
  }
  return at[0] === at[1];
}
