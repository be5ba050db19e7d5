// The scenario's defaults, written once: the zod schema (schema.ts) applies them, and so does the k6
// script (scenarios/k6/mapping.js), which reads scenario files without zod. Arrival shapes keep their
// own defaults in their files (src/schedule/). Imports nothing: k6 loads this file as it is.

export const BUYER_DEFAULTS = {
  userPrefix: 'user-',
  journey: 'checkout',
  qty: 1,
  thinkTime: 0,
  timeout: '10s',
  retries: { max: 2, baseDelay: '50ms', maxDelay: '1s' },
  bots: { share: 0, retries: 10, accounts: 1 },
} as const;

/** A request template's defaults (target.requests.<step>). */
export const TEMPLATE_DEFAULTS = { method: 'POST', headers: {} } as const;

export const LOAD_DEFAULTS = {
  workers: 1,
  connections: 64,
  maxDuration: '60s',
  maxRequests: 2_000_000,
  gracefulStop: '5s',
  seed: 1,
  stopOnSellOut: true,
  transport: 'auto',
  warmup: { path: '/healthz' },
} as const;
