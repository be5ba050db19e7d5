// A small built-in-service sale with faults, for the tests that run `flashsale run` with them: 300 units,
// buyers at 200/s for `seconds` (a bounded crowd that outlasts a restart), retries with backoff, and the
// thresholds of loss and oversell only (the default error budget applies on top).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function faultScenario(dir: string, name: string, faults: unknown[], o: { seconds?: number; seed?: number } = {}): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      name,
      description: 'small sale with faults',
      sale: { skus: [{ id: 'phone', stock: 300 }], perUserLimit: 1, opensAt: 'now' },
      buyers: {
        population: 2000,
        arrival: { executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: `${o.seconds ?? 4}s` },
        journey: 'checkout',
        qty: 1,
        retries: { max: 8, baseDelay: '100ms', maxDelay: '1s' },
      },
      load: { workers: 1, connections: 8, maxDuration: '45s', maxRequests: 20000, seed: o.seed ?? 15 },
      target: 'built-in',
      thresholds: { lost_orders: ['count==0'], oversold: ['count==0'] },
      faults,
    }),
  );
  return path;
}
