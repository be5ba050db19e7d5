// Two ways tests run the CLI: as a user does (a child process on bin/flashsale.js), or in-process
// through main() with console captured, which is faster where no process boundary is under test.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { vi } from 'vitest';
import { main } from '../../src/cli/main.ts';

const exec = promisify(execFile);
export const BIN = new URL('../../bin/flashsale.js', import.meta.url).pathname;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `flashsale ...args` in a child process on this Node; never throws on a non-zero exit. */
export async function flashsale(...args: string[]): Promise<CliRun> {
  return flashsaleWith({}, ...args);
}

/** As flashsale(), with extra environment variables (e.g. FLASHSALE_ADMIN_TOKEN) and arguments for
 * Node itself (e.g. --import of a test hook). */
export async function flashsaleWith(options: { env?: Record<string, string>; nodeArgs?: string[] }, ...args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], { timeout: 120_000, maxBuffer: 64 << 20, env: { ...process.env, ...options.env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

export interface SpawnedCli {
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  done: Promise<CliRun & { signal: NodeJS.Signals | null }>;
}

/** `flashsale ...args` as a child process the test can signal; `done` settles when it exits. */
export function spawnFlashsale(args: string[], options: { env?: Record<string, string> } = {}): SpawnedCli {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout: out, stderr: err })),
  );
  return { child, stderr: () => err, done };
}

/** `flashsale ...args` in this process through main(), console.log/error and stderr writes captured. */
export async function cliInProcess(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' '))),
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' '))),
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true)),
  ];
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    for (const spy of spies) spy.mockRestore();
    // A command sets process.exitCode for the CLI; it must not become the test process's own.
    process.exitCode = undefined;
  }
}
