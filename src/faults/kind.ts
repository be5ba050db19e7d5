// One kind of fault = one file exporting a FaultKind (as k6 has one file per executor): its schema, its
// checks against the run's setting, what it acts on, and how it is injected and healed. kinds.ts lists
// them; the scheduler runs them without knowing which is which. Adding `restart: "redis"` later is one
// file with a FaultKind and one line in kinds.ts.
import type { z } from 'zod';
import type { ToxiproxyClient } from './toxiproxy/client.ts';

/** What the run offers faults, known before the sale: checked statically (validate.ts). */
export interface FaultSetting {
  /** The built-in service as its own process (it can be killed), inside the harness, as N processes on
   * the shared stores (`run --service-processes`), or no built-in service (a URL target); 'built-in':
   * the built-in service in a shape the run's flags will decide (a scenario checked on its own). */
  service: 'own-process' | 'in-process' | 'stores' | 'built-in' | 'none';
  /** With service 'stores': how many processes, and whether the run started its own redis-server. */
  stores?: { processes: number; ownRedis: boolean };
  /** HTTP threads of the built-in service, when known. */
  threads: number | null;
  /** exec faults run the scenario's commands on this machine: only when the user allowed it. */
  execAllowed: boolean;
  /** The run's cap (load.maxDuration), ms from the sale's opening: a fault planned at or past it never hits. */
  maxDurationMs: number | null;
}

/** The built-in service as faults see it (service-process.ts, or an in-process adapter in tests). */
export interface ServiceUnderFault {
  readonly threads: number;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<{ pid: number; exit: string }>;
  /** Start it again on the same ledger and port; resolves once /healthz answers 200. */
  restart(): Promise<{ pid: number; startMs: number; healthyMs: number; recovered: string | null }>;
  /** Crash HTTP thread `index` the way an uncaught error does; absent where the service offers no way. */
  crashThread?(index: number): Promise<void>;
  /** Resolves with the ms it took once /healthz answers 200; rejects after timeoutMs. */
  waitHealthy(timeoutMs: number): Promise<number>;
}

/** One of the service's processes on the shared stores: killed, then started again beside the others. */
export interface StoreProcessUnderFault {
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<{ pid: number; exit: string }>;
  /** Start it again on the shared port (--join-port) after rebuilding the stock from the ledger (--rebuild-stock). */
  restart(): Promise<{ pid: number; startMs: number; healthyMs: number; recovered: string | null }>;
}

/** `run --service-processes N`: the processes and the stores a fault may act on. */
export interface StoresUnderFault {
  processes: readonly StoreProcessUnderFault[];
  /** The run's own redis-server (never the machine's shared Redis); null when the run uses a Redis URL. */
  redis: { kill(): Promise<{ pid: number | null }>; restart(): Promise<{ pid: number; startMs: number }> } | null;
  /** The TCP gate between the processes and PostgreSQL; null when the run put none (no stop-postgres fault). */
  postgresGate: { cut(): Promise<void>; open(): Promise<void>; readonly port: number } | null;
}

/** What faults act on during the run. Absent parts make the faults that need them fail, saying why. */
export interface FaultContext {
  service?: ServiceUnderFault;
  stores?: StoresUnderFault;
  /** A Toxiproxy proxy between the crowd and the target. */
  network?: { client: ToxiproxyClient; proxy: string };
  exec?: { allowed: boolean; cwd: string; env: NodeJS.ProcessEnv };
  log?(line: string): void;
}

/** A fault in effect: what it did (kind-specific, for result.json), and how to undo it. */
export interface ActiveFault {
  detail: Record<string, unknown>;
  /** Undo it (restart, remove the toxic, run the heal command); what the heal did. Absent: nothing to undo. */
  heal?(): Promise<Record<string, unknown>>;
}

export interface FaultKind<S> {
  /** 'kill-service', 'exec', 'network', …: the `kind` of its record. */
  readonly id: string;
  readonly schema: z.ZodType<S>;
  /** Whether a validated fault is of this kind (by its action field). */
  matches(spec: object): boolean;
  /** One line for the summary: "kill -9 the service at 3s, restart it after 2s". */
  describe(spec: S): string;
  /** Problems with the run's setting, each naming its field through `field('thread')` → `faults[1].thread`. */
  check?(spec: S, setting: FaultSetting, field: (...keys: Array<string | number>) => string): string[];
  /** ms after the hit when the heal starts; null: it heals as soon as it is in effect (waits for a self-healing target). */
  downForMs(spec: S): number | null;
  /** What it acts on: faults on one resource never overlap (the scheduler runs them one after the
   * other); null: it may overlap anything (an exec: the user's command knows what it does). */
  resource(spec: S): string | null;
  inject(spec: S, ctx: FaultContext): Promise<ActiveFault>;
}
