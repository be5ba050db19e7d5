import { describe, expect, it } from 'vitest';
import { createReservationTable, ReservationTable, type Hold } from '../src/service/reservations.ts';

describe('ReservationTable', () => {
  it('creates holds any thread can claim exactly once', () => {
    const shared = createReservationTable(8);
    const t0 = new ReservationTable(shared, 0, 2);
    const t1 = new ReservationTable(shared, 1, 2);
    const hold = t0.create(3, 2, 'user-é', 10_000)!;
    expect(hold).toMatchObject({ sku: 3, qty: 2, userId: 'user-é' });
    const c = t1.claim(hold.slot, hold.gen, 0);
    expect(c).toEqual({ kind: 'claimed', hold, expired: false });
    expect(t0.claim(hold.slot, hold.gen, 0)).toEqual({ kind: 'busy' });
    t1.free(hold.slot);
    expect(t0.claim(hold.slot, hold.gen, 0)).toEqual({ kind: 'gone' });
    expect(t0.claim(hold.slot, hold.gen + 1, 0)).toEqual({ kind: 'unknown' });
    expect(t0.claim(99, 1, 0)).toEqual({ kind: 'unknown' });
  });

  it('tells a reused slot\'s old id from the new hold', () => {
    const shared = createReservationTable(1);
    const t = new ReservationTable(shared, 0, 1);
    const first = t.create(0, 1, 'a', 100)!;
    t.claim(first.slot, first.gen, 0);
    t.free(first.slot);
    const second = t.create(0, 1, 'b', 100)!;
    expect(second.slot).toBe(first.slot);
    expect(t.claim(first.slot, first.gen, 0)).toEqual({ kind: 'gone' });
    expect(t.claim(second.slot, second.gen, 0)).toMatchObject({ kind: 'claimed', hold: { userId: 'b' } });
  });

  it('returns null when full, and flags an expired hold on claim', () => {
    const t = new ReservationTable(createReservationTable(2), 0, 1);
    const a = t.create(0, 1, 'a', 100)!;
    t.create(0, 1, 'b', 100);
    expect(t.create(0, 1, 'c', 100)).toBeNull();
    expect(t.claim(a.slot, a.gen, 100)).toMatchObject({ kind: 'claimed', expired: true });
  });

  it('sweeps only what expired, skips holds already paid, and keeps order as the queue grows', () => {
    const t = new ReservationTable(createReservationTable(4096), 0, 1);
    const holds: Hold[] = [];
    for (let i = 0; i < 3000; i++) holds.push(t.create(0, 1, `u${i}`, 1000 + i)!);
    const paid = t.claim(holds[5].slot, holds[5].gen, 0);
    expect(paid.kind).toBe('claimed');
    t.free(holds[5].slot);
    const expired: string[] = [];
    const n = t.sweep(1009, (h) => {
      expired.push(h.userId);
      t.free(h.slot);
    });
    expect(n).toBe(9);
    expect(expired).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u6', 'u7', 'u8', 'u9']);
    expect(t.countHeld()).toBe(2990);
    expect(t.sweep(1_000_000, (h) => t.free(h.slot))).toBe(2990);
    expect(t.countHeld()).toBe(0);
  });

  it('does not lose a hold whose sweep found it claimed for a moment (a stale id racing its reuse)', () => {
    const shared = createReservationTable(4);
    const t = new ReservationTable(shared, 0, 1);
    const hold = t.create(0, 1, 'a', 100)!;
    // What a request with an old id does in the race: CAS HELD→CLAIMED, see the generation moved, put it back.
    const meta = new Int32Array(shared.meta);
    const STATE_WORD = hold.slot * 8; // STRIDE words per slot, STATE at offset 0
    const held = Atomics.load(meta, STATE_WORD);
    Atomics.store(meta, STATE_WORD, held + 1); // CLAIMED = HELD + 1
    expect(t.sweep(200, () => undefined)).toBe(0); // claimed: not expired now...
    Atomics.store(meta, STATE_WORD, held); // ...and put back to HELD
    const expired: Hold[] = [];
    expect(t.sweep(200, (h) => { expired.push(h); t.free(h.slot); })).toBe(1); // ...so a later sweep still expires it
    expect(expired[0]).toMatchObject({ slot: hold.slot, userId: 'a' });
    expect(t.countHeld()).toBe(0);
  });
});
