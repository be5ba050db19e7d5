// Starts a Toxiproxy server of flashsale's own: on 127.0.0.1 only (its API has no authentication, and
// its default host "localhost" may also mean ::1), on a free port (its default 8474 may be another
// user's Toxiproxy), as a child process that stop() ends. The binary is the one `npm run
// toxiproxy:install` builds into .tools/bin/toxiproxy-server, or FLASHSALE_TOXIPROXY_SERVER, or
// toxiproxy-server on PATH.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaultError } from '../../errors.ts';
import { ToxiproxyClient } from './client.ts';
import { freePort } from '../../common/free-port.ts';

export const TOXIPROXY_SERVER_ENV = 'FLASHSALE_TOXIPROXY_SERVER';
export const INSTALLED_SERVER = fileURLToPath(new URL('../../../.tools/bin/toxiproxy-server', import.meta.url));
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const LOG_KEEP_BYTES = 16 * 1024;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The server binary to run, or null with the places looked at. */
export function findToxiproxyServer(env: NodeJS.ProcessEnv = process.env): { path: string } | { path: null; looked: string } {
  const named = env[TOXIPROXY_SERVER_ENV];
  if (named) return executable(named) ? { path: named } : { path: null, looked: `${TOXIPROXY_SERVER_ENV}=${named} is not an executable file` };
  if (executable(INSTALLED_SERVER)) return { path: INSTALLED_SERVER };
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'toxiproxy-server'))) return { path: join(dir, 'toxiproxy-server') };
  }
  return { path: null, looked: `no ${INSTALLED_SERVER} (npm run toxiproxy:install builds it), no toxiproxy-server on PATH, ${TOXIPROXY_SERVER_ENV} not set` };
}

export interface ToxiproxyServer {
  /** http://127.0.0.1:<port> of its API. */
  url: string;
  client: ToxiproxyClient;
  pid: number;
  /** The last of what it logged, for messages. */
  log(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  stop(): Promise<void>;
}


function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

async function attempt(binary: string, port: number): Promise<ToxiproxyServer | string> {
  const child = spawn(binary, ['-host', HOST, '-port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer) => {
    log = (log + d.toString('utf8')).slice(-LOG_KEEP_BYTES);
  };
  // spawned with stdio 'pipe': both streams exist
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep); // as above
  let startError: string | null = null;
  child.once('error', (e) => (startError = e.message));
  const url = `http://${HOST}:${port}`;
  const client = new ToxiproxyClient(url);
  const stop = async () => {
    await client.close();
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited(child);
    clearTimeout(timer);
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (startError !== null) return `${binary}: ${startError}`;
    if (child.exitCode !== null || child.signalCode !== null) {
      await client.close();
      return `exited (${child.exitCode ?? child.signalCode}) before its API answered: ${log.trim().split('\n').slice(-3).join(' | ')}`;
    }
    try {
      await client.version();
      return { url, client, pid: child.pid!, log: () => log, stop }; // it answered, so it was spawned and has a pid
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await stop();
  return `its API at ${url} did not answer within ${START_TIMEOUT_MS / 1000} s`;
}

/** Starts it on 127.0.0.1 and a free port; a few tries, since another process may take the port first. */
export async function startToxiproxy(binary: string): Promise<ToxiproxyServer> {
  let why = '';
  for (let i = 0; i < 3; i++) {
    const started = await attempt(binary, await freePort(HOST));
    if (typeof started !== 'string') return started;
    why = started;
  }
  throw new FaultError(`could not start Toxiproxy (${binary}): ${why}`);
}
