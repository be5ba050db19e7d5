// Commands that cannot inject a scenario's faults refuse such a scenario rather than ignore them:
// a run that silently skipped its faults would pass for a resilience test it never was.
import { UsageError } from '../errors.ts';
import type { Scenario } from './schema.ts';

export function refuseFaults(scenario: Scenario, where: string): void {
  const n = scenario.faults?.length ?? 0;
  if (n === 0) return;
  throw new UsageError(
    `${where} cannot inject faults, and scenario "${scenario.name}" has ${n} (its faults list): ` +
      'run it with `flashsale run` (the native engine), or remove its faults',
  );
}
