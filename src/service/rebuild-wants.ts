// Why this process wants the stock rebuilt from the ledger, and what is left to do once an attempt
// settles: the bookkeeping of StoreLinks' rebuilds (store-links.ts does the I/O). Reasons rank — a
// failed commit needs a fresh ledger connection first; a crashed thread or a lapsed peer needs a rebuild
// begun after it; a 'missing' answer may be settled by a rebuild already under way — and the strongest
// wins. Peers judged lapsed are kept until a rebuild covers them, even one run for another reason.
import type { LapsedPeer } from './peer-watch.ts';

export type Want = 'missing' | 'ledger' | 'crash' | 'peer';
const WANT_RANK: Record<Want, number> = { missing: 0, peer: 1, crash: 2, ledger: 3 };

/** One attempt's reason and the lapsed peers it covers (those judged before it began). */
export interface RebuildAttempt {
  why: Want;
  peers: LapsedPeer[];
}

export class RebuildWants {
  #wanted: Want | null = null;
  /** Peers judged lapsed that no rebuild has covered yet. */
  #lapsed: LapsedPeer[] = [];
  /** The ledger's stock epoch read after the lapsed peers were judged: a rebuild past it covers them. */
  lapsedBaseline: number | null = null;
  /** redis-leased: each SKU's stock epoch when a 'missing' want began (a rebuild past them settles it). */
  missingBaseline: number[] | null = null;

  /** The reason waiting or being worked on; null: nothing to rebuild. */
  get wanted(): Want | null {
    return this.#wanted;
  }

  /** Adds a reason; the strongest so far wins. */
  add(why: Want): void {
    if (this.#wanted === null || WANT_RANK[why] > WANT_RANK[this.#wanted]) this.#wanted = why;
  }

  /** Peers whose heartbeat lapsed: a rebuild begun after now must cover them. */
  addLapsed(peers: readonly LapsedPeer[]): void {
    this.#lapsed.push(...peers);
    this.lapsedBaseline = null;
    this.add('peer');
  }

  /** The attempt to run now (null when nothing is wanted). */
  begin(): RebuildAttempt | null {
    const why = this.#wanted;
    if (why === null) return null;
    return { why, peers: why === 'peer' ? this.#lapsed.slice() : [] };
  }

  /**
   * `attempt` settled its reason. Returns the reason still wanting a rebuild (and keeps it wanted): a
   * stronger one that came while it ran, or 'peer' for peers judged meanwhile (a cheap check when the
   * rebuild covered them).
   */
  settled(attempt: RebuildAttempt): Want | null {
    const next = this.#wanted !== attempt.why ? this.#wanted : null;
    this.#wanted = null;
    this.missingBaseline = null;
    if (attempt.why === 'peer') {
      // Peers judged during this attempt read their own baseline (after they were judged).
      this.#lapsed.splice(0, attempt.peers.length);
      this.lapsedBaseline = null;
    }
    this.#wanted = next ?? (this.#lapsed.length > 0 ? 'peer' : null);
    return this.#wanted;
  }
}
