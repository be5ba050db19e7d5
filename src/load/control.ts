// One load worker's side of the control words it shares with the main thread and the other workers
// (src/load/shared.ts lays them out): say it is ready, wait for t0, take a request ticket (so
// caps.maxRequests is exact across workers), see and raise a stop.
import { GO, READY, requestStop, STOP, STOP_NONE, TICKETS, type SharedState, type StopCode } from './shared.ts';
import { StartTimeoutError } from '../errors.ts';

const START_WAIT_MS = 60_000;

export class RunControl {
  /** The Int32 control words (sell-out.ts keeps its per-SKU words here too). */
  readonly words: Int32Array;
  readonly #t0: Float64Array;

  constructor(shared: SharedState) {
    this.words = new Int32Array(shared.control);
    this.#t0 = new Float64Array(shared.t0);
  }

  /** Says this worker is ready, waits for the main thread's go, and returns t0 (epoch ms). */
  async ready(): Promise<number> {
    Atomics.add(this.words, READY, 1);
    Atomics.notify(this.words, READY);
    const deadline = Date.now() + START_WAIT_MS;
    while (Atomics.load(this.words, GO) === 0) {
      if (Date.now() > deadline) throw new StartTimeoutError('load worker waited 60 s for the start signal');
      await Atomics.waitAsync(this.words, GO, 0, 100).value;
    }
    return this.#t0[0];
  }

  /** The stop code now: STOP_NONE or a STOP_* code. */
  stopCode(): number {
    return Atomics.load(this.words, STOP);
  }

  /** Sets the stop code unless one is set already (the first reason wins), and wakes every worker. */
  stop(code: StopCode): void {
    requestStop(this.words, code);
  }

  /** One request may go out: false once caps.maxRequests tickets have been handed out, all workers together. */
  takeTicket(maxRequests: number): boolean {
    return Atomics.add(this.words, TICKETS, 1) < maxRequests;
  }

  /** Calls `onStop` once a stop is requested. Another worker finishing also notifies STOP without
   * setting it, so the watch is re-armed until a stop is really there, or until `over()`. */
  watchStop(over: () => boolean, onStop: () => void): void {
    const stop = Atomics.waitAsync(this.words, STOP, STOP_NONE);
    if (!stop.async) return onStop();
    void stop.value.then(() => {
      if (over()) return;
      if (Atomics.load(this.words, STOP) === STOP_NONE) this.watchStop(over, onStop);
      else onStop();
    });
  }

  /** Wakes every stop watcher (this worker's own, so it can end, and the others, which re-arm). */
  wakeWatchers(): void {
    Atomics.notify(this.words, STOP);
  }
}
