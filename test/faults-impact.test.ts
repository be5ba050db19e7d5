// What the crowd saw of a fault, from a hand-made 100 ms interval series and the fault's timings: the
// buckets counted, errors (by kind and retries when the series has them, null with a note when not),
// and the recovery time as the range the bucket resolution allows.
import { describe, expect, it } from 'vitest';
import { faultImpact, SETTLE_MAX_MS, withImpact, type FaultSeries } from '../src/faults/impact.ts';
import type { FaultRecord } from '../src/faults/record.ts';

/** A series from per-bucket successes and errors (sent = completed = their sum). */
function series(successes: number[], errors: number[], extra: Partial<FaultSeries> = {}): FaultSeries {
  const completed = successes.map((s, i) => s + errors[i]);
  return { periodMs: 100, sent: completed, completed, successes, soldOuts: successes.map(() => 0), errors, stockTaken: successes, latency: successes.map(() => ''), ...extra };
}

const healed = (hitMs: number, healedMs: number) => ({ status: 'healed' as const, hitMs, inEffectMs: hitMs + 5, healedMs });

describe('fault impact from the interval series', () => {
  //                 bucket: 0   1   2  3  4  5  6   7   8
  const s = series([10, 10, 3, 0, 0, 0, 0, 8, 10], [0, 0, 4, 6, 6, 6, 5, 1, 0]);

  it('counts the buckets from the hit through the first success after the heal', () => {
    // Killed at 250 ms, back at 640 ms: the first success after it is in bucket 7 (700–800 ms).
    const impact = faultImpact(s, healed(250, 640))!;
    expect(impact).toMatchObject({ fromMs: 200, toMs: 800, successes: 11, errors: 28, sent: 39, completed: 39, soldOuts: 0 });
    expect(impact.recoveryMs).toEqual({ min: 60, max: 160 });
    expect(impact.outageMs).toEqual({ min: 450, max: 550 });
  });

  it('errors that go on without a break after the first success are the fault\'s too, up to SETTLE_MAX_MS past its end', () => {
    // Healed at 250 ms: the first success in bucket 3, errors on through bucket 5, a clean bucket 6, errors again in 7.
    const settling = series([10, 0, 0, 2, 5, 6, 10, 9], [0, 4, 4, 3, 2, 1, 0, 2]);
    const impact = faultImpact(settling, healed(120, 250))!;
    expect(impact).toMatchObject({ fromMs: 100, toMs: 600, errors: 14, successes: 13 });
    expect(impact.recoveryMs).toEqual({ min: 50, max: 150 }); // still the first success: buyers could buy again
    expect(impact.notes.join(' ')).toMatch(/errors went on for 200 ms after the first success/);
    // Errors that never stop are counted only up to the cap.
    const endless = series([10, 0, 1, ...Array(60).fill(5)], [0, 4, 4, ...Array(60).fill(1)]);
    expect(faultImpact(endless, healed(120, 250))!.toMs).toBe(250 + SETTLE_MAX_MS - 50);
  });

  it('successes in the bucket the fault ended in only bound the recovery from below', () => {
    // Healed at 720 ms, inside bucket 7 which has successes (maybe before 720): at most to the end of bucket 8.
    expect(faultImpact(s, healed(250, 720))!.recoveryMs).toEqual({ min: 0, max: 180 });
  });

  it('no success after the fault: no recovery, said in a note', () => {
    const impact = faultImpact(series([5, 0, 0], [0, 3, 2]), healed(100, 150))!;
    expect(impact.recoveryMs).toBeNull();
    expect(impact.outageMs).toBeNull();
    expect(impact.notes.join(' ')).toMatch(/no success after the fault/);
    expect(impact).toMatchObject({ fromMs: 100, toMs: 200, errors: 3 });
  });

  it('errors by kind and retries when the series carries them, null and a note when not', () => {
    const plain = faultImpact(s, healed(250, 640))!;
    expect(plain.errorsByKind).toBeNull();
    expect(plain.retries).toBeNull();
    expect(plain.notes.some((n) => n.startsWith('errors by kind'))).toBe(true);
    expect(plain.notes.some((n) => n.startsWith('retries'))).toBe(true);
    const rich = faultImpact(
      { ...s, errorsByKind: { ECONNREFUSED: [0, 0, 0, 6, 6, 6, 5, 0, 0], ECONNRESET: [0, 0, 4, 0, 0, 0, 0, 0, 0], http_503: [0, 0, 0, 0, 0, 0, 0, 1, 0], timeout: [0, 0, 0, 0, 0, 0, 0, 0, 7] }, retries: [0, 0, 1, 6, 6, 6, 5, 2, 9] },
      healed(250, 640),
    )!;
    expect(rich.errorsByKind).toEqual({ ECONNREFUSED: 23, ECONNRESET: 4, http_503: 1 }); // timeout came after the window
    expect(rich.retries).toBe(26);
    expect(rich.notes).toEqual([]);
  });

  it('a fault with nothing to heal ends when it took effect; a failed heal says the fault may have lasted longer', () => {
    expect(faultImpact(s, { status: 'applied', hitMs: 250, inEffectMs: 640, healedMs: null })!.recoveryMs).toEqual({ min: 60, max: 160 });
    const failedHeal = faultImpact(s, { status: 'heal_failed', hitMs: 250, inEffectMs: 260, healedMs: null })!;
    expect(failedHeal.notes[0]).toMatch(/heal failed/);
  });

  it('nothing for a fault that never took effect; a series that ends before the fault says so', () => {
    expect(faultImpact(s, { status: 'failed', hitMs: 250, inEffectMs: null, healedMs: null })).toBeNull();
    expect(faultImpact(s, { status: 'not_reached', hitMs: null, inEffectMs: null, healedMs: null })).toBeNull();
    const late = faultImpact(s, healed(5_000, 6_000))!;
    expect(late.notes.join(' ')).toMatch(/ends before the fault hit/);
    expect(late).toMatchObject({ sent: 0, errors: 0, recoveryMs: null });
  });

  it('withImpact adds it to the records that took effect', () => {
    const base = { kind: 'kill-service', description: '', spec: { at: 0, kill: 'service', downFor: 0 }, problem: null, plannedMs: 250, healStartMs: null, healedEarly: false, detail: {} } as const;
    const records: FaultRecord[] = [
      { ...base, index: 0, ...healed(250, 640) },
      { ...base, index: 1, status: 'not_reached', hitMs: null, inEffectMs: null, healedMs: null },
    ];
    const [a, b] = withImpact(records, s);
    expect(a.impact?.recoveryMs).toEqual({ min: 60, max: 160 });
    expect(b.impact).toBeUndefined();
  });
});
