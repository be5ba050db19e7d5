// A scenario's faults in a real run (#15): what must hold before any load (preflightFaults), and the rig
// that makes them possible — the built-in service as its own killable process, a Toxiproxy proxy
// between the crowd and the target for network faults — then the schedule, started at the sale's
// opening (t0) and stopped when the load ends, its records completed with what the crowd saw.
// run-scenario.ts calls it; src/faults does the injecting.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { ScenarioError } from '../errors.ts';
import {
  builtInServe,
  checkFaults,
  findToxiproxyServer,
  kindOf,
  scheduleFaults,
  startToxiproxy,
  withImpact,
  type FaultContext,
  type FaultRecord,
  type FaultSchedule,
  type FaultSpec,
  type ServiceProcess,
} from '../faults/index.ts';
import type { StoresUnderFault } from '../faults/kind.ts';
import type { ToxiproxyServer } from '../faults/toxiproxy/server.ts';
import type { IntervalSeries } from '../contract/result.ts';
import type { SaleDefinition } from '../contract/sale.ts';

/** Fault kinds that need the built-in service as its own process. */
const SERVICE_KINDS = new Set(['kill-service', 'kill-thread']);

export function needsServiceProcess(faults: readonly FaultSpec[]): boolean {
  return faults.some((f) => SERVICE_KINDS.has(kindOf(f).id));
}

/** A stop-postgres fault: the run puts a TCP gate between the service processes and PostgreSQL. */
export function needsPostgresGate(faults: readonly FaultSpec[]): boolean {
  return faults.some((f) => kindOf(f).id === 'stop-postgres');
}

export function needsNetwork(faults: readonly FaultSpec[]): boolean {
  return faults.some((f) => kindOf(f).id === 'network');
}

export interface FaultPreflight {
  faults: readonly FaultSpec[];
  /** The load goes to the built-in service (not --target or target.url). */
  builtIn: boolean;
  execAllowed: boolean;
  serviceThreads: number | undefined;
  ledgerPath: string;
  maxDurationMs: number;
  /** `run --service-processes N`: the built-in service is N processes on the shared stores. */
  stores?: { processes: number; ownRedis: boolean } | null;
}

/** Every reason the faults cannot run as asked, before any load: exit 2 (ScenarioError) naming the fault. */
export function preflightFaults(p: FaultPreflight, source: string): void {
  if (p.faults.length === 0) return;
  const stores = p.builtIn ? (p.stores ?? null) : null;
  const own = p.builtIn && stores === null && needsServiceProcess(p.faults);
  const problems = checkFaults(p.faults, {
    service: stores ? 'stores' : p.builtIn ? (own ? 'own-process' : 'in-process') : 'none',
    ...(stores ? { stores } : {}),
    threads: p.builtIn ? (p.serviceThreads ?? defaultThreads()) : null,
    execAllowed: p.execAllowed,
    maxDurationMs: p.maxDurationMs,
  });
  if (own && p.ledgerPath === ':memory:') problems.push('faults: killing the service needs a ledger file, and this run keeps none (:memory:): a restart would begin an empty sale');
  if (needsNetwork(p.faults)) {
    const found = findToxiproxyServer();
    if (found.path === null) problems.push(`faults: network faults need Toxiproxy: ${found.looked}`);
  }
  if (problems.length > 0) throw new ScenarioError(source, problems);
}

/** `serve`'s own default, so the faults' checks and the process agree on the threads. */
function defaultThreads(): number {
  return Math.min(2, availableParallelism());
}

export interface FaultRig {
  /** The built-in service as its own process, when the faults kill it. */
  service: ServiceProcess | null;
  /** Where the crowd goes: a Toxiproxy proxy in front of the target when there are network faults
   * (made here, once the target's URL is known), else the target itself. */
  crowdUrl(targetUrl: string): Promise<string>;
  /** Starts the schedule at the sale's opening (runLoad's onStart). */
  start(t0EpochMs: number): void;
  /** Stops the schedule (faults not yet hit: not reached; in effect: healed now) and adds each one's impact. */
  finish(intervals: IntervalSeries): Promise<FaultRecord[]>;
  close(): Promise<void>;
}

export interface RigOptions {
  faults: readonly FaultSpec[];
  builtIn: boolean;
  /** For the built-in service as its own process. */
  sale: SaleDefinition;
  ledgerPath: string;
  adminToken: string | undefined;
  serviceThreads: number | undefined;
  expectedUsers: number;
  seed: number | undefined;
  execAllowed: boolean;
  /** `run --service-processes N`: the processes and stores, started by run-scenario (service-processes.ts). */
  stores?: StoresUnderFault;
  log?(line: string): void;
}

/** Starts what the faults need (the service process, Toxiproxy); nothing for a run without faults. */
export async function rigFaults(o: RigOptions): Promise<FaultRig> {
  let service: ServiceProcess | null = null;
  let toxiproxy: ToxiproxyServer | null = null;
  let schedule: FaultSchedule | null = null;
  const context: FaultContext = { exec: { allowed: o.execAllowed, cwd: process.cwd(), env: process.env }, log: o.log, ...(o.stores ? { stores: o.stores } : {}) };
  const close = async () => {
    await schedule?.stop();
    await toxiproxy?.stop();
    await service?.stop();
  };
  try {
    if (o.builtIn && !o.stores && needsServiceProcess(o.faults)) {
      if (o.adminToken === undefined) throw new ScenarioError('faults', ['the built-in service needs an admin token']);
      const saleFile = join(dirname(o.ledgerPath), 'sale.json');
      writeFileSync(saleFile, `${JSON.stringify(o.sale)}\n`);
      const serveArgs = ['--sale', saleFile, '--expected-users', String(Math.min(2 ** 25, Math.max(1, o.expectedUsers)))];
      if (o.seed !== undefined) serveArgs.push('--seed', String(o.seed));
      service = builtInServe({ ledger: o.ledgerPath, threads: o.serviceThreads ?? defaultThreads(), adminToken: o.adminToken, serveArgs, ipc: true });
      await service.start();
      context.service = service;
    }
    if (needsNetwork(o.faults)) {
      const found = findToxiproxyServer();
      if (found.path !== null) {
        toxiproxy = await startToxiproxy(found.path);
        context.network = { client: toxiproxy.client, proxy: 'flashsale-crowd' };
      }
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    service,
    async crowdUrl(targetUrl) {
      if (!toxiproxy) return targetUrl;
      const target = new URL(targetUrl);
      const upstream = `${target.hostname}:${target.port || (target.protocol === 'https:' ? '443' : '80')}`;
      const proxy = await toxiproxy.client.createProxy('flashsale-crowd', '127.0.0.1:0', upstream);
      return `http://${proxy.listen}`;
    },
    start(t0EpochMs) {
      if (o.faults.length > 0) schedule = scheduleFaults(o.faults, { saleOpensAtEpochMs: t0EpochMs, context });
    },
    async finish(intervals) {
      const records = schedule ? await schedule.stop() : [];
      return withImpact(records, intervals);
    },
    close,
  };
}
