// Number formatting shared by the terminal summary, compare and the HTML page, so the same value
// reads the same everywhere (and the HTML test can parse back what it shows).

const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 90000 → "90,000". */
export function count(n: number): string {
  return GROUPED.format(n);
}

/** Milliseconds with about three significant digits: 0.412, 4.12, 41.2, 412, 4,120. */
export function ms(value: number): string {
  const abs = Math.abs(value);
  const digits = abs === 0 ? 0 : abs < 1 ? 3 : abs < 10 ? 2 : abs < 100 ? 1 : 0;
  return new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

/** A duration for people: "850 ms", "11.9 s", "2 min 5 s". */
export function duration(msValue: number): string {
  if (msValue < 1000) return `${ms(msValue)} ms`;
  if (msValue < 60_000) return `${(msValue / 1000).toFixed(msValue < 10_000 ? 2 : 1)} s`;
  const min = Math.floor(msValue / 60_000);
  return `${min} min ${Math.round((msValue % 60_000) / 1000)} s`;
}

/** Requests per second, one decimal under 100. */
export function rate(perSec: number): string {
  return perSec < 100 ? perSec.toFixed(1) : count(perSec);
}

/** 0.1234 → "12.3%". */
export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio !== 0 && Math.abs(ratio) < 0.001 ? 3 : 1)}%`;
}

/** Signed change: "+1.23 ms", "−40". */
export function signed(delta: number, render: (n: number) => string): string {
  if (delta === 0) return render(0);
  return `${delta > 0 ? '+' : '−'}${render(Math.abs(delta))}`;
}

/** A threshold's observed value with its unit, never in e-notation: latency "25,680 ms", a rate
 * "3.1%", a count "1,234". */
export function thresholdValue(metric: string, v: number): string {
  if (/duration|sellout|sold_out_time/.test(metric)) return `${ms(v)} ms`;
  if (/^(http_req_failed|http_req_rejected|checks)/.test(metric) && v >= 0 && v <= 1) return percent(v);
  return Number.isInteger(v) || Math.abs(v) >= 1000 ? count(v) : ms(v);
}
