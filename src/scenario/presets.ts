// Presets are the scenario files shipped in scenarios/. A scenario argument is either a path to a
// file or the name of a preset; a path wins when both could match.
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.ts';

export const PRESETS_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

const NOT_PRESETS = new Set(['scenario.schema.json']);

/** Preset names (file names without .json), sorted. */
export function presetNames(dir = PRESETS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !NOT_PRESETS.has(f))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** Absolute path of the scenario file an argument means. Throws UsageError when there is none. */
export function resolveScenarioPath(arg: string, cwd = process.cwd(), dir = PRESETS_DIR): string {
  const asPath = resolve(cwd, arg);
  if (existsSync(asPath)) return asPath;
  const looksLikePath = arg.includes('/') || arg.includes('\\') || arg.endsWith('.json');
  if (!looksLikePath && presetNames(dir).includes(arg)) return resolve(dir, `${arg}.json`);
  const names = presetNames(dir);
  throw new UsageError(
    looksLikePath ? `no scenario file at ${asPath}` : `"${arg}" is neither a scenario file nor a preset (presets: ${names.join(', ')})`,
  );
}
