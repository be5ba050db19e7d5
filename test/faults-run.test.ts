// Faults in a real `flashsale run` (#15 phase 2): the built-in service killed with SIGKILL mid-sale and
// restarted on the same ledger (as its own process), the audit proving nothing acknowledged was lost;
// a fault that could not be injected makes the run inconclusive; the scenario's faults are checked
// before any load (exit 2); the summary's faults section; and the pure parts (the audit's new checks,
// the report markers) on hand-made data. The judge's fault rules: test/judge-faults.test.ts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliInProcess, flashsale } from './helpers/cli.ts';
import { expectPassedUnlessBusy } from './helpers/passed.ts';
import { inventoryMatchesLedger, oneOrderPerKey, committedUnacknowledged, type AuditInput } from '../src/audit/audit.ts';
import { faultRecord } from './helpers/fault-record.ts';
import { faultScenario } from './helpers/fault-scenario.ts';
import { faultMarkers } from '../src/report/html/fault-markers.ts';
import { readResult } from '../src/report/read.ts';
import { formatSummary } from '../src/report/summary.ts';
import type { JsonSummary } from '../src/report/json-summary.ts';
import { RESULT_SCHEMA_VERSION, type RunResult } from '../src/contract/result.ts';

const dir = mkdtempSync(join(tmpdir(), 'flashsale-faults-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scenario = (name: string, faults: unknown[]): string => faultScenario(dir, name, faults);

function readRun(out: string): RunResult {
  return JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as RunResult; // written by the run under test
}

describe('flashsale run with faults', () => {
  it('kills the built-in service with SIGKILL mid-sale, restarts it on the same ledger: nothing acknowledged is lost, the summary says what hit when', async () => {
    const out = join(dir, 'kill');
    const run = await flashsale('run', scenario('kill', [{ at: '700ms', kill: 'service', downFor: '300ms' }]), '-o', out, '--json');
    const summary = JSON.parse(run.stdout) as Parameters<typeof expectPassedUnlessBusy>[0];
    const result = readRun(out);
    expect(result.schemaVersion).toBe(RESULT_SCHEMA_VERSION);
    const [fault] = result.faults!;
    expect(fault).toMatchObject({ index: 0, kind: 'kill-service', status: 'healed', problem: null, healedEarly: false });
    expect(fault.hitMs!).toBeGreaterThanOrEqual(699);
    expect(fault.healedMs!).toBeGreaterThan(fault.hitMs!);
    expect(fault.detail).toMatchObject({ exit: 'SIGKILL' });
    expect(fault.detail.recovered).toMatch(/continuing sale/);
    // The audit, across the kill: every acknowledged order in the ledger, nothing twice, the books agree.
    expect(result.audit!.passed, JSON.stringify(result.audit!.checks.filter((c) => !c.passed && !c.skipped))).toBe(true);
    expect(result.audit!.lostOrders).toBe(0);
    for (const id of ['acked_orders_in_ledger', 'inventory_matches_ledger'] as const) {
      expect(result.audit!.checks.find((c) => c.id === id)).toMatchObject({ passed: true, skipped: false });
    }
    // Skipped only when no order was acknowledged at all (a machine so busy nothing sold before the kill).
    const perKey = result.audit!.checks.find((c) => c.id === 'one_order_per_key')!;
    expect(perKey.skipped ? result.orders.length : perKey.passed).toBe(perKey.skipped ? 0 : true);
    // sold == acknowledged ∪ committed-unacknowledged
    expect(result.stock.ledger).toBe(result.stock.sold);
    expect(result.stock.sold).toBe(result.stock.acknowledged + result.audit!.committedUnacknowledged!);
    expect(result.orders.every((o) => typeof o.idempotencyKey === 'string')).toBe(true);
    expect(result.intervals.retries!.length).toBe(result.intervals.sent.length);
    expect(fault.impact!.errors).toBeGreaterThan(0); // the kill was felt
    // run --json's faults list is the record's, as the terminal section shows it.
    expect((JSON.parse(run.stdout) as JsonSummary).faults).toEqual([
      expect.objectContaining({ kind: 'kill-service', status: 'healed', reached: true, healed: true, hitMs: fault.hitMs, healedMs: fault.healedMs, errors: fault.impact!.errors, outageMs: fault.impact!.outageMs }),
    ]);
    expectPassedUnlessBusy(summary, run.code);
    const text = formatSummary(await readResult(join(out, 'result.json')));
    expect(text).toMatch(/faults\n {2}⚡ kill -9 the service at 700ms, restart it after 300ms — hit \d\.\d\d s, healed \d+\.\d+ s, healed/);
    expect(text).toMatch(/outage ([\d.]+ s|no success after it)/);
    expect(text).toMatch(/no acknowledged order lost; \d+ committed but never acknowledged/);
  }, 120_000);

  it('a fault that could not be injected makes the run inconclusive (exit 4): the run did not test what was asked', async () => {
    const out = join(dir, 'failed');
    const run = await flashsale('run', scenario('failed', [{ at: '200ms', exec: ['false'] }]), '-o', out, '-q', '--allow-exec');
    const result = readRun(out);
    expect(result.faults![0]).toMatchObject({ status: 'failed', kind: 'exec' });
    expect(result.verdict.status).toBe('inconclusive');
    expect(run.code).toBe(4);
    expect(result.verdict.reasons.join('\n')).toMatch(/fault: faults\[0\] \(.*\) could not be injected: .*the run did not test what was asked/);
    expect(run.stdout).toMatch(/\? .*FAILED to inject/);
  }, 60_000);

  it('checks the faults before any load: exit 2 naming the fault and what to do', async () => {
    const exec = await cliInProcess('run', scenario('no-allow', [{ at: '1s', exec: 'true' }]), '-o', join(dir, 'no-allow'), '-q');
    expect(exec.code).toBe(2);
    expect(exec.err).toMatch(/faults\[0\]\.exec: .*--allow-exec/);
    const typo = await cliInProcess('run', scenario('typo', [{ at: '1s', kill: 'service' }, { at: '99s', kill: 'thread', thread: 0 }]), '-q');
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/faults\[0\]\.downFor: is required/);
    const late = await cliInProcess('run', scenario('late', [{ at: '99s', kill: 'thread', thread: 0 }]), '-q');
    expect(late.code).toBe(2);
    expect(late.err).toMatch(/faults\[0\]\.at: 99s is at or past the run's end/);
    const foreign = await cliInProcess('run', scenario('foreign', [{ at: '1s', kill: 'service', downFor: '1s' }]), '--target', 'http://127.0.0.1:9', '-q');
    expect(foreign.code).toBe(2);
    expect(foreign.err).toMatch(/faults\[0\]\.kill: "service" kills the built-in service/);
    expect(`${exec.err}${typo.err}${late.err}${foreign.err}`).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);
});

// ---- the pure parts ---------------------------------------------------------------------------------

describe('the audit across faults', () => {
  const base: AuditInput = {
    inventory: [{ sku: 'p', initial: 10, available: 7, reserved: 0, sold: 3 }],
    ledgerOrders: [
      { orderId: 'a', userId: 'u1', sku: 'p', qty: 1 },
      { orderId: 'b', userId: 'u2', sku: 'p', qty: 1 },
      { orderId: 'c', userId: 'u3', sku: 'p', qty: 1 },
    ],
    ackedOrders: [
      { orderId: 'a', userId: 'u1', sku: 'p', qty: 1, idempotencyKey: 'k1' },
      { orderId: 'b', userId: 'u2', sku: 'p', qty: 1, idempotencyKey: 'k2' },
    ],
    perUserLimit: 1,
    initialStock: new Map([['p', 10]]),
  };

  it('inventory sold = ledger units; one order per idempotency key; committed-unacknowledged counted', () => {
    expect(inventoryMatchesLedger(base)).toMatchObject({ passed: true, skipped: false });
    expect(inventoryMatchesLedger({ ...base, inventory: [{ sku: 'p', initial: 10, available: 6, reserved: 0, sold: 4 }] })).toMatchObject({ passed: false, offending: ['p'] });
    expect(inventoryMatchesLedger({ ...base, ledgerOrders: null })).toMatchObject({ skipped: true });
    expect(oneOrderPerKey(base)).toMatchObject({ passed: true, skipped: false });
    const twice = oneOrderPerKey({ ...base, ackedOrders: [...base.ackedOrders, { orderId: 'c', userId: 'u1', sku: 'p', qty: 1, idempotencyKey: 'k1' }] });
    expect(twice).toMatchObject({ passed: false, offending: ['k1'] });
    expect(oneOrderPerKey({ ...base, ackedOrders: [{ orderId: 'a', userId: 'u1', sku: 'p', qty: 1 }] })).toMatchObject({ skipped: true });
    expect(committedUnacknowledged(base)).toBe(1);
    expect(committedUnacknowledged({ ...base, ledgerOrders: null })).toBeNull();
  });
});

describe('report markers', () => {
  it('marks each fault that hit, from its hit to its heal', () => {
    expect(faultMarkers([faultRecord({}), faultRecord({ index: 1, status: 'not_reached', hitMs: null }), faultRecord({ index: 2, status: 'failed', problem: 'nope', inEffectMs: null, healedMs: null, hitMs: 3000 })])).toEqual([
      { atMs: 1000, label: 'kill -9 the service at 1s, restart it after 1s', untilMs: 2500 },
      { atMs: 3000, label: 'kill -9 the service at 1s, restart it after 1s (failed: nope)' },
    ]);
  });
});
