// What a buyer does after an answer: the next step, a retry after backoff, another account (bots),
// or the end of the journey. Pure decisions on the journey's own state and random stream, so they can
// be tested without a server; the engine only carries them out.
import { PAY, REJECTED, RESERVE, SOLD_OUT, SUCCESS } from '../contract/vocabulary.ts';
import type { Buyers } from './buyers.ts';
import type { Journey } from './journey.ts';
import type { JourneySpec } from '../contract/load-plan.ts';
import { backoffMs, thinkWithinMs } from './waits.ts';

/** How a journey ended (a key of Counts['buyers']), or 'later': it goes on at j.dueMs. */
export type Next = 'succeeded' | 'soldOut' | 'rejected' | 'gaveUp' | 'later';

/** Think time before the next step (or, closed model, the next journey): none for bots. */
export function thinkMs(j: Journey, spec: JourneySpec): number {
  return j.bot ? 0 : thinkWithinMs(spec.thinkTime, j.random());
}

/** The journey key of a buyer's n-th account; the per-step Idempotency-Key derives from it. */
export function journeyKey(keyPrefix: string, buyer: number, account: number): string {
  return account === 0 ? keyPrefix + buyer : keyPrefix + buyer + 'a' + account;
}

/** Updates `j` for what comes after an answer with `outcome` at `nowMs`, and says what that is. */
export function afterAnswer(j: Journey, outcome: number, nowMs: number, spec: JourneySpec, buyers: Buyers, keyPrefix: string): Next {
  if (outcome === SUCCESS) {
    if (j.step !== RESERVE) return 'succeeded';
    j.step = PAY;
    j.attempt = 0;
    j.retrying = false;
    j.refreshKey();
    j.dueMs = nowMs + thinkMs(j, spec);
    return 'later';
  }
  if (outcome === SOLD_OUT) return 'soldOut';
  if (outcome === REJECTED) {
    // A bot refused (typically the per-user limit) comes straight back as another of its accounts,
    // with a new key: to the service it is a different buyer.
    if (j.bot && j.step !== PAY && j.account + 1 < spec.bots.accounts) {
      j.account++;
      j.userId = buyers.userId(j.buyer, j.account);
      j.journeyKey = journeyKey(keyPrefix, j.buyer, j.account);
      j.attempt = 0;
      j.retrying = true;
      j.refreshKey();
      j.dueMs = nowMs;
      return 'later';
    }
    return 'rejected';
  }
  // An error (5xx, connection, timeout): retry with exponential backoff and full jitter, same key.
  const maxRetries = j.bot ? spec.bots.retries : spec.retries.max;
  if (j.attempt >= maxRetries) return 'gaveUp';
  const attempt = j.attempt;
  j.attempt++;
  j.retrying = true;
  j.dueMs = nowMs + backoffMs(spec.retries, attempt, j.random());
  return 'later';
}
