// The ledger's promise tested by force: kill -9 the service mid-stream, restart it on the same file,
// and check that every order a client saw acknowledged survived, once, and that stock adds up.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Pool, request } from 'undici';

const FIXTURE = new URL('./fixtures/service-child.ts', import.meta.url).pathname;
const AUTH = { authorization: 'Bearer crash-test' };

function startChild(ledger: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [FIXTURE, ledger], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (url) => resolve({ child, url }));
    child.once('exit', (code) => reject(new Error(`service child exited early (code ${code})`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

async function ledgerOrders(url: string): Promise<Array<{ orderId: string; userId: string; qty: number }>> {
  const r = await request(`${url}/admin/orders`, { headers: AUTH });
  const text = await r.body.text();
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('ledger durability under kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flashsale-crash-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged order, none twice, and rebuilds stock from the ledger', async () => {
    const ledger = join(dir, 'ledger.sqlite');
    const first = await startChild(ledger);
    children.push(first.child);
    const pool = new Pool(first.url, { connections: 16 });
    const acked = new Map<string, string>(); // idempotency key → orderId the client saw
    let killed = false;
    let seq = 0;
    const deadline = Date.now() + 5000;
    const driver = async () => {
      while (!killed && Date.now() < deadline) {
        const key = `k${seq++}`;
        try {
          const r = await pool.request({
            method: 'POST',
            path: '/api/v1/checkout',
            headers: { 'content-type': 'application/json', 'idempotency-key': key },
            body: JSON.stringify({ sku: 'phone', userId: `user-${key}`, qty: 1 }),
          });
          const body = (await r.body.json()) as { orderId?: string };
          if (r.statusCode === 201 && body.orderId) acked.set(key, body.orderId);
        } catch {
          // connection cut by the kill: not acknowledged, so the ledger may or may not hold it
        }
      }
    };
    const drivers = Array.from({ length: 32 }, driver);
    while (acked.size < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL'); // mid-stream: requests are in flight
    killed = true;
    await Promise.all(drivers);
    await exited(first.child);
    await pool.destroy();
    expect(acked.size).toBeGreaterThanOrEqual(300);

    const second = await startChild(ledger);
    children.push(second.child);
    const orders = await ledgerOrders(second.url);
    const ids = orders.map((o) => o.orderId);
    expect(new Set(ids).size).toBe(ids.length); // nothing twice
    const inLedger = new Set(ids);
    const lost = [...acked.values()].filter((id) => !inLedger.has(id));
    expect(lost).toEqual([]);
    expect(new Set(orders.map((o) => o.userId)).size).toBe(orders.length); // per-user limit 1 held

    const inv = (await (await request(`${second.url}/api/v1/inventory/phone`)).body.json()) as Record<string, number>;
    expect(inv.sold).toBe(orders.length);
    expect(inv.reserved).toBe(0);
    expect(inv.available + inv.sold).toBe(inv.initial);

    // A retry of an acknowledged request after the restart answers with the same order, no new unit.
    const [key, orderId] = acked.entries().next().value!;
    const retry = await request(`${second.url}/api/v1/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ sku: 'phone', userId: `user-${key}`, qty: 1 }),
    });
    expect([retry.statusCode, ((await retry.body.json()) as { orderId: string }).orderId]).toEqual([201, orderId]);
    // The rebuilt per-user table still knows who bought.
    const again = await request(`${second.url}/api/v1/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'phone', userId: `user-${key}`, qty: 1 }),
    });
    expect(again.statusCode).toBe(429);
    await again.body.dump();
    expect(((await (await request(`${second.url}/api/v1/inventory/phone`)).body.json()) as Record<string, number>).sold).toBe(orders.length);

    second.child.kill('SIGTERM');
    await exited(second.child);
    expect(second.child.exitCode).toBe(0);
  });
});
