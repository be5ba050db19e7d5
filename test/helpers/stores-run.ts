// `flashsale run --service-processes N` as a user runs it, for the tests of the service on the shared
// stores and of the faults on them: a tiny scenario, the run's result, the ledger read directly from
// PostgreSQL, and the processes a run may have left behind (found by the schema or port in their argv).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '../../src/contract/result.ts';
import { afterAll } from 'vitest';
import { dropPgSchema, pgRows, dropRedisKeys, POSTGRES_URL, REDIS_URL } from './servers.ts';

/** `--service-processes N --stock-store <redis> --ledger <postgres>`. */
export function storesFlags(processes: number, stockStore = REDIS_URL): string[] {
  return ['--service-processes', String(processes), '--stock-store', stockStore, '--ledger', POSTGRES_URL];
}

/** A small checkout sale: `stock` units, 150 buyers a second for `seconds`, at most 30 s; thresholds as given. */
export function storesScenario(dir: string, name: string, o: { stock: number; seconds?: number; faults?: unknown[]; thresholds?: Record<string, string[]>; journey?: string }): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      name,
      description: 'a small sale on the shared stores',
      sale: { skus: [{ id: 'phone', stock: o.stock }], perUserLimit: 1, opensAt: 'now' },
      buyers: {
        population: 2000,
        arrival: { executor: 'constant-arrival-rate', rate: 150, timeUnit: '1s', duration: `${o.seconds ?? 4}s` },
        journey: o.journey ?? 'checkout',
        qty: 1,
        retries: { max: 10, baseDelay: '100ms', maxDelay: '1s' },
      },
      load: { workers: 1, connections: 8, maxDuration: '30s', maxRequests: 20000, seed: 14 },
      target: 'built-in',
      thresholds: o.thresholds ?? { lost_orders: ['count==0'], oversold: ['count==0'] },
      ...(o.faults ? { faults: o.faults } : {}),
    }),
  );
  return path;
}

export function readRun(out: string): RunResult {
  return JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as RunResult; // written by the run under test
}


/** The orders in a run's schema, read straight from PostgreSQL (not through the service). */
export async function ledgerRows(schema: string): Promise<Array<{ order_id: string; user_id: string; qty: number }>> {
  if (!/^[a-z0-9_]+$/.test(schema)) throw new RangeError(schema);
  return pgRows(`SELECT order_id, user_id, qty FROM ${schema}.orders`);
}

export async function schemaExists(schema: string): Promise<boolean> {
  return (await pgRows<{ n: string }>('SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1', [schema]))[0].n !== '0';
}

/** Pids of live processes whose argv (or the title redis-server gives itself) contains every needle
 * (the run's schema name; 'redis-server' and its port). */
export function processesWith(...needles: string[]): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline: string;
    let state: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      state = readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /, '')[0];
    } catch {
      continue; // gone meanwhile
    }
    if (state !== 'Z' && needles.every((n) => cmdline.includes(n))) found.push(Number(entry));
  }
  return found;
}

/** The schema a run made, from the line it printed (the run's target line names it). */
export function schemaFromOutput(stderr: string): string | null {
  return /schema (flashsale_run_[a-z0-9_]+)/.exec(stderr)?.[1] ?? null;
}

/** The run's own redis-server's port, from the line it printed. */
export function ownRedisPort(stderr: string): number | null {
  const m = /redis-server \(redis:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
  return m ? Number(m[1]) : null;
}

/** Loss and oversell, and the default error budget: it counts only answers outside each fault's window,
 * which runs on while errors go on after the first success (every process rebuilding, src/faults/impact.ts). */
export const FAULT_THRESHOLDS = { lost_orders: ['count==0'], oversold: ['count==0'] };


/**
 * A test file's scratch for store runs: a temporary dir, and a list of run schemas (push each run's) whose
 * PostgreSQL schema and Redis keys are dropped after the file, with the dir, whatever the tests left.
 */
export function storesScratch(name: string): { dir: string; leftSchemas: string[] } {
  const dir = mkdtempSync(join(tmpdir(), `flashsale-${name}-`));
  const leftSchemas: string[] = [];
  afterAll(async () => {
    for (const s of leftSchemas) {
      await dropPgSchema(s).catch(() => {});
      await dropRedisKeys(`flashsale:${s}`).catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, leftSchemas };
}
