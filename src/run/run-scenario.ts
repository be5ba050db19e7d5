// `flashsale run` as a library: scenario → (built-in service) → load → audit inputs → judge → result.
// Data flows one way; every stage gets what the one before it produced and nothing reaches back.
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { checkTargetSale, fetchAuditInputs, type AuditInputs } from '../audit/index.ts';
import { runLoad, type LoadProgress } from '../load/index.ts';
import { describeEnvironment } from './environment.ts';
import { watchMachine } from '../measure/host-watch.ts';
import { judge } from '../judge/judge.ts';
import { RESULT_SCHEMA_VERSION, type AckedOrder, type RunResult } from '../contract/result.ts';
import type { LoadedScenario } from '../scenario/index.ts';
import { durationMs } from '../common/duration.ts';
import { perUserLimitOf, resolveOpensAt, stockOf, toLoadPlan, toSaleDefinition } from '../scenario/index.ts';
import { startService, type RunningService } from '../service/index.ts';
import type { ExecutionSegment } from '../schedule/index.ts';
import { messageOf, UsageError } from '../errors.ts';
import { needsPostgresGate, needsServiceProcess, preflightFaults, rigFaults, type FaultRig } from './faults-run.ts';
import { startServiceCluster, type ServiceCluster, type StoresRun } from './service-processes.ts';

export interface RunScenarioOptions {
  loaded: LoadedScenario;
  /** --target: overrides the scenario's target. Without it, the scenario's target.url, else the
   * built-in service started in-process with the scenario's sale. */
  targetUrl?: string;
  /** Bearer token for an external target's GET /admin/orders (the built-in service gets its own). */
  adminToken?: string;
  /** Where the built-in service keeps its ledger (a run's out dir); ':memory:' keeps none. */
  ledgerPath: string;
  workers?: number;
  serviceThreads?: number;
  seed?: number;
  maxDurationMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  /** `run --segment`: start only this share of the crowd (needs a shared external target). */
  segment?: ExecutionSegment;
  /** How often onProgress is called (ms; the load's default, 1 s, when absent). */
  progressEveryMs?: number;
  /** Called once the target is up, before load starts (the CLI prints where load goes). */
  onTargetReady?: (target: RunResult['target']) => void;
  /** --allow-exec: the scenario's exec faults may run their commands (docs/faults.md). */
  allowExec?: boolean;
  /** What the faults did, line by line (the CLI prints it unless --quiet). */
  log?: (line: string) => void;
  /** `run --service-processes N --stock-store … --ledger …`: the built-in service as N processes on the shared stores. */
  stores?: StoresRun | null;
}

/** Where the load goes: --target, else the scenario's own target.url, else the built-in service. */
export function resolveTarget(loaded: LoadedScenario, flag: string | undefined): { url: string | null; from: RunResult['target']['from'] } {
  if (flag !== undefined) return { url: flag, from: 'flag' };
  const t = loaded.scenario.target;
  if (t !== 'built-in') return { url: t.url, from: 'scenario' };
  return { url: null, from: 'built-in' };
}

export async function runScenario(options: RunScenarioOptions): Promise<RunResult> {
  const { scenario, raw } = options.loaded;
  const stock = stockOf(scenario);
  const startedAt = new Date();
  const resolved = resolveTarget(options.loaded, options.targetUrl);
  const builtIn = resolved.url === null;
  if (options.segment && builtIn) {
    throw new UsageError(`--segment ${options.segment.text}: a segment is one share of a crowd loading one shared service, so it needs --target or the scenario's target.url (a built-in service per machine would be as many separate sales); start one with \`flashsale serve\``);
  }
  const storesRun = options.stores ?? null;
  if (storesRun && !builtIn) {
    throw new UsageError(`--service-processes starts the built-in service on the shared stores, and the load would go to ${resolved.from === 'flag' ? '--target' : "the scenario's target.url"} ${resolved.url}: give one, not both`);
  }
  const adminToken = builtIn ? randomBytes(18).toString('base64url') : options.adminToken;
  // Resolved once so the service and the crowd agree on when the sale opens.
  const opensAt = resolveOpensAt(scenario.sale.opensAt, Date.now());
  const faults = scenario.faults ?? [];
  const maxDurationMs = options.maxDurationMs ?? durationMs(scenario.load.maxDuration);
  const storesSetting = storesRun && { processes: storesRun.processes, ownRedis: storesRun.stockStore === 'redis-server' };
  preflightFaults({ faults, builtIn, execAllowed: options.allowExec ?? false, serviceThreads: options.serviceThreads, ledgerPath: options.ledgerPath, maxDurationMs, stores: storesSetting }, options.loaded.path);
  let service: RunningService | null = null;
  let rig: FaultRig | null = null;
  let cluster: ServiceCluster | null = null;
  try {
    if (storesRun) {
      cluster = await startServiceCluster({
        run: storesRun,
        sale: toSaleDefinition(scenario, opensAt),
        dir: dirname(options.ledgerPath),
        adminToken: adminToken!, // built in: the token was made above
        threadsPerProcess: options.serviceThreads,
        seed: options.seed ?? scenario.load.seed,
        gate: needsPostgresGate(faults),
        log: options.log,
      });
    }
    // With faults that kill it, the built-in service runs as its own process (the rig starts it).
    rig = await rigFaults({
      faults,
      builtIn,
      sale: toSaleDefinition(scenario, opensAt),
      ledgerPath: options.ledgerPath,
      adminToken,
      serviceThreads: options.serviceThreads,
      expectedUsers: scenario.buyers.population,
      seed: options.seed ?? scenario.load.seed,
      execAllowed: options.allowExec ?? false,
      ...(cluster ? { stores: cluster.faults } : {}),
      log: options.log,
    });
    if (builtIn && !cluster && !needsServiceProcess(faults)) {
      service = await startService({
        sale: toSaleDefinition(scenario, opensAt),
        threads: options.serviceThreads,
        ledgerPath: options.ledgerPath,
        adminToken,
        expectedUsers: scenario.buyers.population,
        seed: options.seed ?? scenario.load.seed,
      });
    }
    const url = cluster?.url ?? service?.url ?? rig.service?.url ?? resolved.url ?? '';
    const target: RunResult['target'] = {
      url,
      builtIn,
      serviceThreads: cluster?.threadsPerProcess ?? service?.threads ?? rig.service?.threads ?? null,
      from: resolved.from,
      ...(cluster ? { stores: cluster.record } : {}),
    };
    // A foreign target must hold the scenario's sale, or the audit would blame it for our mistake.
    const warnings = builtIn ? [] : await checkTargetSale(url, stock.bySku);
    if (options.segment && !/^\d/.test(scenario.sale.opensAt)) {
      warnings.push(`segment ${options.segment.text}: sale.opensAt is "${scenario.sale.opensAt}", not an absolute time, so each machine's share starts when that machine starts: give the scenario an ISO 8601 opensAt so every segment starts together`);
    } else if (options.segment && opensAt === null) {
      warnings.push(`segment ${options.segment.text}: sale.opensAt ${scenario.sale.opensAt} had passed when this machine was ready (${Date.now() - Date.parse(scenario.sale.opensAt)} ms late), so its share started late, not with the other segments`);
    }
    options.onTargetReady?.(target);
    const crowdUrl = await rig.crowdUrl(url);
    const plan = { ...toLoadPlan(scenario, { targetUrl: crowdUrl, workers: options.workers, seed: options.seed, maxDurationMs: options.maxDurationMs }), ...(options.segment ? { segment: options.segment } : {}) };
    const serviceProcess = rig.service;
    const runningCluster = cluster;
    const machineWatch = watchMachine(
      runningCluster ? { children: () => runningCluster.pids() } : serviceProcess ? { children: () => (serviceProcess.pid === null ? [] : [serviceProcess.pid]) } : {},
    );
    const running = rig;
    // On the stores, every process ending with none to restart is a dead target: the crowd is stopped as
    // Ctrl-C stops it (no new buyer, in-flight requests finish), and the run goes on to audit and judge.
    const targetDown = new AbortController();
    let downDetail: string | null = null;
    let crowdStopped = false;
    runningCluster?.onAllDown((detail) => {
      downDetail = detail;
      if (options.signal?.aborted) return; // stopped from outside first: interrupted, as asked
      crowdStopped = true;
      options.log?.(`${detail}: the target is dead, so the crowd stops now; the audit still runs on what PostgreSQL holds`);
      targetDown.abort();
    });
    const loadSignal = runningCluster ? (options.signal ? AbortSignal.any([options.signal, targetDown.signal]) : targetDown.signal) : options.signal;
    const measured = await runLoad(plan, {
      signal: loadSignal,
      onProgress: options.onProgress,
      progressEveryMs: options.progressEveryMs,
      startAtEpochMs: opensAt ?? undefined,
      onStart: (t0) => {
        runningCluster?.loadStarted(t0);
        running.start(t0);
      },
    });
    runningCluster?.loadEnded();
    // The engine stopped as for Ctrl-C; the run says why it really did.
    const load = crowdStopped && measured.stopReason === 'interrupted' ? { ...measured, stopReason: 'target_down' as const } : measured;
    const machine = machineWatch.stop();
    // Ready in time is not started in time: the load workers may still have been starting at opensAt.
    const lateStartMs = options.segment && opensAt !== null ? load.t0EpochMs - opensAt : 0;
    if (options.segment && lateStartMs > SEGMENT_START_TOLERANCE_MS) {
      warnings.push(`segment ${options.segment.text}: its load started ${lateStartMs.toFixed(0)} ms after sale.opensAt (the load workers were still starting), so its share started late, not with the other segments`);
    }
    // Faults still in effect are healed now: the audit needs the target back.
    const faultRecords = await rig.finish(load.intervals);
    if (cluster) warnings.push(...cluster.warnings());
    let inputs = await fetchAuditInputs(url, [...stock.bySku.keys()], { adminToken });
    // On the stores the run reads the ledger from PostgreSQL itself: the audit does not take a process's word for it.
    if (cluster) inputs = await withDirectLedger(inputs, cluster, warnings);
    // Then each process's part: what it served, read before it is stopped; how each pid ended.
    const finalTarget: RunResult['target'] = cluster ? { ...target, stores: await cluster.finish(load.t0EpochMs, crowdStopped) } : target;
    const judged = judge({
      load,
      initialUnits: stock.total,
      audit: { inputs, perUserLimit: perUserLimitOf(scenario), initialStock: stock.bySku },
      thresholds: scenario.thresholds,
      sharedMachine: builtIn ? machine : null,
      faults: faultRecords,
      targetDown: downDetail,
    });
    return {
      ...load,
      ...judged,
      schemaVersion: RESULT_SCHEMA_VERSION,
      scenario: { name: scenario.name, description: scenario.description, definition: raw },
      environment: describeEnvironment(),
      target: finalTarget,
      machine,
      ...(warnings.length > 0 ? { warnings } : {}),
      ...(options.segment ? { segment: options.segment.text } : {}),
      ...(faultRecords.length > 0 ? { faults: faultRecords } : {}),
      startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(),
    };
  } finally {
    await service?.close();
    await rig?.close();
    for (const line of (await cluster?.close()) ?? []) options.log?.(line);
  }
}

/** How far after sale.opensAt a segment's load may start and still count as starting with the others. */
export const SEGMENT_START_TOLERANCE_MS = 50;

/** The audit's ledger read straight from PostgreSQL; what the service's GET /admin/orders said is kept
 * only to say so when the two differ (or when PostgreSQL could not be read, then the service's is used). */
export async function withDirectLedger(inputs: AuditInputs, cluster: ServiceCluster, warnings: string[]): Promise<AuditInputs> {
  let direct: AckedOrder[];
  try {
    direct = await cluster.readLedger();
  } catch (e) {
    warnings.push(`the ledger could not be read from PostgreSQL directly (${messageOf(e)}): the audit used the service's GET /admin/orders`);
    return inputs;
  }
  const served = inputs.ledgerOrders;
  if (served !== null) {
    const ids = new Set(direct.map((o) => o.orderId));
    const extra = served.filter((o) => !ids.has(o.orderId)).length;
    if (served.length !== direct.length || extra > 0) {
      warnings.push(`GET /admin/orders answered ${served.length} orders (${extra} not in PostgreSQL), and PostgreSQL holds ${direct.length}: the audit used PostgreSQL`);
    }
  }
  const unavailable = { ...inputs.unavailable };
  delete unavailable.ledger;
  return { ...inputs, ledgerOrders: direct, unavailable };
}

/** reports/<scenario>-<UTC time>/ under `base`. */
export function defaultOutDir(base: string, scenarioName: string, at = new Date()): string {
  const stamp = at.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  return join(base, 'reports', `${scenarioName}-${stamp}`);
}
