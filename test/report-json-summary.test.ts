// The faults section of `flashsale run --json` (src/report/json-summary.ts): per fault what the result
// holds — kind and spec, when it hit (ms from the sale's opening), whether it hit and healed, what the
// crowd saw during it — and nothing when the run had no faults. (The rest of the summary: test/report.test.ts.)
import { describe, expect, it } from 'vitest';
import { jsonSummary } from '../src/report/json-summary.ts';
import type { RunResult } from '../src/contract/result.ts';
import type { FaultRecord } from '../src/faults/index.ts';
import { fakeRunResult } from './helpers/fake-result.ts';
import { faultRecord, KILL_IMPACT, unreachedRecord } from './helpers/fault-record.ts';

function killRecord(over: Partial<FaultRecord> = {}): FaultRecord {
  return faultRecord({ hitMs: 1004, detail: { exit: 'SIGKILL' }, impact: KILL_IMPACT, ...over });
}

function withFaults(faults: FaultRecord[] | undefined): RunResult {
  return { ...fakeRunResult({ seed: 6, buyers: 300 }), faults };
}

describe('jsonSummary faults', () => {
  it('gives a fault that hit: kind, spec, when, healed, errors by kind, recovery and outage, retries', () => {
    const j = jsonSummary(withFaults([killRecord()]));
    expect(j.faults).toEqual([
      {
        index: 0,
        kind: 'kill-service',
        description: 'kill -9 the service at 1s, restart it after 1s',
        spec: { at: '1s', kill: 'service', downFor: '1s' },
        status: 'healed',
        reached: true,
        healed: true,
        healedEarly: false,
        problem: null,
        plannedMs: 1000,
        hitMs: 1004,
        healedMs: 2500,
        outageMs: { min: 1600, max: 1700 },
        recoveryMs: { min: 100, max: 200 },
        completed: 380,
        successes: 12,
        errors: 368,
        errorsByKind: { timeout: 68, connection_refused: 300 },
        retries: 250,
      },
    ]);
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });

  it('says an unreached fault never hit, with nothing measured during it (null, not 0)', () => {
    const j = jsonSummary(withFaults([killRecord(), unreachedRecord({ index: 1, plannedMs: 9000 })]));
    expect(j.faults![1]).toMatchObject({ index: 1, status: 'not_reached', reached: false, healed: false, plannedMs: 9000, hitMs: null, healedMs: null, outageMs: null, recoveryMs: null, errors: null, errorsByKind: null, retries: null });
  });

  it('keeps a failed injection and its reason; a fault hit with no success after it has no outage', () => {
    const impact = { ...killRecord().impact!, successes: 0, recoveryMs: null, outageMs: null, errorsByKind: null, retries: null, notes: ['no errorsByKind in this series'] };
    const j = jsonSummary(withFaults([killRecord({ kind: 'exec', status: 'failed', problem: 'exit code 1', healedMs: null, impact })]));
    expect(j.faults![0]).toMatchObject({ status: 'failed', reached: true, healed: false, problem: 'exit code 1', outageMs: null, recoveryMs: null, successes: 0, errorsByKind: null, retries: null });
  });

  it('gives the orders committed but never acknowledged, as the terminal section does (null: ledger not read)', () => {
    const result = withFaults([killRecord()]);
    expect(jsonSummary({ ...result, audit: { ...result.audit!, committedUnacknowledged: 2 } }).audit.committedUnacknowledged).toBe(2);
    expect(jsonSummary(result).audit.committedUnacknowledged).toBeNull(); // the fake audit read no ledger
  });

  it('has no faults field for a run without faults', () => {
    expect(jsonSummary(withFaults(undefined))).not.toHaveProperty('faults');
    expect(jsonSummary(withFaults([]))).not.toHaveProperty('faults');
  });
});
