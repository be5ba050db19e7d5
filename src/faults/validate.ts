// Validates a `faults` list: the schema (types, unknown fields) with messages that name the field as the
// scenario's do (`faults[1].downFor: is required`), then the checks against the run's setting (a thread
// the service does not have, a fault past the run's end, two kills of the service at once, exec
// without --allow-exec). Phase 2 calls both from the scenario's validation.
import { z } from 'zod';
import { formatIssues, formatPath, scenarioErrorMap } from '../common/issues.ts';
import { ACTION_SCHEMAS, FAULT_KINDS, kindOf, MAX_FAULTS, type FaultSpec } from './kinds.ts';
import type { FaultSetting } from './kind.ts';
import { ACTIONS, durationMs } from './spec.ts';

type Key = string | number;

/** The faults, or every problem found, each naming its field. A fault's form is chosen by its action
 * field (kill, exec, network), which it must have exactly one of; then that form's schema reports what
 * is wrong in it. (The union of every form would answer a fault with a mistake in the problems of
 * whichever form it happens to resemble most.) */
export function validateFaults(raw: unknown, path: readonly Key[] = ['faults']): { faults: FaultSpec[]; problems: string[] } {
  const options = { error: scenarioErrorMap, reportInput: true } as const;
  const list = z.array(z.unknown()).max(MAX_FAULTS).safeParse(raw, options);
  if (!list.success) return { faults: [], problems: formatIssues(list.error.issues.map((i) => ({ ...i, path: [...path, ...i.path] }))) };
  const faults: FaultSpec[] = [];
  const problems: string[] = [];
  list.data.forEach((item, i) => {
    const where = formatPath([...path, i]);
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(`${where}: must be an object, like {"at": "3s", "kill": "service", "downFor": "2s"}`);
      return;
    }
    const given = ACTIONS.filter((a) => a in item);
    if (given.length === 0) return problems.push(`${where}: says nothing the fault does: give one of ${ACTIONS.join(', ')}`);
    if (given.length > 1) return problems.push(`${where}: has ${given.join(' and ')}: one action per fault (two faults may hit at the same moment)`);
    const parsed = ACTION_SCHEMAS[given[0]].safeParse(item, options);
    if (parsed.success) faults.push(parsed.data);
    else problems.push(...formatIssues(parsed.error.issues.map((issue) => ({ ...issue, path: [...path, i, ...issue.path] }))));
  });
  return problems.length > 0 ? { faults: [], problems } : { faults, problems };
}

/** Problems with the faults in this run's setting; [] when they can all be injected as asked. */
export function checkFaults(faults: readonly FaultSpec[], setting: FaultSetting, path: readonly Key[] = ['faults']): string[] {
  const problems: string[] = [];
  const field = (i: number) => (...keys: Key[]) => formatPath([...path, i, ...keys]);
  faults.forEach((spec, i) => {
    const kind = kindOf(spec);
    problems.push(...(kind.check?.(spec, setting, field(i)) ?? []));
    if (setting.maxDurationMs !== null && durationMs(spec.at) >= setting.maxDurationMs) {
      problems.push(`${field(i)('at')}: ${spec.at} is at or past the run's end (load.maxDuration, ${setting.maxDurationMs / 1000} s): it would never hit`);
    }
  });
  // Two faults on one resource at once (kill the service while it is down) cannot both be as asked.
  const windows = faults
    .map((spec, i) => ({ i, spec, kind: kindOf(spec) }))
    .filter((f) => f.kind.resource(f.spec) !== null)
    .map((f) => ({ ...f, resource: f.kind.resource(f.spec)!, from: durationMs(f.spec.at), to: durationMs(f.spec.at) + (f.kind.downForMs(f.spec) ?? 0) }))
    .sort((a, b) => a.from - b.from || a.i - b.i);
  for (let a = 0; a < windows.length; a++) {
    for (let b = a + 1; b < windows.length; b++) {
      const x = windows[a];
      const y = windows[b];
      if (x.resource !== y.resource || y.from >= x.to) continue;
      problems.push(`${field(y.i)('at')}: ${y.spec.at} falls while ${formatPath([...path, x.i])} (${x.spec.at} for ${(x.to - x.from) / 1000} s) still holds the ${x.resource}: faults on the ${x.resource} run one after the other`);
    }
  }
  return problems;
}

export { FAULT_KINDS };
