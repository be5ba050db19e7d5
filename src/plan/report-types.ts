// plan.json: what `flashsale plan` found, every step it measured, and (with several levels) the USL
// fit. Versioned like result.json; `plan --what-if --from plan.json` reads it back.
import type { Environment } from './adapter.ts';
import type { MeasuredStep } from './judge.ts';
import type { Knee } from './knee.ts';
import type { Objective, Objectives } from './objectives.ts';
import type { StopReason } from './search.ts';
import type { UslFit } from './usl.ts';

export const PLAN_SCHEMA_VERSION = 1;

export interface LevelReport {
  /** Threads or instances at this level; null for a plan with one level. */
  n: number | null;
  label: string;
  targets: string[];
  serviceThreads: number | null;
  /** Highest rate that passed, arrivals (buyers) per second. */
  sustainableRate: number | null;
  /** Lowest rate that failed (the limit is below it). */
  failedRate: number | null;
  /** sustainableRate is only a lower bound. */
  atLeast: boolean;
  stoppedBy: StopReason;
  generatorLimit: number | null;
  message: string;
  /** What to change to get a firmer answer, when there is something. */
  advice: string | null;
  knee: Knee | null;
  steps: MeasuredStep[];
}

export interface PlanReport {
  schemaVersion: typeof PLAN_SCHEMA_VERSION;
  kind: 'flashsale-plan';
  scenario: { name: string; path: string };
  target: { builtIn: boolean; urls: string[]; serviceThreads: number[] | null };
  environment: Environment;
  startedAt: string;
  endedAt: string;
  settings: {
    stepMs: number;
    warmupMs: number;
    precision: number;
    startRate: number;
    growth: number;
    maxRate: number;
    maxTimeMs: number;
    maxRequests: number;
    inconclusiveRetries: number;
    workers: number;
    seed: number;
  };
  objectives: { list: Objective[]; ignored: Objectives['ignored'] };
  /** What the levels vary: nothing, instances (--targets) or built-in service threads. */
  scaling: 'none' | 'instances' | 'threads';
  /** The rate found (the best level's, with several levels), arrivals/s; null if none passed. */
  sustainableRate: number | null;
  atLeast: boolean;
  bestLevel: number | null;
  message: string;
  levels: LevelReport[];
  usl: UslFit | null;
}
