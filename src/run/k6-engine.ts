// `flashsale run --engine k6`: finds a k6 binary, runs scenarios/k6/flash-sale.js with the scenario
// (built-in service or target as in a native run), has k6 write its raw points (`--out json=….gz`),
// then imports them (src/run/import-k6.ts): the same result.json, audit, thresholds and verdict as the
// native engine, with k6's uncorrected latency. k6 is not shipped with flashsale: it is AGPL-licensed,
// so the user supplies it (docs/k6.md). Nothing k6 prints is parsed.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, FlashsaleError, K6NotFoundError, UsageError } from '../errors.ts';
import type { RunResult } from '../contract/result.ts';
import type { ExecutionSegment } from '../schedule/index.ts';
import { K6_SCRIPT, refuseFaults, resolveOpensAt, toSaleDefinition, type LoadedScenario } from '../scenario/index.ts';
import { startService, type RunningService } from '../service/index.ts';
import { importK6 } from './import-k6.ts';
import { resolveTarget } from './run-scenario.ts';
import { randomBytes } from 'node:crypto';

/** The project's own folder for tools built on demand (git-ignored), as for Toxiproxy. */
export const PROJECT_K6 = fileURLToPath(new URL('../../.tools/bin/k6', import.meta.url));

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Where k6 is: --k6, then K6_BIN, then .tools/bin/k6, then PATH. Throws K6NotFoundError naming each place. */
export function findK6(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined) {
    if (executable(resolve(flag))) return resolve(flag);
    throw new K6NotFoundError(`--k6 ${flag}: not an executable file`);
  }
  if (env.K6_BIN) {
    if (executable(resolve(env.K6_BIN))) return resolve(env.K6_BIN);
    throw new K6NotFoundError(`K6_BIN=${env.K6_BIN}: not an executable file`);
  }
  if (executable(PROJECT_K6)) return PROJECT_K6;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'k6'))) return join(dir, 'k6');
  }
  throw new K6NotFoundError(
    `no k6 found (looked at --k6, K6_BIN, ${PROJECT_K6} and PATH). flashsale does not ship k6 (AGPL-3.0): install it yourself (https://grafana.com/docs/k6/latest/set-up/install-k6/) and pass --k6 <path> or set K6_BIN; docs/k6.md says more`,
  );
}

export interface K6ArgsInput {
  scenarioPath: string;
  target: string;
  outputFile: string;
  segment?: ExecutionSegment;
  /** k6's --execution-segment-sequence (all the segments of the test), when given. */
  segmentSequence?: string;
  maxVus?: number;
}

/** The arguments after the k6 binary: `run`, the scenario and target, raw points to a gzip file, the segment. */
export function k6RunArgs(input: K6ArgsInput): string[] {
  const args = ['run', '--quiet', '-e', `SCENARIO=${input.scenarioPath}`, '-e', `TARGET=${input.target}`];
  if (input.maxVus !== undefined) args.push('-e', `MAX_VUS=${input.maxVus}`);
  args.push('--out', `json=${input.outputFile}`);
  if (input.segment) args.push('--execution-segment', input.segment.text);
  if (input.segmentSequence) args.push('--execution-segment-sequence', input.segmentSequence);
  args.push(K6_SCRIPT);
  return args;
}

export interface RunK6Options {
  loaded: LoadedScenario;
  k6: string;
  outDir: string;
  targetUrl?: string;
  adminToken?: string;
  segment?: ExecutionSegment;
  segmentSequence?: string;
  maxVus?: number;
  serviceThreads?: number;
  ledgerPath: string;
  signal?: AbortSignal;
  /** k6's own output (its progress and notes) goes here, never to stdout, which is flashsale's. */
  onOutput?: (chunk: string) => void;
  onTargetReady?: (target: RunResult['target']) => void;
}

/** Runs k6 to its end; resolves with its exit code (99, k6's thresholds crossed, is not a failure: flashsale judges). */
function runK6Process(k6: string, args: string[], options: RunK6Options): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(k6, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const forward = (b: Buffer) => options.onOutput?.(b.toString());
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    const onAbort = () => child.kill('SIGINT');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e) => reject(new FlashsaleError(`k6 (${k6}) could not start: ${e.message}`, EXIT.failure)));
    child.once('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      resolvePromise(code ?? (signal ? 128 : 1));
    });
  });
}

/** k6 exit codes that still leave complete output: 0, 99 (its thresholds), 105 (interrupted). */
const K6_OUTPUT_CODES = new Set([0, 99, 105]);

export async function runK6(options: RunK6Options): Promise<RunResult> {
  const { scenario, path } = options.loaded;
  refuseFaults(scenario, 'run --engine k6');
  const resolved = resolveTarget(options.loaded, options.targetUrl);
  const builtIn = resolved.url === null;
  if (options.segment && builtIn) {
    throw new UsageError(`--segment ${options.segment.text}: a segment is one share of a crowd loading one shared service, so it needs --target or the scenario's target.url`);
  }
  const adminToken = builtIn ? randomBytes(18).toString('base64url') : options.adminToken;
  const opensAt = resolveOpensAt(scenario.sale.opensAt, Date.now());
  let service: RunningService | null = null;
  const startedAt = new Date();
  try {
    if (builtIn) {
      service = await startService({ sale: toSaleDefinition(scenario, opensAt), threads: options.serviceThreads, ledgerPath: options.ledgerPath, adminToken, expectedUsers: scenario.buyers.population, seed: scenario.load.seed });
    }
    const url = service?.url ?? resolved.url ?? '';
    options.onTargetReady?.({ url, builtIn, serviceThreads: service?.threads ?? null, from: resolved.from });
    // k6 has no notion of the sale's opening: it is started then (plus its own start-up time).
    if (opensAt !== null) await new Promise((r) => setTimeout(r, Math.max(0, opensAt - Date.now())));
    const outputFile = join(options.outDir, 'k6-output.json.gz');
    const args = k6RunArgs({ scenarioPath: path, target: url, outputFile, segment: options.segment, segmentSequence: options.segmentSequence, maxVus: options.maxVus });
    const code = await runK6Process(options.k6, args, options);
    if (!K6_OUTPUT_CODES.has(code)) throw new FlashsaleError(`k6 exited with code ${code} (see its output above), so there is no complete output to judge`, EXIT.failure);
    const result = await importK6({ loaded: options.loaded, files: [outputFile], targetUrl: url, adminToken, segment: options.segment, startedAt });
    return { ...result, target: { url, builtIn, serviceThreads: service?.threads ?? null, from: resolved.from } };
  } finally {
    await service?.close();
  }
}
