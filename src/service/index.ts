// The reference inventory/checkout service as a library: startService() opens (or recovers) the
// ledger, builds the shared sale state and starts N HTTP threads on one port (reusePort).
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { UsageError } from '../errors.ts';
import { isStrategy, STRATEGIES, type StrategyName } from '../stock/index.ts';
import { LedgerHost } from './ledger-host.ts';
import { createCommitStats } from '../ledger/commit-stats.ts';
import { parseSale, type SaleDefinition } from './sale.ts';
import { createSaleShared, startNewSale, type SaleShared } from './state.ts';
import { chooseSaleStart } from './continuation.ts';
import { defaultLog, type ServiceLog } from './log.ts';
import { claimPort, guardPort } from './port-guard.ts';
import { createRequestCounters } from './prometheus.ts';
import { createHealth, Health } from './health.ts';
import type { ServiceThreadData } from './thread-protocol.ts';
import { Supervisor } from './supervisor.ts';

export type { SaleDefinition } from './sale.ts';
export { fromWrittenSale, NO_LIMIT, parseSale } from './sale.ts';
export type { LogLevel, ServiceLog } from './log.ts';

export interface ServiceOptions {
  sale: SaleDefinition;
  /** 0 = ephemeral (the default here; the CLI defaults to 8080). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** HTTP worker threads, default min(2, cpus). */
  threads?: number;
  /** Stock core strategy, default 'atomic'. */
  strategy?: StrategyName;
  /** SQLite file, or ':memory:' (the default). */
  ledgerPath?: string;
  /** Admin routes are off when absent. */
  adminToken?: string;
  /**
   * Load shedding: past this many requests in flight on one thread, answer 503 + Retry-After. Default
   * 2048. A request counts from when its body has arrived: a slow upload holds a connection, not a slot.
   */
  maxInFlightPerThread?: number;
  /** A request's headers and body must arrive within this, or the connection gets 408 and is closed. Default 10 s. */
  requestTimeoutMs?: number;
  /** Open connections per HTTP thread; past it new connections are closed at once. Default 10,000. */
  maxConnectionsPerThread?: number;
  /** Sizes the per-user, reservation and idempotency tables. Default 100,000. */
  expectedUsers?: number;
  /** Payment decline randomness. Default 1. */
  seed?: number;
  /**
   * Begin a new sale even though the ledger's latest sale could be continued or differs from `sale`.
   * Without it, a start whose SKUs, stock or per-user limit differ from a latest sale with orders is
   * refused (SaleConflictError): replacing a sale silently lets its buyers buy again.
   */
  newSale?: boolean;
  /**
   * Start on a ledger file that fails its integrity check at start (a damaged write-ahead log or pages):
   * the commits SQLite cannot replay are lost, so acknowledged orders may be missing and their units
   * sold again. Copies of the damaged files are kept. Without it such a file is refused (LedgerDamagedError).
   */
  acceptLostOrders?: boolean;
  /** On close, how long requests in flight may take before their connections are cut. Default 10 s. */
  shutdownTimeoutMs?: number;
  /** Where the service reports start-up decisions and faults. Default: warnings and errors to stderr. */
  log?: ServiceLog;
}

/**
 * Fault injection for tests only: `service[FAULTS].crash('http', 0)` ends a thread the way a crash does
 * (Worker.terminate: no cleanup code of the thread runs). Only code that imports this symbol can reach
 * it, and nothing calls it on any request path; a signal handler would let anyone who can signal the
 * process kill threads in production. See test/helpers/faults.ts.
 */
export const FAULTS = Symbol('flashsale fault injection');

export interface RunningService {
  url: string;
  port: number;
  threads: number;
  /**
   * Stops taking requests, lets those in flight finish for up to shutdownTimeoutMs (then cuts them and
   * logs what), commits and closes the ledger. Rejects if the ledger thread died during the service's life.
   */
  close(): Promise<void>;
  [FAULTS]: { crash(thread: 'http' | 'ledger', index?: number): Promise<void> };
}

const ENTRY = new URL('./http-thread.ts', import.meta.url);
const MAX_THREADS = 64;
function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`${name} ${value} is not a whole number in [${min}, ${max}].`);
  return value;
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const sale = parseSale(options.sale);
  const threads = checkInt('threads', options.threads ?? Math.min(2, availableParallelism()), 1, MAX_THREADS);
  const port = checkInt('port', options.port ?? 0, 0, 65535);
  const host = options.host ?? '127.0.0.1';
  const strategy = options.strategy ?? 'atomic';
  if (!isStrategy(strategy)) throw new UsageError(`strategy "${strategy}" is not one of ${STRATEGIES.join(', ')}.`);
  const expectedUsers = checkInt('expectedUsers', options.expectedUsers ?? 100_000, 1, 2 ** 25);
  const maxInFlight = checkInt('maxInFlightPerThread', options.maxInFlightPerThread ?? 2048, 1, 2 ** 30);
  const requestTimeoutMs = checkInt('requestTimeoutMs', options.requestTimeoutMs ?? 10_000, 100, 3_600_000);
  const maxConnections = checkInt('maxConnectionsPerThread', options.maxConnectionsPerThread ?? 10_000, 1, 2 ** 30);
  const shutdownTimeoutMs = checkInt('shutdownTimeoutMs', options.shutdownTimeoutMs ?? 10_000, 0, 3_600_000);
  const capacity = { threads, expectedUsers };

  const channels = Array.from({ length: threads }, () => new MessageChannel());
  const ledgerMetrics = createCommitStats();
  const healthSab = createHealth();
  const log = options.log ?? defaultLog;
  const ledgerPath = options.ledgerPath ?? ':memory:';
  const urlOf = (p: number) => `http://${host.includes(':') ? `[${host}]` : host}:${p}`;
  // The port is this service's alone (see port-guard.ts): checked before the ledger is even opened.
  let guard = await claimPort(host, port, urlOf(port));
  let ledger: LedgerHost;
  try {
    ledger = await LedgerHost.start(ledgerPath, 'FULL', ledgerMetrics, channels.map((c) => c.port1), { acceptLostOrders: options.acceptLostOrders, health: healthSab });
  } catch (e) {
    guard?.release();
    throw e;
  }
  for (const warning of ledger.warnings) log('warn', warning);
  let supervisor: Supervisor | null = null;
  try {
    const latest = await ledger.latestSale();
    const start = chooseSaleStart(latest && { ...latest, recovery: await ledger.recover(latest.id) }, sale, options.newSale === true, ledgerPath);
    let shared: SaleShared;
    if (start.kind === 'continue') {
      shared = createSaleShared(start.saleId, sale, strategy, start.recovery, capacity);
      log('info', start.log);
    } else {
      shared = await startNewSale(ledger, sale, strategy, capacity);
      log('info', start.log(shared.saleId));
    }
    const metrics = createRequestCounters(threads);
    const spawn = (threadIndex: number, threadPort: number, current: SaleShared, ledgerPort: MessagePort): Worker => {
      const data: ServiceThreadData = {
        threadIndex,
        threads,
        host,
        // The first thread binds (maybe an ephemeral port); the others, and any restarted one, join it with reusePort.
        port: threadPort,
        sale: current,
        ledgerPort,
        metrics,
        ledgerMetrics,
        health: healthSab,
        adminToken: options.adminToken,
        maxInFlight,
        requestTimeoutMs,
        maxConnections,
        seed: options.seed ?? 1,
      };
      return new Worker(ENTRY, { workerData: data, transferList: [ledgerPort] });
    };
    supervisor = new Supervisor({ ledger, strategy, capacity, current: shared, log, health: new Health(healthSab), spawn });
    const boundPort = await supervisor.start(threads, host, port, channels.map((c) => c.port2));
    const url = urlOf(boundPort);
    // An ephemeral port is known only now; another service asked for it by number must still find it owned.
    guard ??= await guardPort(boundPort, url);
    const owned = guard;
    const running = supervisor;
    let closing: Promise<void> | null = null;
    return {
      url,
      port: boundPort,
      threads,
      close: () => (closing ??= running.close(shutdownTimeoutMs).finally(() => owned.release())),
      [FAULTS]: { crash: (thread, index = 0) => (thread === 'ledger' ? ledger.crash() : running.crash(index)) },
    };
  } catch (e) {
    await supervisor?.terminateAll();
    await ledger.close();
    guard?.release();
    throw e;
  }
}
