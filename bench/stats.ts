// Median and range over a benchmark's repeats.
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function range(xs: readonly number[]): { min: number; max: number } {
  return { min: Math.min(...xs), max: Math.max(...xs) };
}

/** Median and range of a list of ratios (non-finite ones left out), rounded to 3 decimals; NaN when none. */
export function spread(xs: readonly number[]): { median: number; min: number; max: number } {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN };
  const r = (x: number) => Math.round(x * 1000) / 1000;
  const { min, max } = range(v);
  return { median: r(median(v)), min: r(min), max: r(max) };
}
