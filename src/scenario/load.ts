// Reads a scenario from a file or a preset name and validates it.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { messageOf, ScenarioError } from '../errors.ts';
import { resolveScenarioPath } from './presets.ts';
import type { Scenario } from './schema.ts';
import { validateScenario } from './validate.ts';

export interface LoadedScenario {
  scenario: Scenario;
  /** Absolute path of the file it came from. */
  path: string;
  /** The file as written (before defaults), for result.json. */
  raw: unknown;
}

export function parseScenarioText(text: string, source: string): { scenario: Scenario; raw: unknown } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(source, [`not valid JSON: ${messageOf(e)}`]);
  }
  return { scenario: validateScenario(raw, source), raw };
}

/** `arg`: a path to a scenario file, or a preset name ("redmi-1s-india-2014"). */
export function loadScenario(arg: string, cwd = process.cwd()): LoadedScenario {
  const path = resolveScenarioPath(arg, cwd);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ScenarioError(path, [`cannot be read: ${messageOf(e)}`]);
  }
  const source = relative(cwd, path).startsWith('..') ? path : relative(cwd, path);
  return { ...parseScenarioText(text, source), path };
}
