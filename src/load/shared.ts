// The little state the load workers share with the main thread, in SharedArrayBuffers: a start
// signal with t0, a stop flag, a global request ticket (so caps.maxRequests is exact across workers),
// per-SKU sell-out bookkeeping (see sell-out.ts), and per-worker progress counters the main thread reads
// for the progress bar.

/** Int32 control slots. */
export const READY = 0; // workers that are ready to start
export const GO = 1; // 1 once t0 is set
export const STOP = 2; // a STOP_* code once the run must stop
export const TICKETS = 3; // requests sent so far, all workers
export const SOLD_OUT_BASE = 4; // SELL_OUT_FIELDS words per SKU from here (sell-out.ts)
/** Per SKU: sold-out mark, holds out (reserved, not yet paid or lost), holds that ended unpaid so far. */
export const SELL_OUT_FIELDS = 3;

export const STOP_NONE = 0;
export const STOP_CODES = ['none', 'interrupted', 'sold_out', 'max_requests', 'max_duration'] as const;
export type StopCode = 1 | 2 | 3 | 4;
export const STOP_INTERRUPTED = 1;
export const STOP_SOLD_OUT = 2;
export const STOP_MAX_REQUESTS = 3;
export const STOP_MAX_DURATION = 4;

/** Float64 progress slots per worker. */
export const PROGRESS_FIELDS = ['sent', 'completed', 'successes', 'unitsAcknowledged', 'errors', 'soldOuts'] as const;
export const P_SENT = 0;
export const P_COMPLETED = 1;
export const P_SUCCESSES = 2;
export const P_UNITS = 3;
export const P_ERRORS = 4;
export const P_SOLD_OUTS = 5;

import { LIVE_FIELDS } from '../measure/live.ts';

export interface SharedState {
  control: SharedArrayBuffer;
  /** [0] = t0EpochMs. */
  t0: SharedArrayBuffer;
  progress: SharedArrayBuffer;
  /** Per worker, LIVE_FIELDS Float64 slots: the live bins (src/measure/live.ts). */
  live: SharedArrayBuffer;
}

export function createSharedState(workers: number, skus: number): SharedState {
  return {
    control: new SharedArrayBuffer(4 * (SOLD_OUT_BASE + SELL_OUT_FIELDS * skus)),
    t0: new SharedArrayBuffer(8),
    progress: new SharedArrayBuffer(8 * PROGRESS_FIELDS.length * workers),
    live: new SharedArrayBuffer(8 * LIVE_FIELDS * workers),
  };
}

/** Sets the stop code unless one is already set (the first reason wins). */
export function requestStop(control: Int32Array, code: StopCode): void {
  if (Atomics.compareExchange(control, STOP, STOP_NONE, code) === STOP_NONE) Atomics.notify(control, STOP);
}

/** Sums the workers' progress counters. */
export function readProgress(progress: Float64Array, workers: number): number[] {
  const sums = new Array<number>(PROGRESS_FIELDS.length).fill(0);
  for (let w = 0; w < workers; w++) for (let f = 0; f < sums.length; f++) sums[f] += progress[w * PROGRESS_FIELDS.length + f];
  return sums;
}
