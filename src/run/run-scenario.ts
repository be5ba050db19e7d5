// `flashsale run` as a library: scenario → (built-in service) → load → audit → thresholds → result.
// Data flows one way; every stage gets what the one before it produced and nothing reaches back.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { auditRun, fetchAuditInputs } from '../audit/index.ts';
import { runLoad, type LoadProgress } from '../load/index.ts';
import { describeEnvironment } from '../result/environment.ts';
import { RESULT_SCHEMA_VERSION, type LoadResult, type RunResult } from '../result/types.ts';
import type { LoadedScenario } from '../scenario/index.ts';
import { resolveOpensAt, stockOf, toLoadPlan, toSaleDefinition } from '../scenario/index.ts';
import { startService, type RunningService } from '../service/index.ts';
import { evaluateThresholds } from '../thresholds/index.ts';
import { sellOutMs, verdictOf } from '../result/verdict.ts';

export interface RunScenarioOptions {
  loaded: LoadedScenario;
  /** The service under test; absent: the built-in service starts in-process with the scenario's sale. */
  targetUrl?: string;
  /** Where the built-in service keeps its ledger (a run's out dir); ':memory:' keeps none. */
  ledgerPath: string;
  workers?: number;
  serviceThreads?: number;
  seed?: number;
  maxDurationMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  /** Called once the target is up, before load starts (the CLI prints where load goes). */
  onTargetReady?: (url: string, builtIn: boolean) => void;
}

export async function runScenario(options: RunScenarioOptions): Promise<RunResult> {
  const { scenario, raw } = options.loaded;
  const stock = stockOf(scenario);
  const startedAt = new Date();
  const builtIn = options.targetUrl === undefined;
  const adminToken = builtIn ? randomBytes(18).toString('base64url') : undefined;
  // Resolved once so the service and the crowd agree on when the sale opens.
  const opensAt = resolveOpensAt(scenario.sale.opensAt, Date.now());
  let service: RunningService | null = null;
  try {
    if (builtIn) {
      service = await startService({
        sale: toSaleDefinition(scenario, opensAt),
        threads: options.serviceThreads,
        ledgerPath: options.ledgerPath,
        adminToken,
        expectedUsers: scenario.buyers.population,
        seed: options.seed ?? scenario.load.seed,
      });
    }
    const url = service?.url ?? options.targetUrl ?? (scenario.target === 'built-in' ? '' : scenario.target.url);
    options.onTargetReady?.(url, builtIn);
    const plan = toLoadPlan(scenario, { targetUrl: url, workers: options.workers, seed: options.seed, maxDurationMs: options.maxDurationMs });
    const load = await runLoad(plan, { signal: options.signal, onProgress: options.onProgress, startAtEpochMs: opensAt ?? undefined });

    const inputs = await fetchAuditInputs(url, Object.keys(stock.bySku), adminToken);
    const audit = auditRun({ ...inputs, ackedOrders: load.orders, perUserLimit: scenario.sale.perUserLimit, initialStock: stock.bySku });
    const sold = soldUnits(load, inputs.inventory);
    const result: RunResult = {
      ...load,
      schemaVersion: RESULT_SCHEMA_VERSION,
      scenario: { name: scenario.name, description: scenario.description, definition: raw },
      environment: describeEnvironment(),
      target: { url, builtIn, serviceThreads: service?.threads ?? null },
      startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      stock: {
        initial: stock.total,
        sold,
        oversold: Math.max(0, sold - stock.total, audit.oversold),
        sellOutMs: sellOutMs(load, sold, stock.total),
        inventory: inputs.inventory ?? [],
      },
      audit,
      thresholds: [],
      verdict: { passed: true, exitCode: 0, reasons: [] },
    };
    result.thresholds = evaluateThresholds(scenario.thresholds, result);
    result.verdict = verdictOf(audit, result.thresholds);
    return result;
  } finally {
    await service?.close();
  }
}

/** Units sold as the service counts them when it can say, else as the generator saw them acknowledged. */
function soldUnits(load: LoadResult, inventory: RunResult['stock']['inventory'] | null): number {
  if (inventory) return inventory.reduce((n, s) => n + s.sold, 0);
  return load.counts.unitsAcknowledged;
}

/** reports/<scenario>-<UTC time>/ under `base`. */
export function defaultOutDir(base: string, scenarioName: string, at = new Date()): string {
  const stamp = at.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  return join(base, 'reports', `${scenarioName}-${stamp}`);
}
