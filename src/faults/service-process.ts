// A checkout service run as its own process, so a fault can SIGKILL it and start it again on the same
// ledger file and port: the built-in service (`flashsale serve`, builtInServe below), or any program
// that prints its URL as the first line of stdout once it listens and answers GET /healthz with 200 when
// ready (the test fixtures do). It reports how long each start took, keeps the tail of what the service
// logged, and notices a process that ended without being asked.
//
// Restart on the same port and ledger: `serve` guards its port with an abstract unix socket that the
// kernel frees when the process dies however it dies, and holds its SQLite ledger with an exclusive lock
// that also dies with the process (docs/service.md), so the restarted process gets both at once. Its
// listening sockets set SO_REUSEADDR (Node's default), so connections the kill left in TIME_WAIT do not
// hold the port either. With the same sale it continues the sale from the ledger's orders.
//
// The admin token goes to the child in FLASHSALE_ADMIN_TOKEN, never in argv (ps shows argv to every
// user of the machine).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';
import { FaultError, messageOf } from '../errors.ts';
import type { ServiceUnderFault } from './kind.ts';

export const SERVE_BIN = fileURLToPath(new URL('../../bin/flashsale.js', import.meta.url));
export const ADMIN_TOKEN_ENV = 'FLASHSALE_ADMIN_TOKEN';
// A start on a 2-core machine other processes keep busy took up to 30 s (docs/faults.md): room to spare.
export const START_TIMEOUT_MS = 60_000;
const STDERR_KEEP_CHARS = 32 * 1024;
const HEALTH_POLL_MS = 25;
const IPC_TIMEOUT_MS = 10_000;

export interface ServiceProcessOptions {
  /** The program to run (process.execPath for a Node entry). */
  file: string;
  /** Its arguments for a start on `port` (0 at the first start when the kernel may choose). */
  args(port: number): string[];
  /** The port of the first start; 0: any free port, and every restart then reuses the one it got. */
  port: number;
  threads: number;
  adminToken?: string;
  /** Added to this process's environment (the admin token is set from adminToken, never from here). */
  env?: NodeJS.ProcessEnv;
  /** Open an IPC channel, through which crashThread asks the service to crash a thread (service/fault-messages.ts). */
  ipc?: boolean;
  startTimeoutMs?: number;
  /** Each line the service writes to stderr. */
  log?(line: string): void;
  /** Each end of a process that got through its start: asked (stop, kill) or not. */
  onExit?(exit: UnexpectedExit & { asked: boolean }): void;
}

export interface StartInfo {
  pid: number;
  url: string;
  /** Spawn → its URL on stdout (listening). */
  startMs: number;
  /** Spawn → /healthz answered 200. */
  healthyMs: number;
  /** What it said about its ledger at start: "continuing sale 1 with 312 orders", "new sale 1". */
  recovered: string | null;
}

/** An end of the process, after it started, that nobody asked for (it crashed, or something else killed it). */
export interface UnexpectedExit {
  pid: number;
  code: number | null;
  signal: string | null;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

export class ServiceProcess implements ServiceUnderFault {
  readonly threads: number;
  readonly unexpectedExits: UnexpectedExit[] = [];
  readonly #o: ServiceProcessOptions;
  readonly #dispatcher = new Agent({ connections: 1, headersTimeout: 2_000, bodyTimeout: 2_000 });
  #child: ChildProcess | null = null;
  #port: number;
  #url: string | null = null;
  #stderr = '';
  #recovered: string | null = null;
  #expectingExit = false;
  /** The current process got through its start: an end after that nobody asked for is unexpected. */
  #ready = false;
  #ipcSeq = 0;

  constructor(options: ServiceProcessOptions) {
    this.#o = options;
    this.#port = options.port;
    this.threads = options.threads;
  }

  get url(): string {
    if (this.#url === null) throw new FaultError('the service has not started');
    return this.#url;
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** The last of what the service wrote to stderr, across restarts. */
  stderr(): string {
    return this.#stderr;
  }

  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Starts it; resolves once it listens and /healthz answers 200. */
  async start(): Promise<StartInfo> {
    if (this.running) throw new FaultError('the service is already running');
    const started = performance.now();
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.#o.env };
    delete env[ADMIN_TOKEN_ENV];
    if (this.#o.adminToken !== undefined) env[ADMIN_TOKEN_ENV] = this.#o.adminToken;
    const child = spawn(this.#o.file, this.#o.args(this.#port), { stdio: ['ignore', 'pipe', 'pipe', ...(this.#o.ipc ? (['ipc'] as const) : [])], env });
    this.#child = child;
    this.#expectingExit = false;
    this.#ready = false;
    this.#recovered = null;
    // spawned with stdio 'pipe', so stderr and stdout exist
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.#stderr = `${this.#stderr}${line}\n`.slice(-STDERR_KEEP_CHARS);
      const said = /(continuing sale \d+ with [^.;]*|new sale \d+[^.;]*)/.exec(line);
      if (said && this.#recovered === null) this.#recovered = said[1];
      this.#o.log?.(line);
    });
    child.once('exit', (code, signal) => {
      // An end during the start is that start's failure (start() rejects with why), not an unexpected exit.
      if (this.#ready && !this.#expectingExit && child.pid !== undefined) this.unexpectedExits.push({ pid: child.pid, code, signal });
      if (this.#ready && child.pid !== undefined) this.#o.onExit?.({ pid: child.pid, code, signal, asked: this.#expectingExit });
    });
    const timeoutMs = this.#o.startTimeoutMs ?? START_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new FaultError(`the service did not print its URL within ${timeoutMs / 1000} s`)), timeoutMs);
      // stdio 'pipe': stdout exists
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve(line.trim());
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new FaultError(`could not start the service: ${e.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        // stderr may still be arriving: give it a moment, so the message says why.
        setTimeout(() => reject(new FaultError(`the service exited (${signal ?? `code ${code}`}) before listening: ${this.#stderr.trim().split('\n').slice(-3).join(' | ')}`)), 50);
      });
    }).catch(async (e: unknown) => {
      await this.#end('SIGKILL');
      throw e;
    });
    const startMs = Math.round(performance.now() - started);
    this.#url = url;
    this.#port = Number(new URL(url).port);
    await this.waitHealthy(Math.max(1, deadline - Date.now())).catch(async (e: unknown) => {
      await this.#end('SIGKILL');
      throw e;
    });
    this.#ready = true;
    // it printed its URL, so it was spawned and has a pid
    return { pid: child.pid!, url, startMs, healthyMs: Math.round(performance.now() - started), recovered: this.#recovered };
  }

  /** Resolves with the ms it waited once GET /healthz answers 200; rejects with FaultError after timeoutMs. */
  async waitHealthy(timeoutMs: number): Promise<number> {
    const started = performance.now();
    let last = 'no answer';
    while (performance.now() - started < timeoutMs) {
      if (!this.running) throw new FaultError(`the service exited while waiting for /healthz: ${this.#stderr.trim().split('\n').slice(-3).join(' | ')}`);
      try {
        const res = await request(`${this.url}/healthz`, { dispatcher: this.#dispatcher, signal: AbortSignal.timeout(1_000) });
        const text = await res.body.text();
        if (res.statusCode === 200) return Math.round(performance.now() - started);
        last = `${res.statusCode} ${text.slice(0, 200)}`;
      } catch (e) {
        last = messageOf(e);
      }
      await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
    }
    throw new FaultError(`the service's /healthz did not answer 200 within ${timeoutMs / 1000} s (last: ${last})`);
  }

  /** SIGKILL: no shutdown code runs, nothing is flushed that was not already. Resolves once it is gone. */
  async kill(): Promise<{ pid: number; exit: string }> {
    const child = this.#child;
    if (child === null || child.pid === undefined) throw new FaultError('the service is not running');
    if (!this.running) return { pid: child.pid, exit: `it had already exited (${child.signalCode ?? `code ${child.exitCode}`})` };
    await this.#end('SIGKILL');
    return { pid: child.pid, exit: child.signalCode ?? `code ${child.exitCode}` };
  }

  /** Starts it again on the same port (and, through its arguments, the same ledger). */
  async restart(): Promise<StartInfo> {
    if (this.running) await this.kill();
    return this.start();
  }

  /** Asks the service, over IPC, to crash HTTP thread `index` (service/fault-messages.ts must be listening there). */
  async crashThread(index: number): Promise<void> {
    if (!this.#o.ipc || !this.running) throw new FaultError('crash a thread: the service was not started with an IPC channel');
    const reply = (await this.ask({ flashsale: 'fault', crash: 'http', index }, 'fault-done', IPC_TIMEOUT_MS).catch((e: unknown) => {
      throw new FaultError(`crash thread ${index}: ${messageOf(e)} (does it accept fault messages?)`);
    })) as { error?: unknown }; // a fault-done reply: error is checked below
    if (typeof reply.error === 'string') throw new FaultError(`crash thread ${index}: ${reply.error}`);
  }

  /**
   * Sends `message` (with an id added) over the IPC channel and resolves with the reply
   * {flashsale: doneType, id}; rejects when the process does not answer within timeoutMs.
   */
  async ask(message: Record<string, unknown>, doneType: string, timeoutMs: number): Promise<unknown> {
    const child = this.#child;
    if (!this.#o.ipc || !child?.send || !this.running) throw new FaultError('the service was not started with an IPC channel, or is not running');
    const id = ++this.#ipcSeq;
    return new Promise<unknown>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const timer = setTimeout(() => {
        done();
        reject(new FaultError(`no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const onMessage = (m: unknown) => {
        const msg = m as { flashsale?: unknown; id?: unknown }; // every field read as unknown and checked below
        if (msg?.flashsale !== doneType || msg.id !== id) return;
        done();
        resolve(m);
      };
      const onExit = () => {
        done();
        reject(new FaultError('the process ended before answering'));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      // spawned with an 'ipc' channel (the ipc option), so send exists
      child.send!({ ...message, id });
    });
  }

  /** SIGTERM (a clean shutdown), SIGKILL if it has not exited within `ms`; its exit code (null: a signal). */
  async stop(ms = 15_000): Promise<number | null> {
    const child = this.#child;
    if (child && this.running) {
      this.#expectingExit = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      await exited(child);
      clearTimeout(timer);
    }
    await this.#dispatcher.destroy().catch(() => undefined);
    return child?.exitCode ?? null;
  }

  async #end(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    this.#expectingExit = true;
    child.kill(signal);
    await exited(child);
  }
}

export interface BuiltInServeOptions {
  /** SQLite ledger file: the one a restart continues from. */
  ledger: string;
  port?: number;
  host?: string;
  threads: number;
  adminToken: string;
  /** More `serve` options: the sale (--sale file, or --sku/--stock/--per-user-limit), --strategy, … */
  serveArgs?: string[];
  ipc?: boolean;
  log?(line: string): void;
}

/** `flashsale serve` as its own process, on 127.0.0.1, with a ledger file. */
export function builtInServe(o: BuiltInServeOptions): ServiceProcess {
  if (o.ledger === ':memory:') throw new FaultError('a service that is killed and restarted needs a ledger file, not :memory:');
  return new ServiceProcess({
    file: process.execPath,
    args: (port) => [SERVE_BIN, 'serve', '--host', o.host ?? '127.0.0.1', '--port', String(port), '--threads', String(o.threads), '--ledger', o.ledger, ...(o.serveArgs ?? [])],
    port: o.port ?? 0,
    threads: o.threads,
    adminToken: o.adminToken,
    ipc: o.ipc,
    log: o.log,
  });
}
