// exec faults: the command's exit code and output kept, bounded in size and time (a timeout ends the
// command's whole process group); the admin token kept out of its environment; and the case, a
// foreign target (a shop in its own process) stopped by the fault's command and started again by its
// heal command, while a crowd buys: every acknowledged order survives.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditRun, fetchAuditInputs } from '../src/audit/index.ts';
import { OUTPUT_KEEP_BYTES, runCommand } from '../src/faults/command.ts';
import { scheduleFaults } from '../src/faults/scheduler.ts';
import { validateFaults } from '../src/faults/validate.ts';
import { ackedAfter, runCrowd } from './fixtures/faults-crowd.ts';

const dir = mkdtempSync(join(tmpdir(), 'flashsale-faults-exec-'));
const ENV = { ...process.env };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A process that exists and is not a zombie (an ended process its new parent has not reaped yet). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

async function execFault(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = ENV) {
  const { faults, problems } = validateFaults([{ at: 0, ...raw }]);
  expect(problems).toEqual([]);
  const [record] = await scheduleFaults(faults, { saleOpensAtEpochMs: Date.now(), context: { exec: { allowed: true, cwd: dir, env } } }).done;
  return record;
}

describe('running a command', () => {
  it('keeps the exit code and output; a failing command fails the fault with both', async () => {
    const ok = await execFault({ exec: [process.execPath, '-e', 'console.log("restarted shop"); console.error("warn")'] });
    expect(ok).toMatchObject({ status: 'applied', problem: null });
    expect(ok.detail.exec).toMatchObject({ exitCode: 0, signal: null, timedOut: false, stdout: 'restarted shop\n', stderr: 'warn\n', startError: null });
    const bad = await execFault({ exec: [process.execPath, '-e', 'console.error("no such container: shop"); process.exit(3)'] });
    expect(bad.status).toBe('failed');
    expect(bad.problem).toMatch(/^exec `\S+ -e .*`: exit 3 after \d+\.\d s$/);
    expect(bad.detail.exec).toMatchObject({ exitCode: 3, stderr: 'no such container: shop\n' });
  });

  it('a program that does not exist fails the fault with the reason', async () => {
    const r = await execFault({ exec: 'flashsale-no-such-program --now' });
    expect(r.status).toBe('failed');
    expect(r.problem).toMatch(/could not start: ENOENT/);
  });

  it('keeps the first and last bytes of a long output, and counts the rest', async () => {
    const r = await runCommand({ file: process.execPath, args: ['-e', 'process.stdout.write("a".repeat(50000) + "THE END")'], display: 'long' }, { timeoutMs: 10_000, cwd: dir, env: ENV });
    expect(r.stdoutBytes).toBe(50_007);
    expect(r.stdout.length).toBeLessThan(2 * OUTPUT_KEEP_BYTES + 100);
    expect(r.stdout.startsWith('aaaa')).toBe(true);
    expect(r.stdout.endsWith('THE END')).toBe(true);
    expect(r.stdout).toContain(`[… ${(50_007 - 2 * OUTPUT_KEEP_BYTES).toLocaleString('en-US')} bytes not kept …]`);
  });

  it('a timeout ends the command and everything it started', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const r = await execFault({ exec: `sleep 30 & echo $! > ${pidFile}; wait`, shell: true, timeout: '500ms' });
    expect(r.status).toBe('failed');
    expect(r.problem).toMatch(/timed out after 0.5 s and was ended \(SIGTERM\)/);
    expect(r.detail.exec).toMatchObject({ timedOut: true, signal: 'SIGTERM' });
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    const deadline = Date.now() + 5_000;
    while (alive(grandchild) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(alive(grandchild)).toBe(false);
  });

  it('the command does not get the admin token; a heal command runs after downFor', async () => {
    const r = await execFault(
      { exec: [process.execPath, '-e', 'console.log(process.env.FLASHSALE_ADMIN_TOKEN ?? "no token")'], heal: [process.execPath, '-e', 'console.log("healed")'], downFor: '100ms' },
      { ...ENV, FLASHSALE_ADMIN_TOKEN: 'secret-token-0123456789' },
    );
    expect(r.status).toBe('healed');
    expect(r.detail.exec).toMatchObject({ stdout: 'no token\n' });
    expect(r.detail.heal).toMatchObject({ exitCode: 0, stdout: 'healed\n' });
    expect(r.healStartMs! - r.hitMs!).toBeGreaterThanOrEqual(98); // timers may fire a millisecond early against Date.now()
  });
});

describe('an exec fault against a foreign target', () => {
  const CTL = new URL('./fixtures/faults-shop-ctl.ts', import.meta.url).pathname;
  const pidFile = join(dir, 'shop.pid');
  afterAll(() => {
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('the shop stopped by the command and started by the heal: errors during, success after, nothing lost', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    const orders = join(dir, 'shop.ndjson');
    const token = 'faults-test-token-0123456789';
    // The shop's token under a name of the user's own: the fault's commands never get FLASHSALE_ADMIN_TOKEN.
    const env = { ...ENV, SHOP_ADMIN_TOKEN: token };
    execFileSync(process.execPath, [CTL, 'start', pidFile, String(port), orders, '100000'], { env });
    const url = `http://127.0.0.1:${port}`;
    const { faults, problems } = validateFaults([
      { at: '300ms', exec: [process.execPath, CTL, 'stop', pidFile], heal: [process.execPath, CTL, 'start', pidFile, String(port), orders, '100000'], downFor: '300ms', timeout: '20s' },
    ]);
    expect(problems).toEqual([]);
    const t0 = Date.now();
    const schedule = scheduleFaults(faults, { saleOpensAtEpochMs: t0, context: { exec: { allowed: true, cwd: dir, env } } });
    const crowd = await runCrowd({ url, buyers: 100_000, concurrency: 8, t0, deadlineMs: 20_000, until: ackedAfter(schedule.done, 100) });
    const [record] = await schedule.stop();
    expect(record).toMatchObject({ kind: 'exec', status: 'healed', problem: null, healedEarly: false });
    expect(record.detail.exec).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^stopped \d+\n$/) });
    expect(record.detail.heal).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^started \d+ at http:\/\/127\.0\.0\.1:\d+\n$/) });
    expect(crowd.errorsByKind.ECONNREFUSED ?? 0).toBeGreaterThan(0);
    const acksAfter = crowd.series.successes.slice(Math.ceil(record.healedMs! / 100)).reduce((a, b) => a + b, 0);
    expect(acksAfter).toBeGreaterThan(0);
    const inputs = await fetchAuditInputs(url, ['phone'], { adminToken: token });
    const audit = auditRun({ ...inputs, ackedOrders: crowd.acked, perUserLimit: 1, initialStock: new Map([['phone', 100_000]]) });
    expect(audit.checks.filter((c) => !c.passed && !c.skipped).map((c) => c.id)).toEqual([]);
    expect(audit.checks.find((c) => c.id === 'acked_orders_in_ledger')).toMatchObject({ passed: true, skipped: false });
  });
});
