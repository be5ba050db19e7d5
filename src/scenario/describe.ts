// One-line descriptions of a scenario for `flashsale scenarios` and summaries.
import { shapeOf } from '../schedule/index.ts';
import type { ArrivalInput, Scenario } from './schema.ts';
import { NO_LIMIT } from '../contract/sale.ts';

/** The arrival in one line, as its shape describes itself. */
export function describeArrival(a: ArrivalInput): string {
  return shapeOf(a).describe(a);
}

export interface ScenarioSummary {
  name: string;
  description: string;
  units: number;
  skus: number;
  perUserLimit: number | typeof NO_LIMIT;
  journey: Scenario['buyers']['journey'];
  executor: ArrivalInput['executor'];
  arrival: string;
  target: string;
  thresholds: number;
}

export function summarizeScenario(s: Scenario): ScenarioSummary {
  return {
    name: s.name,
    description: s.description,
    units: s.sale.skus.reduce((n, sku) => n + sku.stock, 0),
    skus: s.sale.skus.length,
    perUserLimit: s.sale.perUserLimit,
    journey: s.buyers.journey,
    executor: s.buyers.arrival.executor,
    arrival: describeArrival(s.buyers.arrival),
    target: s.target === 'built-in' ? 'built-in' : s.target.url,
    thresholds: Object.values(s.thresholds).reduce((n, list) => n + list.length, 0),
  };
}
