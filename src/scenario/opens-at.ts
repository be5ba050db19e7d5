// When the sale opens: "now", an ISO 8601 time, or an offset from now ("+2s") so a run can give the
// crowd a countdown. Resolved once, by whoever starts the run, so the service and the load agree.
import { DURATION_PATTERN, durationMs } from '../common/duration.ts';

export const OPENS_AT_PATTERN = new RegExp(
  `^(?:now|\\+${DURATION_PATTERN.source.slice(1, -1)}|\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?(?:Z|[+-]\\d{2}:\\d{2}))$`,
);

export function isOpensAt(value: string): boolean {
  if (!OPENS_AT_PATTERN.test(value)) return false;
  return value === 'now' || value.startsWith('+') || Number.isFinite(Date.parse(value));
}

/** Epoch ms the sale opens at, or null for "open already" ("now", or a time in the past). */
export function resolveOpensAt(value: string, nowMs: number): number | null {
  if (value === 'now') return null;
  const at = value.startsWith('+') ? nowMs + durationMs(value.slice(1)) : Date.parse(value);
  return at > nowMs ? at : null;
}
