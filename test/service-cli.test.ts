import { describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { request } from 'undici';

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
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
