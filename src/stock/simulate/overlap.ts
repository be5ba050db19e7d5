// How much threads really ran at the same time: the share of the wall time between the first thread's
// start and the last one's end during which all of them were running. Near 1 when they truly raced;
// near 0 when they took turns (a busy machine, more threads than cores, or a race too short to
// overlap). Shared by `flashsale simulate` and bench:stock, which both say so when it is low.

export interface Span {
  /** Epoch ms (fractional). */
  startedAt: number;
  endedAt: number;
}

/** Below this, a multi-thread figure is not a real race. */
export const LOW_OVERLAP = 0.8;

export function overlapOf(spans: readonly Span[]): number {
  if (spans.length < 2) return 1;
  const first = Math.min(...spans.map((s) => s.startedAt));
  const last = Math.max(...spans.map((s) => s.endedAt));
  if (last <= first) return 1;
  const together = Math.min(...spans.map((s) => s.endedAt)) - Math.max(...spans.map((s) => s.startedAt));
  return Math.round((Math.max(0, together) / (last - first)) * 1000) / 1000;
}
