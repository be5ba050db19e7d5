// The service owns its port. Its HTTP threads listen with reusePort (the kernel spreads connections
// over them), and reusePort lets any other socket with that option join the port: a second flashsale on
// the same port used to start without a word, and the kernel split buyers between two stock counters
// that each sold all the stock. So, before the threads bind:
//
// 1. A guard per port number, held for the service's life. On Linux, an abstract unix socket
//    "\0flashsale/port/<port>": bind is atomic (of two services starting at the same moment exactly one
//    wins) and the kernel frees it when the process ends, however it ends: no stale lock to detect. Its
//    holder answers a connection with its pid and URL, so the refusal names it. Elsewhere, a lock file in
//    the temp directory created exclusively, holding the pid; a lock whose pid is gone is stale and taken
//    over (best effort: two starts racing over the same stale file can both win).
// 2. A probe: listen on host:port without reusePort, then close. It fails if anything holds the port,
//    with reusePort or not, flashsale or not (an older flashsale without the guard, any other server).
//
// Why not simply keep a socket without reusePort on the port as the guard: the threads' own reusePort
// binds would then fail as well. What is left: a process that is not flashsale binding the port with
// reusePort in the milliseconds between the probe and the threads' bind.
import { createConnection, createServer, type Server } from 'node:net';
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeOf, PortInUseError, UsageError } from '../errors.ts';
import { describePortHolder } from './port-holder.ts';

export interface PortGuard {
  release(): void;
}

export type GuardMechanism = 'abstract-socket' | 'lock-file';

interface Holder { pid: number; url: string }

function refused(port: number, holder: Holder): PortInUseError {
  return new PortInUseError(
    `port ${port} is already served by another flashsale service (pid ${holder.pid}, ${holder.url}): two services on one port would split buyers between two stocks and sell them twice. Stop it, or pick another --port.`,
  );
}

/** Takes the guard of `port` for this process, or throws PortInUseError naming the flashsale that holds it. */
export async function guardPort(port: number, url: string, mechanism: GuardMechanism = process.platform === 'linux' ? 'abstract-socket' : 'lock-file'): Promise<PortGuard> {
  const me: Holder = { pid: process.pid, url };
  return mechanism === 'abstract-socket' ? abstractGuard(port, me) : fileGuard(port, me);
}

async function abstractGuard(port: number, me: Holder): Promise<PortGuard> {
  const name = `\0flashsale/port/${port}`;
  for (let attempt = 0; ; attempt++) {
    const server = createServer((socket) => socket.end(`${JSON.stringify(me)}\n`));
    const bound = await new Promise<Error | null>((resolve) => {
      server.once('error', resolve);
      server.listen(name, () => resolve(null));
    });
    if (bound === null) {
      server.unref();
      return { release: () => void server.close() };
    }
    if (codeOf(bound) !== 'EADDRINUSE') throw bound;
    const holder = await askHolder(name);
    // Refused: the holder is closing right now; its name is free a moment later.
    if (holder === null && attempt < 3) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    throw refused(port, holder ?? { pid: 0, url: 'not answering' });
  }
}

function askHolder(name: string): Promise<Holder | null> {
  return new Promise((resolve) => {
    let text = '';
    const socket = createConnection(name);
    const done = (h: Holder | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(h);
    };
    const timer = setTimeout(() => done(null), 1000);
    socket.setEncoding('utf8');
    socket.on('data', (d) => (text += d));
    socket.on('end', () => {
      try {
        done(JSON.parse(text) as Holder); // the holder file another flashsale wrote
      } catch {
        done(null);
      }
    });
    socket.on('error', () => done(null));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return codeOf(e) === 'EPERM'; // exists, owned by someone else
  }
}

function fileGuard(port: number, me: Holder): PortGuard {
  const file = join(tmpdir(), `flashsale-port-${port}.lock`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return { release: () => rmSync(file, { force: true }) };
    } catch (e) {
      if (codeOf(e) !== 'EEXIST') throw e;
    }
    let holder: Holder | null = null;
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as Holder; // the holder file another flashsale wrote
    } catch {
      // half-written or unreadable: treat as stale below
    }
    if (holder !== null && alive(holder.pid)) throw refused(port, holder);
    try {
      renameSync(file, `${file}.stale-${process.pid}`); // one of several racing starts moves it
      rmSync(`${file}.stale-${process.pid}`, { force: true });
    } catch {
      // another start moved it first: try to create again
    }
  }
  throw new PortInUseError(`port ${port}: could not take the lock ${file} (other services keep starting on it).`);
}

/** Claims `port` for this service (the guard) and checks nothing else listens on it (the probe);
 * the guard is released again when the probe fails. Port 0 (the kernel picks) needs neither: null. */
export async function claimPort(host: string, port: number, url: string): Promise<PortGuard | null> {
  if (port === 0) return null;
  const guard = await guardPort(port, url);
  try {
    await probePort(host, port);
  } catch (e) {
    guard.release();
    throw e;
  }
  return guard;
}

/** Listens on host:port without reusePort and closes: throws PortInUseError naming whoever holds it. */
export async function probePort(host: string, port: number): Promise<void> {
  const server: Server = createServer();
  const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    server.once('error', resolve);
    server.listen({ host, port, exclusive: true }, () => resolve(null));
  });
  if (error === null) return new Promise((resolve) => server.close(() => resolve()));
  if (error.code === 'EADDRINUSE') throw portTaken(host, port);
  throw new UsageError(`cannot listen on ${host}:${port}: ${error.code ?? error.message}`);
}

/** The refusal for a port some process listens on (found through /proc where possible). */
export function portTaken(host: string, port: number): PortInUseError {
  return new PortInUseError(
    `${host}:${port} is in use by ${describePortHolder(port)}. A second service there would split buyers between two stocks; stop that process or pick another --port.`,
  );
}
