// The bookkeeping of StoreLinks' rebuilds (src/service/rebuild-wants.ts): which reason wins, what an
// attempt covers, and what is still wanted once it settles.
import { describe, expect, it } from 'vitest';
import { RebuildWants } from '../src/service/rebuild-wants.ts';
import type { LapsedPeer } from '../src/service/peer-watch.ts';

const peer = (name: string): LapsedPeer => ({ peer: name, overdueMs: 100 });

describe('RebuildWants', () => {
  it('wants nothing at first', () => {
    const w = new RebuildWants();
    expect(w.wanted).toBeNull();
    expect(w.begin()).toBeNull();
  });

  it('keeps the strongest reason: ledger > crash > peer > missing', () => {
    const w = new RebuildWants();
    w.add('missing');
    w.add('crash');
    w.add('peer');
    expect(w.wanted).toBe('crash');
    w.add('ledger');
    w.add('missing');
    expect(w.wanted).toBe('ledger');
  });

  it('settles an attempt: nothing left when no reason came meanwhile, and the baselines are cleared', () => {
    const w = new RebuildWants();
    w.add('missing');
    w.missingBaseline = [3];
    const a = w.begin()!;
    expect(a).toEqual({ why: 'missing', peers: [] });
    expect(w.settled(a)).toBeNull();
    expect(w.wanted).toBeNull();
    expect(w.missingBaseline).toBeNull();
  });

  it('a stronger reason that came while an attempt ran is still wanted after it', () => {
    const w = new RebuildWants();
    w.add('missing');
    const a = w.begin()!;
    w.add('ledger');
    expect(w.settled(a)).toBe('ledger');
  });

  it('an attempt for lapsed peers covers those judged before it began; peers judged while it ran are left for a check of their own', () => {
    const w = new RebuildWants();
    w.addLapsed([peer('a'), peer('b')]);
    w.lapsedBaseline = 7;
    const a = w.begin()!;
    expect(a.why).toBe('peer');
    expect(a.peers.map((p) => p.peer)).toEqual(['a', 'b']);
    w.addLapsed([peer('c')]);
    expect(w.lapsedBaseline, 'peers judged later read their own baseline').toBeNull();
    w.lapsedBaseline = 9;
    expect(w.settled(a)).toBe('peer');
    expect(w.lapsedBaseline).toBeNull();
    const b = w.begin()!;
    expect(b.peers.map((p) => p.peer)).toEqual(['c']);
    expect(w.settled(b)).toBeNull();
  });

  it('peers judged while a rebuild for another reason ran are checked after it', () => {
    const w = new RebuildWants();
    w.add('crash');
    const a = w.begin()!;
    expect(a.peers).toEqual([]);
    w.addLapsed([peer('d')]); // 'peer' ranks below 'crash': the running attempt stays the crash's
    expect(w.wanted).toBe('crash');
    expect(w.settled(a)).toBe('peer');
    expect(w.begin()!.peers.map((p) => p.peer)).toEqual(['d']);
  });
});
