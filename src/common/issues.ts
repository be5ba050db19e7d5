// Turns zod issues into one line each that names the field the way a person would write it
// (`buyers.arrival.stages[2].target: must be ≥ 0`) and says the problem in plain words.
import type { z } from 'zod';

type Key = PropertyKey;

/** `buyers.arrival.stages[2].target`; keys that are not identifiers are quoted: `thresholds["p{x:y}"]`. */
export function formatPath(path: readonly Key[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(String(key))) out += out === '' ? String(key) : `.${String(key)}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(top level)' : out;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}

const TYPE_WORDS: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
};

function bound(inclusive: boolean | undefined, op: '≥' | '≤'): string {
  if (inclusive === false) return op === '≥' ? '>' : '<';
  return op;
}

/**
 * zod's per-parse error map: a message for every issue a schema did not word itself.
 * (Schema-level `error` options take precedence, so custom messages survive.)
 */
export const scenarioErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}, not ${describeValue(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'array') return `must have at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      return `must be ${bound(issue.inclusive, '≥')} ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      return `must be ${bound(issue.inclusive, '≤')} ${issue.maximum}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      if ('discriminator' in issue && Array.isArray((issue as { options?: unknown }).options)) { // zod's invalid_union issue for a discriminated union carries its options
        const options = (issue as unknown as { options: unknown[] }).options; // as just checked
        return `must be one of ${options.map((v) => JSON.stringify(v)).join(', ')}`;
      }
      return `is not any of the accepted forms (got ${describeValue(issue.input)})`;
    case 'invalid_format':
      return `does not have the expected format (${issue.format})`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length === 1 ? '' : 's'}`;
    default:
      return undefined;
  }
};

/** Needs the parse to run with reportInput: a missing field is "required" whatever its schema says. */
function isMissing(issue: z.core.$ZodIssue): boolean {
  return 'input' in issue && issue.input === undefined;
}

/** One line per problem; unknown fields get one line each, naming the field itself. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${formatPath([...issue.path, key])}: unknown field`);
    } else if (issue.code === 'invalid_key') {
      // A record key that failed its own schema (a header name): say what is wrong with it.
      lines.push(`${formatPath(issue.path)}: ${issue.issues[0]?.message ?? issue.message}`);
    } else if (issue.code === 'invalid_union' && !('discriminator' in issue)) {
      // A branch whose problems lie deeper than the value itself matched its type: the input was
      // meant as that form, so report its problems rather than a wall of alternatives.
      const meant = issue.errors.filter((branch) => branch.some((i) => i.path.length > 0)).sort((a, b) => a.length - b.length)[0];
      if (meant) lines.push(...formatIssues(meant.map((i) => ({ ...i, path: [...issue.path, ...i.path] }))));
      else lines.push(`${formatPath(issue.path)}: ${isMissing(issue) ? 'is required' : issue.message}`);
    } else {
      lines.push(`${formatPath(issue.path)}: ${isMissing(issue) && issue.code === 'invalid_type' ? 'is required' : issue.message}`);
    }
  }
  return lines;
}
