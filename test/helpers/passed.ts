// For end-to-end tests whose target is correct: the run passed, or, on a machine so busy that the run
// itself recorded other processes taking over a quarter of its CPU, it was honestly inconclusive (the
// generator could not keep its schedule there). Anything else fails. This suite shares its machine
// with other work; a test must not blame the code for the machine, as the tool must not.
import { expect } from 'vitest';
import { MACHINE_BUSY_SHARE } from '../../src/judge/judge.ts';

export interface SummaryLike {
  status: string;
  machineOthersCpuShare: number | null;
  generatorBound: boolean;
  verdict: { reasons: string[] };
}

/** True when the run passed; false (and why, checked) when a busy machine made it inconclusive. */
export function expectPassedUnlessBusy(summary: SummaryLike, code: number): boolean {
  if (summary.status === 'inconclusive' && summary.generatorBound && (summary.machineOthersCpuShare ?? 0) > MACHINE_BUSY_SHARE) {
    expect(code).toBe(4);
    return false;
  }
  expect(summary.status, summary.verdict.reasons.join('\n')).toBe('passed');
  expect(code).toBe(0);
  return true;
}

/**
 * For runs whose built-in service is N processes on the shared stores, on this machine: those processes,
 * Redis and PostgreSQL all share the generator's cores, and with other test files running beside them
 * the generator can fall behind its schedule although nothing else is "other" enough to call the machine
 * busy. Such a run is honestly inconclusive (exit 4) because the generator was late — accepted here only
 * when lateness is the sole reason; the caller still checks the audit and the ledger itself.
 */
export function expectPassedUnlessGeneratorLate(summary: SummaryLike, code: number): boolean {
  if (summary.status === 'inconclusive' && summary.generatorBound && summary.verdict.reasons.every((r) => /^generator: /.test(r))) {
    expect(code).toBe(4);
    console.warn(`inconclusive, the generator was late on a shared machine (accepted): ${summary.verdict.reasons.join('; ')}`);
    return false;
  }
  return expectPassedUnlessBusy(summary, code);
}
