// The `k6 run` command line for a scenario: what `flashsale k6` prints.
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const K6_SCRIPT = fileURLToPath(new URL('../../scenarios/k6/flash-sale.js', import.meta.url));

/** POSIX shell quoting, only when needed. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export interface K6CommandInput {
  /** Absolute path of the scenario file (k6 resolves open() paths against the script, so it must be absolute). */
  scenarioPath: string;
  target: string;
  maxVus?: number;
  cwd?: string;
}

export function k6CommandLine(input: K6CommandInput): string {
  const cwd = input.cwd ?? process.cwd();
  const rel = relative(cwd, K6_SCRIPT);
  const script = rel.startsWith('..') || isAbsolute(rel) ? K6_SCRIPT : rel;
  const args = ['k6', 'run', '-e', `SCENARIO=${input.scenarioPath}`, '-e', `TARGET=${input.target}`];
  if (input.maxVus !== undefined) args.push('-e', `MAX_VUS=${input.maxVus}`);
  args.push(script);
  return args.map(shellQuote).join(' ');
}
