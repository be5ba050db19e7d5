// Races one crowd through one design: `buyers` buyers of one unit each, `concurrency` of them in flight,
// stopped by sell-out (every buyer after it is told sold out), by the crowd running out, or by the time
// bound. Exactness is judged from the buyers' own receipts against what the design says it holds.
import { performance } from 'node:perf_hooks';
import type { LabDesign } from './types.ts';

export interface RaceOptions {
  stock: number;
  buyers: number;
  concurrency: number;
  seconds: number;
}

export interface RaceResult {
  design: string;
  /** Successful takes per second, from the first take to the last success. */
  takesPerSec: number;
  /** Takes (successful or sold out) answered per second over the whole race. */
  answersPerSec: number;
  p50Ms: number;
  p99Ms: number;
  sold: number;
  soldOut: boolean;
  /** Stopped by the time bound before the crowd or the stock ran out. */
  timedOut: boolean;
  /** sold ≤ stock, the design's own count equals the receipts, and sold + available = stock. */
  exact: boolean;
  why: string;
}

export async function race(design: LabDesign, o: RaceOptions): Promise<RaceResult> {
  await design.setup(o.stock);
  const latencies = new Float64Array(o.buyers);
  let answered = 0;
  let sold = 0;
  let soldOutSeen = false;
  let next = 0;
  let lastSale = 0;
  const t0 = performance.now();
  const until = t0 + o.seconds * 1000;
  let timedOut = false;
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (next < o.buyers) {
        if (performance.now() >= until) {
          timedOut = true;
          return;
        }
        const buyer = next++;
        const start = performance.now();
        const ok = await design.take(buyer);
        const end = performance.now();
        latencies[answered++] = end - start;
        if (ok) {
          sold++;
          lastSale = end;
        } else soldOutSeen = true;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const snap = await design.snapshot();
  await design.close();
  const why: string[] = [];
  if (sold > o.stock) why.push(`oversold: ${sold} receipts for ${o.stock} units`);
  if (snap.sold >= 0 && snap.sold !== sold) why.push(`the design counts ${snap.sold} sold, the buyers hold ${sold} receipts`);
  if (sold + snap.available !== o.stock) why.push(`receipts ${sold} + available ${snap.available} ≠ stock ${o.stock}`);
  if (soldOutSeen && sold !== o.stock) why.push(`a buyer was told sold out with ${o.stock - sold} units unsold`);
  const sorted = Array.from(latencies.subarray(0, answered)).sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
  return {
    design: design.name,
    takesPerSec: sold / Math.max(1e-9, (lastSale - t0) / 1000),
    answersPerSec: answered / elapsed,
    p50Ms: pct(50),
    p99Ms: pct(99),
    sold,
    soldOut: soldOutSeen,
    timedOut: timedOut && sold < o.stock,
    exact: why.length === 0,
    why: why.join('; '),
  };
}
