import { afterAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { request } from 'undici';
import { call } from './helpers/http.ts';
import { killAll, serve } from './helpers/serve.ts';

const BIN = new URL('../bin/flashsale.js', import.meta.url).pathname;
const run = promisify(execFile);

async function fails(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [BIN, ...args]);
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

describe('flashsale serve', () => {
  const dirs: string[] = [];
  afterAll(() => {
    killAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('prints its URL when ready and exits 0 after draining on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--threads', '2', '--sku', 'mi3', '--stock', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await request(`${url}/api/v1/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku":"mi3","userId":"u","qty":1}' });
    expect(r.statusCode).toBe(201);
    await r.body.dump();
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(stderr).toMatch(/SIGTERM: draining/);
    // Said at start: what the ledger means for a 201, and which sale this is.
    expect(stderr).toMatch(/^flashsale serve: ledger :memory: — a 201 is NOT durable/m);
    expect(stderr).toMatch(/^flashsale serve: new sale 1$/m);
  });

  it('rejects bad options with exit 2 and names them', async () => {
    const opens = await fails('serve', '--opens-at', 'tomorrow-ish');
    expect(opens.code).toBe(2);
    expect(opens.stderr).toMatch(/--opens-at "tomorrow-ish"/);
    const dir = mkdtempSync(join(tmpdir(), 'flashsale-serve-'));
    try {
      const file = join(dir, 'sale.json');
      writeFileSync(file, JSON.stringify({ skus: [{ id: 'a', stock: 1.5 }], perUserLimit: -1 }));
      const bad = await fails('serve', '--sale', file);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/skus\.0\.stock/);
      expect(bad.stderr).toMatch(/perUserLimit/);
      writeFileSync(file, JSON.stringify({ skus: [{ id: 'a', stock: 1 }], perUserLimit: 0 }));
      const zero = await fails('serve', '--sale', file);
      expect([zero.code, zero.stderr]).toEqual([2, expect.stringMatching(/perUserLimit: 0 is not a limit; write "none"/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes the admin token from --admin-token-file or FLASHSALE_ADMIN_TOKEN, and sells a SKU named constructor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flashsale-serve-token-'));
    dirs.push(dir);
    const token = 'file-token-0123456789abcdef';
    const file = join(dir, 'token');
    writeFileSync(file, `${token}\n`);
    const a = await serve(['--port', '0', '--threads', '1', '--sku', 'constructor', '--stock', '3', '--admin-token-file', file]);
    expect((await call(a.url, 'POST', '/api/v1/checkout', { sku: 'constructor', userId: 'u', qty: 1 })).status).toBe(201);
    expect((await call(a.url, 'GET', '/admin/orders', undefined, { authorization: 'Bearer file-token-0123456789abcdeX' })).status).toBe(401);
    const orders = await call(a.url, 'GET', '/admin/orders', undefined, { authorization: `Bearer ${token}` });
    expect([orders.status, orders.json?.sku]).toEqual([200, 'constructor']);
    expect(await a.stop()).toBe(0);

    const envToken = 'env-token-0123456789abcdef';
    const b = await serve(['--port', '0', '--threads', '1'], { FLASHSALE_ADMIN_TOKEN: envToken });
    expect((await call(b.url, 'GET', '/admin/orders', undefined, { authorization: `Bearer ${envToken}` })).status).toBe(200);
    expect(await b.stop()).toBe(0);
    expect(b.stderr()).toMatch(/admin routes on/);

    const both = await fails('serve', '--admin-token', token, '--admin-token-file', file);
    expect([both.code, both.stderr]).toEqual([2, expect.stringMatching(/--admin-token and --admin-token-file: give one/)]);
  });
});
