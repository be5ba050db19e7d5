// The load plan bench:load, bench:load-profile and bench:load-ab drive their canned target with: a closed
// loop (one buyer per connection, no think time, no retries) with full recording, checkout only, stock and
// crowd too large to run out, so every request is the same work and the benches compare like with like.
import type { LoadPlan } from '../src/contract/load-plan.ts';

export function closedLoopPlan(url: string, connections: number, durationMs: number, o: { path?: string; transport?: 'raw' | 'undici' } = {}): LoadPlan {
  return {
    transport: o.transport ?? 'raw',
    target: {
      url,
      requests: {
        checkout: {
          method: 'POST',
          path: o.path ?? '/api/v1/checkout',
          headers: {},
          body: { json: { sku: '${sku}', userId: '${userId}', qty: '${qty}' } },
          success: { status: [201] },
          soldOut: { status: [409] },
          captureId: null,
        },
      },
    },
    arrival: { type: 'constant-vus', vus: connections, durationMs },
    journey: { type: 'checkout', qty: 1, thinkTime: { minMs: 0, maxMs: 0 }, retries: { max: 0, baseMs: 1, maxMs: 1 }, timeoutMs: 10_000, bots: { share: 0, retries: 0, accounts: 1 } },
    buyers: { population: 10_000_000, userPrefix: 'u' },
    skus: { ids: ['phone'], weights: [1] },
    caps: { maxDurationMs: durationMs + 5_000, maxRequests: 2_000_000_000, gracefulStopMs: 1_000 },
    workers: 1,
    connections,
    seed: 1,
    stopOnSellOut: false,
  };
}
