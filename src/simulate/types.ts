// What the main thread sends each simulate worker, and what it gets back. Plain data + SABs only.
import type { StockShared } from '../stock/types.ts';
import type { UserLimitsShared } from '../stock/user-limits.ts';
import type { BuyerPlan } from './buyers.ts';

export interface RaceTask {
  stock: StockShared;
  limits: UserLimitsShared | null;
  perUserLimit: number | null;
  gate: SharedArrayBuffer;
  threadIndex: number;
  threads: number;
  /** This thread serves buyers threadIndex, threadIndex + threads, … */
  plan: BuyerPlan;
  /** Every n-th successful purchase is declined afterwards and its units (and limit) released; 0 = never. */
  releaseEvery: number;
  /** After its buyers, take single units from every SKU until refused (tests: proves nothing is stranded). */
  drain: boolean;
  /** Snapshot an SKU every n attempts to watch for negative stock; 0 = never. */
  sampleEvery: number;
  /** One progress word per thread (PROGRESS_STRIDE apart): how threads tell they really run at once. */
  progress: SharedArrayBuffer;
}

export interface RaceThreadResult {
  threadIndex: number;
  /** Buyers served (each one tryAcquire + tryTake). */
  attempts: number;
  /** Units handed out per SKU, net of releases: the buyers' receipts, independent of the counter. */
  soldBySku: number[];
  /** Smallest quantity refused as sold out per SKU (0: none refused). */
  minRefusedBySku: number[];
  refusedSoldOut: number;
  refusedLimit: number;
  releases: number;
  releasedUnits: number;
  /** Net units bought per user id, when a per-user limit is set. */
  purchases: Array<[string, number]> | null;
  /** Lowest available seen by sampling (Infinity when not sampled). */
  minAvailable: number;
  /** Epoch ms (fractional) at release from the start line and at the end. */
  startedAt: number;
  endedAt: number;
  /** Epoch ms of this thread's first sold-out refusal per SKU (0: never refused). */
  firstRefusedAtBySku: number[];
  /** While selling, every PROBE_EVERY buyers: how many such stretches there were, and in how many
   * another thread made progress meanwhile (it was running at the same moment, not taking turns). */
  probes: number;
  concurrentProbes: number;
}
