// `flashsale serve` in a child process, as a user runs it: resolves with its URL (the first stdout
// line) once it listens, or rejects with its exit code and stderr if it stops first.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BIN } from './cli.ts';

export interface Served {
  child: ChildProcess;
  url: string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code once the child is gone (null if a signal ended it). */
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code; SIGKILL if it has not exited within `ms`. */
  stop(ms?: number): Promise<number | null>;
}

export class ServeExited extends Error {
  readonly code: number | null;
  readonly stderr: string;
  constructor(code: number | null, stderr: string) {
    super(`serve exited (code ${code}) before listening:\n${stderr}`);
    this.code = code;
    this.stderr = stderr;
  }
}

/** Every child started here, so a test's afterAll can kill what a failed assertion left running. */
export const started = new Set<ChildProcess>();

export function killAll(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  started.clear();
}

export function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  started.add(child);
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (ms = 15_000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (url) => resolve({ child, url, stderr: () => err, exited, stop }));
    // stdout ends before 'exit' fires; wait for both so stderr is complete.
    void exited.then((code) => setImmediate(() => reject(new ServeExited(code, err))));
  });
}

/** Runs `serve` expecting it to refuse to start: resolves with its exit code and stderr. */
export async function serveRefused(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  try {
    const s = await serve(args, env);
    await s.stop();
    throw new Error(`serve ${args.join(' ')} started (${s.url}) but was expected to refuse`);
  } catch (e) {
    if (e instanceof ServeExited) return { code: e.code, stderr: e.stderr };
    throw e;
  }
}
