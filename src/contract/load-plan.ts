// What the load engine is asked to do. src/scenario/ builds a LoadPlan from a validated scenario;
// src/load/ consumes it. Plain data only: a plan is cloned into every load worker.
// Times are milliseconds, rates are per second unless a name says otherwise.
import type { JourneyType, Step } from './vocabulary.ts';

export type { JourneyType, Step };

/** How buyers arrive: `type` names an arrival shape, and that shape's file (src/schedule/<type>.ts)
 * declares the other fields (rates per second, times in ms). The shapes' own names follow k6's executor
 * vocabulary where k6 has a word for it; `poisson` and `flash-crowd` are ours. */
export type ArrivalSpec = { type: string } & Record<string, unknown>;


/** A duration drawn uniformly in [minMs, maxMs]. */
export interface DurationRange {
  minMs: number;
  maxMs: number;
}

export interface RetryPolicy {
  /** Retries after the first attempt (0 = never retry). */
  max: number;
  /** Exponential backoff with full jitter: delay = random(0, min(maxMs, baseMs * 2^attempt)). */
  baseMs: number;
  maxMs: number;
}


export interface JourneySpec {
  type: JourneyType;
  /** Units each buyer asks for. */
  qty: number;
  /** reserve-pay: time between reservation and payment; constant-vus: time between journeys. */
  thinkTime: DurationRange;
  retries: RetryPolicy;
  /** Per-request timeout; a timeout counts as an error and is retried. */
  timeoutMs: number;
  bots: {
    /** Share of buyers that are bots, 0..1. */
    share: number;
    /** Bots think for 0 ms and retry this many times instead of retries.max. */
    retries: number;
    /** A bot cycles through this many accounts (user ids) across its attempts after a limit/sold-out answer. */
    accounts: number;
  };
}

/** Who the buyers are: user ids are drawn from a population of registered accounts. */
export interface BuyerSpec {
  /** Number of distinct accounts. A buyer's user id is `${userPrefix}${index}` with index < population. */
  population: number;
  userPrefix: string;
}

/** How to recognise an answer: by status code, or by a field of the JSON body (dot path) equal to a value. */
export type Matcher = { status: number[] } | { jsonField: string; equals: string | number | boolean };

export interface RequestTemplate {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** May contain ${userId} ${sku} ${qty} ${idempotencyKey} ${reservationId}. */
  path: string;
  headers: Record<string, string>;
  /** JSON body (placeholders substituted in string values) or a form/raw body string; null for none. */
  body: { json: unknown } | { form: Record<string, string> } | null;
  success: Matcher;
  soldOut: Matcher;
  /** Dot path into a successful JSON answer for the id that identifies it (reservationId / orderId). */
  captureId: string | null;
}

export interface TargetSpec {
  /** Base URL; the load engine sends only here. */
  url: string;
  /** One template per step the journey uses. */
  requests: Partial<Record<Step, RequestTemplate>>;
}

export interface SkuPick {
  /** SKU ids buyers ask for; each buyer picks one, weighted. */
  ids: string[];
  weights: number[];
}

export interface Caps {
  /** Hard stop for the whole run, including in-flight drain. */
  maxDurationMs: number;
  /** Hard stop after this many requests (all steps, retries included). */
  maxRequests: number;
  /** After the schedule ends, how long in-flight journeys may finish. */
  gracefulStopMs: number;
}

/** A fraction as [numerator, denominator], reduced. */
export type Fraction = [number, number];

/** k6's execution segment: the share from..to of the crowd this machine starts (src/schedule/segment.ts). */
export interface ExecutionSegment {
  from: Fraction;
  to: Fraction;
  /** Canonical `from:to` text, e.g. "0:1/4". */
  text: string;
}

export interface LoadPlan {
  target: TargetSpec;
  arrival: ArrivalSpec;
  journey: JourneySpec;
  buyers: BuyerSpec;
  skus: SkuPick;
  caps: Caps;
  /** Load worker threads (piscina pool size). */
  workers: number;
  /** undici connections per worker. */
  connections: number;
  /** Seed for every random choice: the same seed gives the same schedule and journeys. */
  seed: number;
  /** Stop once the target answers sold out for every SKU (`stopOnSellOut`), as a real crowd would thin out. */
  stopOnSellOut: boolean;
  /** `run --segment`: only the buyers of this segment are started (absent: all of them). */
  segment?: ExecutionSegment;
  /** What carries the requests (the scenario's `load.transport`, `auto` resolved). Absent: undici. */
  transport?: 'undici' | 'raw';
  /** A GET of `path` on every connection before t0, not counted (`load.warmup`). Absent or null: none. */
  warmup?: { path: string } | null;
}
