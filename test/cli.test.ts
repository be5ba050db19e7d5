import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BIN, flashsale } from './helpers/cli.ts';

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

describe('bin/flashsale.js on a Node without built-in type stripping (22.12–22.17)', () => {
  it('re-runs itself with --experimental-strip-types and really runs the command', async () => {
    // Node 24 with stripping turned off stands in for an older Node: the command must still do its work.
    const { stdout } = await promisify(execFile)(process.execPath, ['--no-experimental-strip-types', BIN, 'scenarios', '--json']);
    const presets = JSON.parse(stdout) as Array<{ name: string }>;
    expect(presets.map((p) => p.name)).toContain('redmi-1s-india-2014');
  });
});
