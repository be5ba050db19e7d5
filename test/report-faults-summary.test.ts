// The summary's faults section (src/report/faults-summary.ts), painted plain: per fault when it hit and
// healed, what the crowd saw (outage, recovery, errors by kind, retries), a fault that never hit said as
// such, the run's lost and cut orders once; nothing at all for a run without faults.
import { describe, expect, it } from 'vitest';
import { faultLines, type FaultPaint } from '../src/report/faults-summary.ts';
import type { RunResult } from '../src/contract/result.ts';
import type { FaultRecord } from '../src/faults/index.ts';
import { fakeRunResult } from './helpers/fake-result.ts';
import { faultRecord, KILL_IMPACT, unreachedRecord } from './helpers/fault-record.ts';

const plain: FaultPaint = { ok: String, bad: String, unsure: String, dim: String, bold: String };

function run(faults: FaultRecord[] | undefined, audit?: { lostOrders: number; committedUnacknowledged?: number }): RunResult {
  const result = fakeRunResult({ seed: 6, buyers: 300 });
  return { ...result, faults, audit: audit ? { ...result.audit!, ...audit } : result.audit };
}

describe('faultLines', () => {
  it('gives a fault that hit: when it hit and healed, the outage and recovery, errors by kind (most first), retries', () => {
    const lines = faultLines(run([faultRecord({ hitMs: 1004, impact: KILL_IMPACT })], { lostOrders: 0, committedUnacknowledged: 2 }), plain);
    expect(lines).toEqual([
      '',
      '  faults',
      '  ⚡ kill -9 the service at 1s, restart it after 1s — hit 1.00 s, healed 2.50 s, healed',
      '      outage 1.60 s–1.70 s (recovery 0.10 s–0.20 s after it ended); during it 380 answers, 12 successes, 368 errors (connection_refused: 300, timeout: 68), 250 retries',
      '  no acknowledged order lost; 2 committed but never acknowledged (the answer was cut; legal)',
    ]);
  });

  it('says a fault cut short by the run’s end, and one with no success after it', () => {
    const impact = { ...KILL_IMPACT, successes: 0, outageMs: null, recoveryMs: null, errorsByKind: null, retries: null };
    const [, , line, during] = faultLines(run([faultRecord({ healedEarly: true, impact })]), plain);
    expect(line).toBe('  ⚡ kill -9 the service at 1s, restart it after 1s — hit 1.00 s, healed 2.50 s (early: the run ended), healed');
    expect(during).toBe('      outage no success after it; during it 380 answers, 0 successes, 368 errors');
  });

  it('says an unreached fault never hit, at its planned moment, with nothing measured during it', () => {
    const lines = faultLines(run([unreachedRecord({ plannedMs: 9000 })]), plain);
    expect(lines[2]).toBe('  ? kill -9 the service at 1s, restart it after 1s — planned 9.00 s, never hit (the run ended first)');
    expect(lines.some((l) => l.includes('outage'))).toBe(false);
  });

  it('marks a failed injection unsure and gives its reason', () => {
    const lines = faultLines(run([faultRecord({ status: 'failed', problem: 'exit code 1', inEffectMs: null, healedMs: null })]), plain);
    expect(lines.slice(2, 4)).toEqual(['  ? kill -9 the service at 1s, restart it after 1s — hit 1.00 s, FAILED to inject', '      exit code 1']);
  });

  it('names lost orders, and an unreadable ledger', () => {
    const lines = faultLines(run([faultRecord()], { lostOrders: 3, committedUnacknowledged: undefined }), plain);
    expect(lines.at(-1)).toBe('  3 acknowledged order(s) lost; the ledger could not be read');
  });

  it('is empty for a run without faults', () => {
    expect(faultLines(run(undefined), plain)).toEqual([]);
    expect(faultLines(run([]), plain)).toEqual([]);
  });
});
