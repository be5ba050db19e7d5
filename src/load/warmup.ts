// The warm-up (`load.warmup`): before a worker says it is ready, one GET of a harmless path (by default
// /healthz, never a purchase) on every connection, so the TCP connections are open and the send and
// answer paths have run before t0. Without it the first second of a sharp crowd pays for connecting and
// for cold code, and that shows as the generator's own lateness. Nothing here is counted or recorded;
// an answer of any status warms as well as a 200, and a failure is left for the run to meet and count.
// Bounded: one request per connection, all aborted after timeoutMs.
import type { Dispatcher } from 'undici';
import { RequestTimeoutError } from './answers.ts';
import type { TransportClient } from './transport/index.ts';

export interface WarmUpResult {
  /** Connections that got an answer (any status). */
  answered: number;
  /** Connections whose request failed or timed out (the run will connect them again). */
  failed: number;
}

export function warmUp(clients: readonly TransportClient[], path: string, timeoutMs: number): Promise<WarmUpResult> {
  const result: WarmUpResult = { answered: 0, failed: 0 };
  if (clients.length === 0) return Promise.resolve(result);
  return new Promise((resolve) => {
    let pending = clients.length;
    const aborts = new Set<(err?: Error) => void>();
    // Requests still out then are aborted; one still connecting cannot be (its client's connect timeout
    // ends it later, harmlessly): the warm-up is over for it too.
    let finished = false;
    const timer = setTimeout(() => {
      for (const abort of [...aborts]) abort(new RequestTimeoutError(timeoutMs));
      if (finished) return;
      finished = true;
      result.failed += pending;
      resolve(result);
    }, timeoutMs);
    const done = (ok: boolean, abort: ((err?: Error) => void) | null) => {
      if (abort) aborts.delete(abort);
      if (finished) return;
      if (ok) result.answered++;
      else result.failed++;
      if (--pending === 0 && !finished) {
        finished = true;
        clearTimeout(timer);
        resolve(result);
      }
    };
    for (const client of clients) {
      let abort: ((err?: Error) => void) | null = null;
      let over = false;
      const handler: Dispatcher.DispatchHandler = {
        onConnect(a) {
          abort = a;
          aborts.add(a);
        },
        onHeaders: () => true,
        onData: () => true,
        onComplete() {
          if (over) return;
          over = true;
          done(true, abort);
        },
        onError() {
          if (over) return;
          over = true;
          done(false, abort);
        },
      };
      client.dispatch({ method: 'GET', path, headers: [] }, handler);
    }
  });
}
