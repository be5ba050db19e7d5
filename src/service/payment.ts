// Simulated payment: a seeded decline draw and an optional latency, so journeys fail realistically
// and runs with the same seed decline the same share of payments.

/** mulberry32: tiny, fast, good enough for a decline coin. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class PaymentSimulator {
  private readonly random: () => number;
  constructor(seed: number) {
    this.random = seededRandom(seed);
  }
  /** True when this payment is declined. Draws only when declines are possible. */
  declines(declineRate: number): boolean {
    return declineRate > 0 && this.random() < declineRate;
  }
}

/** Resolves after ms; callers skip it entirely when the latency is 0 (the hot path stays synchronous). */
export function paymentDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
