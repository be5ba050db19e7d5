// Hand-made fault records (src/faults/record.ts) for the pure tests of the judge and the reports: a kill
// of the service at 1 s, healed at 2.5 s; `KILL_IMPACT` is what a crowd could have seen of it.
import type { FaultImpact, FaultRecord } from '../../src/faults/index.ts';

export function faultRecord(over: Partial<FaultRecord> = {}): FaultRecord {
  return {
    index: 0,
    kind: 'kill-service',
    description: 'kill -9 the service at 1s, restart it after 1s',
    spec: { at: '1s', kill: 'service', downFor: '1s' },
    status: 'healed',
    problem: null,
    plannedMs: 1000,
    hitMs: 1000,
    inEffectMs: 1030,
    healStartMs: 2000,
    healedMs: 2500,
    healedEarly: false,
    detail: {},
    ...over,
  };
}

/** 1.6–1.7 s without a success from the hit, 0.1–0.2 s after the heal; errors of two kinds, retries. */
export const KILL_IMPACT: FaultImpact = {
  fromMs: 1000,
  toMs: 2700,
  sent: 400,
  completed: 380,
  successes: 12,
  soldOuts: 0,
  errors: 368,
  errorsByKind: { timeout: 68, connection_refused: 300 },
  retries: 250,
  recoveryMs: { min: 100, max: 200 },
  outageMs: { min: 1600, max: 1700 },
  notes: [],
};

/** A record that never hit: the run ended before its moment. */
export function unreachedRecord(over: Partial<FaultRecord> = {}): FaultRecord {
  return faultRecord({ status: 'not_reached', hitMs: null, inEffectMs: null, healStartMs: null, healedMs: null, ...over });
}
