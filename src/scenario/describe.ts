// One-line descriptions of a scenario for `flashsale scenarios` and summaries.
import { count } from '../shared/format.ts';
import { durationMs } from '../shared/duration.ts';
import type { ArrivalInput, Scenario } from './schema.ts';

function secs(value: number | string): string {
  const ms = durationMs(value);
  return ms < 1000 ? `${ms}ms` : `${Number((ms / 1000).toFixed(1))}s`;
}

/** "1,500/s", "5/100ms". */
function per(rate: number, unit: number | string): string {
  return durationMs(unit) === 1000 ? `${count(rate)}/s` : `${count(rate)}/${secs(unit)}`;
}

export function describeArrival(a: ArrivalInput): string {
  switch (a.executor) {
    case 'constant-arrival-rate':
      return `constant-arrival-rate: ${per(a.rate, a.timeUnit)} for ${secs(a.duration)}`;
    case 'ramping-arrival-rate': {
      const peak = Math.max(a.startRate, ...a.stages.map((s) => s.target));
      const total = a.stages.reduce((t, s) => t + durationMs(s.duration), 0);
      return `ramping-arrival-rate: ${a.stages.length} stage${a.stages.length === 1 ? '' : 's'}, peak ${per(peak, a.timeUnit)}, ${secs(total)}`;
    }
    case 'poisson':
      return `poisson: ${count(a.rate)}/s for ${secs(a.duration)}`;
    case 'flash-crowd': {
      const late = a.latecomers.count > 0 ? ` + ${count(a.latecomers.count)} latecomers` : '';
      return `flash-crowd: ${count(a.registered)} waiting (median click ${secs(a.reaction.median)})${late}`;
    }
    case 'constant-vus':
      return `constant-vus: ${count(a.vus)} VUs for ${secs(a.duration)}`;
  }
}

export interface ScenarioSummary {
  name: string;
  description: string;
  units: number;
  skus: number;
  perUserLimit: number | 'none';
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
