// Runs one command for an exec fault, bounded in time and in what it keeps: the exit code (or the
// signal), how long it took, and stdout/stderr kept to their first and last OUTPUT_KEEP_BYTES each (the
// rest counted, not kept), so a chatty or endless command cannot fill memory or result.json.
//
// It runs in a process group of its own, so a timeout ends the command and whatever it started
// (`sh -c "docker restart shop"` and docker itself): SIGTERM to the group, SIGKILL after KILL_GRACE_MS.
// A command that exits normally is left alone, children and all (a heal command may start a daemon).
import { spawn } from 'node:child_process';

/** Bytes kept from the start and from the end of each stream. */
export const OUTPUT_KEEP_BYTES = 8 * 1024;
/** After SIGTERM on a timeout, the group gets this long before SIGKILL. */
export const KILL_GRACE_MS = 2_000;
/** After the command exits, its pipes get this long to close (a child it left running may hold them). */
const PIPE_GRACE_MS = 200;

export interface CommandSpec {
  file: string;
  args: string[];
  /** As the user wrote it, for the record and messages. */
  display: string;
}

export interface CommandResult {
  command: string;
  /** null when it did not exit by itself (a signal, or it could not start). */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
  /** Bytes the command wrote to each stream, kept or not. */
  stdoutBytes: number;
  stderrBytes: number;
  /** Why it could not run at all (ENOENT: no such program). */
  startError: string | null;
}

/** The first and last `keep` bytes of a stream, with the middle counted. */
class BoundedText {
  readonly #keep: number;
  #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer = Buffer.alloc(0);
  bytes = 0;

  constructor(keep: number) {
    this.#keep = keep;
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    const room = this.#keep - this.#headBytes;
    if (room > 0) {
      const part = chunk.subarray(0, room);
      this.#head.push(part);
      this.#headBytes += part.length;
      chunk = chunk.subarray(part.length);
    }
    if (chunk.length > 0) {
      const joined = Buffer.concat([this.#tail, chunk]);
      this.#tail = joined.subarray(Math.max(0, joined.length - this.#keep));
    }
  }

  text(): string {
    const head = Buffer.concat(this.#head).toString('utf8');
    const cut = this.bytes - this.#headBytes - this.#tail.length;
    if (cut <= 0) return head + this.#tail.toString('utf8');
    return `${head}\n[… ${cut.toLocaleString('en-US')} bytes not kept …]\n${this.#tail.toString('utf8')}`;
  }
}

export function runCommand(command: CommandSpec, options: { timeoutMs: number; cwd: string; env: NodeJS.ProcessEnv; keepBytes?: number }): Promise<CommandResult> {
  const started = performance.now();
  const out = new BoundedText(options.keepBytes ?? OUTPUT_KEEP_BYTES);
  const err = new BoundedText(options.keepBytes ?? OUTPUT_KEEP_BYTES);
  return new Promise((resolve) => {
    let timedOut = false;
    let startError: string | null = null;
    const child = spawn(command.file, command.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const signalGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is already gone
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
    }, options.timeoutMs);
    let finished = false;
    const finish = (exitCode: number | null, signal: string | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      const durationMs = Math.round(performance.now() - started);
      const done = () =>
        resolve({ command: command.display, exitCode, signal, timedOut, durationMs, stdout: out.text(), stderr: err.text(), stdoutBytes: out.bytes, stderrBytes: err.bytes, startError });
      if (child.stdout.readableEnded && child.stderr.readableEnded) return done();
      // A child the command left running may hold the pipes open: read what is there, then let go.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        done();
      }, PIPE_GRACE_MS);
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      startError = `${e.code ?? 'error'}: ${e.message}`;
      finish(null, null);
    });
    child.once('exit', (code, signal) => finish(code, signal));
  });
}

/** One line about how a command ended: "exit 0 in 1.2 s", "timed out after 10 s (SIGTERM)". */
export function describeResult(r: CommandResult, timeoutMs: number): string {
  if (r.startError) return `could not start: ${r.startError}`;
  if (r.timedOut) return `timed out after ${timeoutMs / 1000} s and was ended (${r.signal ?? `exit ${r.exitCode}`})`;
  if (r.signal) return `ended by ${r.signal} after ${(r.durationMs / 1000).toFixed(1)} s`;
  return `exit ${r.exitCode} after ${(r.durationMs / 1000).toFixed(1)} s`;
}
