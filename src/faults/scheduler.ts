// Fires a scenario's faults at their moments (`at`, from the sale's opening), heals each `downFor`
// after it hit (never before it is in effect), and records what happened. Faults on one resource (the
// service, the network) run one after the other: one that falls while an earlier one still holds its
// resource waits for it, and its record says when it really hit. stop() ends the schedule when the run
// ends: faults not yet hit are recorded as not reached, faults in effect are healed at once, because
// the audit needs the target back.
import { FaultError } from '../errors.ts';
import type { FaultContext } from './kind.ts';
import { kindOf, type FaultSpec } from './kinds.ts';
import type { FaultRecord } from './record.ts';
import { durationMs } from './spec.ts';

export interface FaultSchedule {
  /** Every fault's record, once each is healed, failed or not reached. */
  done: Promise<FaultRecord[]>;
  /** Ends the schedule (see above); resolves with the records. */
  stop(): Promise<FaultRecord[]>;
}

export interface ScheduleOptions {
  /** Epoch ms of the sale's opening: `at` counts from it. */
  saleOpensAtEpochMs: number;
  context: FaultContext;
  /** Epoch ms; Date.now by default. */
  now?: () => number;
}

/** Resolves true at `epochMs`, or false as soon as `signal` aborts. */
function sleepUntil(epochMs: number, now: () => number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  const wait = epochMs - now();
  if (wait <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, wait);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** One holder at a time per resource, in the order they asked. */
class Locks {
  readonly #tails = new Map<string, Promise<void>>();

  async acquire(resource: string): Promise<() => void> {
    const previous = this.#tails.get(resource) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.#tails.set(resource, previous.then(() => mine));
    await previous;
    return release;
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function scheduleFaults(faults: readonly FaultSpec[], options: ScheduleOptions): FaultSchedule {
  const now = options.now ?? Date.now;
  const open = options.saleOpensAtEpochMs;
  const ctx = options.context;
  const stopping = new AbortController();
  const locks = new Locks();
  const sinceOpen = () => Math.round(now() - open);

  async function runOne(spec: FaultSpec, index: number): Promise<FaultRecord> {
    const kind = kindOf(spec);
    const plannedMs = durationMs(spec.at);
    const record: FaultRecord = {
      index,
      kind: kind.id,
      description: kind.describe(spec),
      spec,
      status: 'not_reached',
      problem: null,
      plannedMs,
      hitMs: null,
      inEffectMs: null,
      healStartMs: null,
      healedMs: null,
      healedEarly: false,
      detail: {},
    };
    const say = (what: string) => ctx.log?.(`fault ${index} (${record.description}): ${what}`);
    if (!(await sleepUntil(open + plannedMs, now, stopping.signal))) return record;
    const resource = kind.resource(spec);
    const release = resource === null ? () => {} : await locks.acquire(resource);
    try {
      if (stopping.signal.aborted) return record;
      const hitEpoch = now();
      record.hitMs = Math.round(hitEpoch - open);
      say(`hit at ${record.hitMs} ms`);
      let active;
      try {
        active = await kind.inject(spec, ctx);
      } catch (e) {
        record.status = 'failed';
        record.problem = messageOf(e);
        if (e instanceof FaultError) record.detail = { ...e.detail };
        say(`failed: ${record.problem}`);
        return record;
      }
      record.inEffectMs = sinceOpen();
      record.detail = { ...active.detail };
      if (!active.heal) {
        record.status = 'applied';
        return record;
      }
      // A fault that heals as soon as it is in effect (downForMs null) cannot be cut short.
      const down = kind.downForMs(spec);
      record.healedEarly = down !== null && !(await sleepUntil(hitEpoch + down, now, stopping.signal));
      record.healStartMs = sinceOpen();
      try {
        record.detail = { ...record.detail, ...(await active.heal()) };
        record.healedMs = sinceOpen();
        record.status = 'healed';
        say(`healed at ${record.healedMs} ms${record.healedEarly ? ' (early: the run ended)' : ''}`);
      } catch (e) {
        record.status = 'heal_failed';
        record.problem = messageOf(e);
        if (e instanceof FaultError) record.detail = { ...record.detail, ...e.detail };
        say(`heal failed: ${record.problem}`);
      }
      return record;
    } finally {
      release();
    }
  }

  const done = Promise.all(faults.map((spec, i) => runOne(spec, i)));
  return {
    done,
    stop() {
      stopping.abort();
      return done;
    },
  };
}
