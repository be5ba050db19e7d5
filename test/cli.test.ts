import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = new URL('../bin/flashsale.js', import.meta.url).pathname;

async function flashsale(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('flashsale CLI', () => {
  it('prints help and exits 0', async () => {
    const r = await flashsale('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: flashsale/);
  });
  it('rejects an unknown option with exit 2 and names it', async () => {
    const r = await flashsale('--no-such-flag');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--no-such-flag'/);
  });
});
