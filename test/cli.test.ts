import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BIN, flashsale, flashsaleWith } from './helpers/cli.ts';

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

  it('on a usage error prints the error and one line pointing at --help, not the whole help', async () => {
    const r = await flashsale('run', '--bogus', 'x');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(["error: unknown option '--bogus'", '(flashsale run --help lists every option)']);
  });

  it('with no arguments prints the usage on stderr and exits 2', async () => {
    const r = await flashsale();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: flashsale/);
    expect(r.stderr).toMatch(/no command given/);
  });

  it('top-level help lists run first, with two examples', async () => {
    const r = await flashsale('--help');
    const commands = r.stdout.slice(r.stdout.indexOf('Commands:')).split('\n').slice(1).filter((l) => /^ {2}\w/.test(l));
    expect(commands[0]).toMatch(/^ {2}run /);
    expect(r.stdout.slice(r.stdout.indexOf('Examples:')).match(/^ {2}flashsale run /gm)).toHaveLength(2);
  });

  it('run --help lists the exit codes, the defaults and what is required', async () => {
    const r = await flashsale('run', '--help');
    for (const code of ['0 ', '99 ', '3 ', '4 ', '105 ', '2 ', '1 ']) expect(r.stdout).toContain(`\n  ${code}`);
    for (const d of ["load.workers", 'min(2, CPUs)', "load.seed", "load.maxDuration", 'reports/<scenario>-<time>/', '127.0.0.1 and a free port']) expect(r.stdout).toContain(d);
    expect(r.stdout).toMatch(/scenario\s+a scenario file[\s\S]*\(required\)/);
  });

  it('a reader that closes the pipe early (`run --help | head -1`) ends it quietly: no EPIPE stack trace', async () => {
    // The reader is gone before the help is written (as when `head -1` has its line from an earlier writer).
    const child = spawn(process.execPath, [BIN, 'run', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|\bat .*:\d+:\d+/);
    expect(code).toBe(0);
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

describe('bin/flashsale.js and the compile cache', () => {
  it('keeps the compiled modules in NODE_COMPILE_CACHE (reused on the next start), and none with NODE_DISABLE_COMPILE_CACHE=1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flashsale-compile-cache-'));
    const off = mkdtempSync(join(tmpdir(), 'flashsale-compile-cache-off-'));
    try {
      for (let i = 0; i < 2; i++) {
        const run = await flashsaleWith({ env: { NODE_COMPILE_CACHE: dir } }, 'scenarios', '--json');
        expect(run.code, run.stderr).toBe(0);
        expect(JSON.parse(run.stdout)).not.toHaveLength(0);
      }
      const files = readdirSync(dir, { recursive: true });
      expect(files.length, 'cache entries written').toBeGreaterThan(10);
      const disabled = await flashsaleWith({ env: { NODE_COMPILE_CACHE: off, NODE_DISABLE_COMPILE_CACHE: '1' } }, 'scenarios', '--json');
      expect(disabled.code, disabled.stderr).toBe(0);
      expect(readdirSync(off)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(off, { recursive: true, force: true });
    }
  });
});
