// Reads a result.json back (report, compare, merge), refusing anything it could misread: a missing
// file, text that is not JSON, an unknown schema version, or a field of the wrong shape. Older
// files are upgraded to the current version first (upgrade.ts); the shape is checked against the
// one definition of a result (src/contract/result.ts).
import { readFile } from 'node:fs/promises';
import { codeOf, messageOf, ResultFileError } from '../errors.ts';
import { RESULT_SCHEMA_VERSION, resultIssues, type RunResult } from '../contract/result.ts';
import { upgradeV1, upgradeV2, upgradeV3 } from './upgrade.ts';

const SERIES = ['sent', 'completed', 'successes', 'soldOuts', 'errors', 'stockTaken', 'latency'] as const;
/** Optional series the charts index bucket by bucket: when present, as long as the others. */
const OPTIONAL_SERIES = ['connectionsOpen', 'connects', 'disconnects'] as const;

/** Checks a parsed document; `file` only names it in errors. */
export function parseResult(doc: unknown, file: string): RunResult {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ResultFileError(file, 'is not a flashsale result (expected a JSON object)');
  const version = (doc as { schemaVersion?: unknown }).schemaVersion; // an object (checked just above): its version is read as unknown
  if (version === undefined) throw new ResultFileError(file, 'is not a flashsale result: schemaVersion is missing');
  if (version === 1) upgradeV3(upgradeV2(upgradeV1(doc as Record<string, unknown>))); // an object (checked above); the upgrades check each field they touch
  else if (version === 2) upgradeV3(upgradeV2(doc as Record<string, unknown>)); // as above
  else if (version === 3) upgradeV3(doc as Record<string, unknown>); // as above
  else if (version !== RESULT_SCHEMA_VERSION) {
    throw new ResultFileError(file, `schemaVersion is ${JSON.stringify(version)}; this flashsale reads schema versions 1 to ${RESULT_SCHEMA_VERSION}`);
  }
  const issues = resultIssues(doc);
  if (issues.length) throw new ResultFileError(file, `does not match the result schema:\n  ${issues.join('\n  ')}`);
  const result = doc as RunResult; // resultIssues found nothing wrong: the document is a RunResult
  const length = result.intervals.sent.length;
  for (const name of SERIES) {
    if (result.intervals[name].length !== length) {
      throw new ResultFileError(file, `intervals.${name} has ${result.intervals[name].length} buckets, intervals.sent has ${length}`);
    }
  }
  for (const name of OPTIONAL_SERIES) {
    const s = result.intervals[name];
    if (s !== undefined && s.length !== length) throw new ResultFileError(file, `intervals.${name} has ${s.length} buckets, intervals.sent has ${length}`);
  }
  return result;
}

export async function readResult(path: string): Promise<RunResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = codeOf(e);
    throw new ResultFileError(path, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a result.json' : `cannot be read (${messageOf(e)})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ResultFileError(path, `is not valid JSON (${messageOf(e)})`);
  }
  return parseResult(doc, path);
}
