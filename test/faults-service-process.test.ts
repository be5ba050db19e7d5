// The built-in service as its own process under kill -9: `flashsale serve` started by ServiceProcess on a
// ledger file, killed mid-stream of checkouts from a small bounded crowd (before the first order,
// mid-crowd, at sell-out), restarted on the same ledger and port. The audit reads it afterwards: every
// order a buyer was told about (201) is in the ledger, nothing is sold twice, and the ledger holds the
// acknowledged orders plus, at most, orders committed whose answer the kill cut.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditRun, fetchAuditInputs } from '../src/audit/index.ts';
import { builtInServe, ServiceProcess } from '../src/faults/service-process.ts';
import { scheduleFaults } from '../src/faults/scheduler.ts';
import { faultImpact } from '../src/faults/impact.ts';
import { ackedAfter, runCrowd, type CrowdResult } from './fixtures/faults-crowd.ts';

const TOKEN = 'faults-test-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'flashsale-faults-'));
let services: ServiceProcess[] = [];

afterEach(async () => {
  await Promise.all(services.map((s) => s.stop(5_000)));
  services = [];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serveOn(name: string, stock: number, threads = 2): ServiceProcess {
  const s = builtInServe({ ledger: join(dir, `${name}.sqlite`), threads, adminToken: TOKEN, serveArgs: ['--sku', 'phone', '--stock', String(stock), '--per-user-limit', '1'] });
  services.push(s);
  return s;
}

async function auditAfter(service: ServiceProcess, crowd: CrowdResult, stock: number) {
  const inputs = await fetchAuditInputs(service.url, ['phone'], { adminToken: TOKEN });
  const audit = auditRun({ ...inputs, ackedOrders: crowd.acked, perUserLimit: 1, initialStock: new Map([['phone', stock]]) });
  return { audit, ledger: inputs.ledgerOrders!, inventory: inputs.inventory![0] };
}

/** Every ledger order was acknowledged to its buyer with that id, or is one whose answer never came. */
function expectLedgerIsAckedOrCut(crowd: CrowdResult, ledger: Array<{ orderId: string; userId: string }>): number {
  const byUser = new Map(crowd.buyers.map((b) => [b.userId, b]));
  let committedUnacknowledged = 0;
  for (const order of ledger) {
    const buyer = byUser.get(order.userId);
    expect(buyer, `ledger order ${order.orderId} of unknown user ${order.userId}`).toBeDefined();
    if (buyer!.outcome === 'acked') expect(buyer!.orderId).toBe(order.orderId);
    else {
      expect(buyer!.unanswered && buyer!.outcome === 'cut', `order ${order.orderId} of ${order.userId}, who was told ${buyer!.status}`).toBe(true);
      committedUnacknowledged++;
    }
  }
  return committedUnacknowledged;
}

describe('the built-in service killed with SIGKILL and restarted on the same ledger', () => {
  const moments = [
    { name: 'before the first order', stock: 5_000, buyers: 200, killAtAck: 0 },
    { name: 'at sell-out', stock: 150, buyers: 300, killAtAck: 145 },
  ];
  it.each(moments)('$name: every acknowledged order survives, nothing is sold twice', async ({ name, stock, buyers, killAtAck }) => {
    const service = serveOn(name.replaceAll(' ', '-'), stock);
    const first = await service.start();
    let restarted: Promise<unknown> = Promise.resolve();
    const killAndRestart = () => service.kill().then(() => new Promise((r) => setTimeout(r, 300))).then(() => service.restart());
    if (killAtAck === 0) await killAndRestart();
    const crowd = await runCrowd({
      url: first.url,
      buyers,
      concurrency: 12,
      t0: Date.now(),
      deadlineMs: 20_000,
      onAnswer: (n) => {
        if (n === killAtAck) restarted = killAndRestart();
      },
    });
    await restarted;
    expect(service.url).toBe(first.url); // the same port
    expect(service.unexpectedExits).toEqual([]);
    const { audit, ledger, inventory } = await auditAfter(service, crowd, stock);
    expect(audit.checks.filter((c) => !c.passed).map((c) => c.id)).toEqual([]);
    expect(new Set(ledger.map((o) => o.orderId)).size).toBe(ledger.length);
    expectLedgerIsAckedOrCut(crowd, ledger);
    expect(inventory.sold).toBe(ledger.length);
    if (killAtAck > 0) expect(Object.keys(crowd.errorsByKind).length).toBeGreaterThan(0); // the kill cut requests
    expect(crowd.acked.length).toBe(Math.min(stock, buyers));
  });

  it('mid-crowd, fired by the scheduler: the record has its timings, the series shows the outage and the recovery', async () => {
    const stock = 100_000;
    const service = serveOn('scheduled', stock);
    const { url } = await service.start();
    const t0 = Date.now();
    const schedule = scheduleFaults([{ at: '500ms', kill: 'service', downFor: '300ms' }], { saleOpensAtEpochMs: t0, context: { service } });
    const afterHeal = ackedAfter(schedule.done, 100);
    const crowd = await runCrowd({ url, buyers: 100_000, concurrency: 12, t0, deadlineMs: 20_000, retryPauseMs: 50, until: afterHeal });
    const [record] = await schedule.stop();
    expect(record).toMatchObject({ kind: 'kill-service', status: 'healed', plannedMs: 500, healedEarly: false, problem: null });
    expect(record.hitMs).toBeGreaterThanOrEqual(498); // timers may fire a millisecond early against Date.now()
    expect(record.healStartMs! - record.hitMs!).toBeGreaterThanOrEqual(298);
    expect(record.healedMs).toBeGreaterThan(record.healStartMs!);
    expect(record.detail).toMatchObject({ exit: 'SIGKILL' });
    expect(String(record.detail.recovered)).toMatch(/^continuing sale 1 with [\d,]+ orders?/);

    const impact = faultImpact({ ...crowd.series, retries: undefined }, record)!;
    expect(impact.errors).toBeGreaterThan(0);
    expect(impact.recoveryMs).not.toBeNull();
    expect(impact.recoveryMs!.min).toBeLessThanOrEqual(impact.recoveryMs!.max);
    expect(impact.outageMs!.min).toBeGreaterThanOrEqual(record.healedMs! - record.hitMs!);

    const { audit, ledger } = await auditAfter(service, crowd, stock);
    expect(audit.checks.filter((c) => !c.passed && !c.skipped).map((c) => c.id)).toEqual([]);
    expect(audit.checks.find((c) => c.id === 'acked_orders_in_ledger')).toMatchObject({ passed: true, skipped: false });
    const unacknowledged = expectLedgerIsAckedOrCut(crowd, ledger);
    expect(ledger.length).toBe(crowd.acked.length + unacknowledged);
  });
});

describe('starting and restarting the service process', () => {
  it('the admin token goes in the environment, never in argv; a restart refused (port taken) says why, and a later one works', async () => {
    const service = serveOn('refused', 100);
    const first = await service.start();
    expect(first.recovered).toBe('new sale 1');
    const pid = service.pid!;
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(TOKEN);
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toContain(`FLASHSALE_ADMIN_TOKEN=${TOKEN}`);
    await service.kill();
    const port = Number(new URL(first.url).port);
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', r));
    try {
      await expect(service.restart()).rejects.toThrow(new RegExp(`the service exited \\(code 2\\) before listening: .*${port}`));
    } finally {
      await new Promise((r) => squatter.close(r));
    }
    const again = await service.restart();
    expect(again.url).toBe(first.url);
    expect(again.recovered).toBe('continuing sale 1 with 0 orders');
    expect(service.unexpectedExits).toEqual([]);
    // Killed by someone else: noticed.
    process.kill(again.pid, 'SIGKILL');
    while (service.running) await new Promise((r) => setTimeout(r, 10));
    expect(service.unexpectedExits).toEqual([{ pid: again.pid, code: null, signal: 'SIGKILL' }]);
  });

  it('refuses a :memory: ledger: a restart would begin an empty sale', () => {
    expect(() => builtInServe({ ledger: ':memory:', threads: 1, adminToken: TOKEN })).toThrow(/needs a ledger file/);
  });
});

describe('one HTTP thread crashed over the IPC hook', () => {
  it('the supervisor restarts it; the fault is healed when /healthz answers again, and nothing is lost', async () => {
    const ledger = join(dir, 'thread.sqlite');
    const service = new ServiceProcess({
      file: process.execPath,
      args: (port) => [new URL('./fixtures/faults-service-child.ts', import.meta.url).pathname, ledger, String(port)],
      port: 0,
      threads: 2,
      adminToken: TOKEN,
      ipc: true,
    });
    services.push(service);
    const { url } = await service.start();
    const t0 = Date.now();
    const schedule = scheduleFaults([{ at: '300ms', kill: 'thread', thread: 1 }], { saleOpensAtEpochMs: t0, context: { service } });
    const crowd = await runCrowd({ url, buyers: 100_000, concurrency: 8, t0, deadlineMs: 20_000, until: ackedAfter(schedule.done, 100) });
    const [record] = await schedule.stop();
    expect(record).toMatchObject({ kind: 'kill-thread', status: 'healed', problem: null, detail: { thread: 1 } });
    expect(typeof record.detail.healthyMs).toBe('number');
    expect(service.stderr()).toMatch(/HTTP thread 1 died/);
    const { audit } = await auditAfter(service, crowd, 100_000);
    expect(audit.checks.filter((c) => !c.passed && !c.skipped).map((c) => c.id)).toEqual([]);
    // A thread the service does not have is refused by the service, and the fault says so.
    await expect(service.crashThread(5)).rejects.toThrow(/no HTTP thread 5/);
  });
});
