// Validates parsed JSON as a scenario: the schema first (types, ranges, unknown fields), then the
// cross-field checks. All problems are reported at once, each naming its field.
import { ScenarioError } from '../errors.ts';
import { formatIssues, scenarioErrorMap } from '../common/issues.ts';
import { ScenarioSchema } from './schema.ts';
import type { Scenario } from './schema.ts';
import { checkSemantics } from './semantics.ts';
import { validateFaults } from '../faults/validate.ts';

/** `source` names the file (or preset) in the error message. Throws ScenarioError (exit 2). */
export function validateScenario(raw: unknown, source: string): Scenario {
  // `faults` is validated on its own (a fault's form is chosen by its action field, so a mistake is
  // named against the form the user meant, not whichever member of the union it resembles).
  const hasFaults = typeof raw === 'object' && raw !== null && !Array.isArray(raw) && 'faults' in raw;
  const { faults: rawFaults, ...rest } = hasFaults ? (raw as Record<string, unknown>) : { faults: undefined }; // an object holding `faults` (checked just above)
  const parsed = ScenarioSchema.safeParse(hasFaults ? rest : raw, { error: scenarioErrorMap, reportInput: true });
  const faults = hasFaults ? validateFaults(rawFaults) : { faults: [], problems: [] };
  if (!parsed.success) throw new ScenarioError(source, [...formatIssues(parsed.error.issues), ...faults.problems]);
  if (faults.problems.length > 0) throw new ScenarioError(source, faults.problems);
  if (hasFaults) parsed.data.faults = faults.faults;
  const problems = checkSemantics(parsed.data, raw);
  if (problems.length > 0) throw new ScenarioError(source, problems);
  return parsed.data;
}
