// How the shapes' one-line descriptions write times and rates ("11.9s", "1,500/s", "5/100ms").
import { durationMs } from '../common/duration.ts';
import { count } from '../common/format.ts';
import type { Duration } from '../common/scenario-fields.ts';

/** "500ms", "11.9s". */
export function secs(value: Duration): string {
  const ms = durationMs(value);
  return ms < 1000 ? `${ms}ms` : `${Number((ms / 1000).toFixed(1))}s`;
}

/** "1,500/s", "5/100ms". */
export function per(rate: number, unit: Duration): string {
  return durationMs(unit) === 1000 ? `${count(rate)}/s` : `${count(rate)}/${secs(unit)}`;
}

export { count };
