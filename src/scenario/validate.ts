// Validates parsed JSON as a scenario: the schema first (types, ranges, unknown fields), then the
// cross-field checks. All problems are reported at once, each naming its field.
import { ScenarioError } from '../errors.ts';
import { formatIssues, scenarioErrorMap } from '../shared/issues.ts';
import { ScenarioSchema } from './schema.ts';
import type { Scenario } from './schema.ts';
import { checkSemantics } from './semantics.ts';

/** `source` names the file (or preset) in the error message. Throws ScenarioError (exit 2). */
export function validateScenario(raw: unknown, source: string): Scenario {
  const parsed = ScenarioSchema.safeParse(raw, { error: scenarioErrorMap, reportInput: true });
  if (!parsed.success) throw new ScenarioError(source, formatIssues(parsed.error.issues));
  const problems = checkSemantics(parsed.data, raw);
  if (problems.length > 0) throw new ScenarioError(source, problems);
  return parsed.data;
}
