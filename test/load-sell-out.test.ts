// When a run with stopOnSellOut may stop: every SKU answered sold out since its last return, nothing held.
import { describe, expect, it } from 'vitest';
import { SellOutWatch } from '../src/load/sell-out.ts';
import { createSharedState } from '../src/load/shared.ts';

function watch(skus: number): SellOutWatch {
  return new SellOutWatch(new Int32Array(createSharedState(1, skus).control), skus);
}

describe('SellOutWatch', () => {
  it('checkout: stops once every SKU has answered sold out', () => {
    const w = watch(2);
    expect(w.soldOutAnswer(0, w.returnsSoFar(0))).toBe(false);
    expect(w.soldOutAnswer(1, w.returnsSoFar(1))).toBe(true);
  });

  it('reserve → pay: waits for holds, and a declined hold makes earlier sold-out answers stale', () => {
    const w = watch(1);
    w.holdTaken(0); // buyer A asks for a reservation and gets it
    const before = w.returnsSoFar(0);
    w.holdTaken(0); // buyer B asks too
    expect(w.holdEnded(0, false)).toBe(false); // B refused at reserve... (nothing held, A still holds)
    expect(w.soldOutAnswer(0, before)).toBe(false); // sold out, but A's hold is out
    expect(w.holdEnded(0, true)).toBe(false); // A's payment declined: the unit is back, the mark is stale
    expect(w.soldOutAnswer(0, before)).toBe(false); // an answer sent before the return says nothing
    expect(w.soldOutAnswer(0, w.returnsSoFar(0))).toBe(true); // one sent after it does
  });

  it('a paid hold lets the run stop once the mark stands', () => {
    const w = watch(1);
    w.holdTaken(0);
    expect(w.soldOutAnswer(0, w.returnsSoFar(0))).toBe(false);
    expect(w.holdEnded(0, false)).toBe(true);
  });
});
