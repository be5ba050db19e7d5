// What the live dashboard and the progress line are fed during a run, as plain data: one LiveSnapshot
// per progress tick, sent as a server-sent event (src/cli/dashboard.ts) and drawn by the same chart
// code as the report. Latency here is approximate (log bins, ~9 % wide); the report's is exact.

/** One point per progress tick: rates over the tick, latency of the answers in it. */
export interface LivePoint {
  /** Seconds from t0 at the end of the tick. */
  t: number;
  sentPerSec: number;
  completedPerSec: number;
  successPerSec: number;
  soldOutPerSec: number;
  rejectedPerSec: number;
  errorPerSec: number;
  /** Corrected latency of the answers in the tick, ms; null when none came. */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** Send lateness of the requests sent in the tick: p99 and worst, ms; null when none went out. */
  latenessP99: number | null;
  latenessMax: number | null;
  /** Requests sent and not yet ended. */
  inFlight: number;
  /** Units acknowledged so far. */
  unitsSold: number;
  /** HTTP answers per second by status class ("2xx" … "5xx"). */
  statusPerSec: Record<string, number>;
  /** TCP connections the generator holds open at the end of the tick. */
  connectionsOpen: number;
  /** Connections opened and closed (by either side) per second over the tick. */
  connectsPerSec: number;
  disconnectsPerSec: number;
  /** Units acknowledged so far per SKU, in the order of LiveSnapshot.skus. */
  soldBySku: number[];
}

export interface LiveSnapshot {
  elapsedMs: number;
  /** The run is over; the final report is at /report. */
  done: boolean;
  totals: {
    sent: number;
    completed: number;
    successes: number;
    soldOuts: number;
    rejected: number;
    errors: number;
    unitsSold: number;
    /** Stock at the start (all SKUs); null when not known. */
    stock: number | null;
    /** TCP connections opened and closed so far (the warm-up's included). */
    connects: number;
    disconnects: number;
  };
  /** The SKUs whose sales LivePoint.soldBySku counts, with their stock (past 50, the rest as one). */
  skus: Array<{ id: string; stock: number }>;
  /** The lateness above which the generator is behind its schedule (ms). */
  latenessLimitMs: number;
  /** The last tick's lateness p99 was over the limit. */
  generatorBehind: boolean;
  /** Time left: against the run's cap or, when the sale is selling, its expected sell-out; null if unknown. */
  remainingMs: number | null;
  remainingBy: 'cap' | 'sell-out' | null;
  points: LivePoint[];
}
