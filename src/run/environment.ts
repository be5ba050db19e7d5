// Where a run happened, recorded in result.json so two runs can be compared knowingly.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import type { Environment } from '../contract/result.ts';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string }; // our own package.json: it has a version

/** The commit of the working directory's git checkout, or null outside one (or without git). */
function gitCommit(cwd: string): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim() || null;
  } catch {
    return null;
  }
}

export function describeEnvironment(cwd = process.cwd()): Environment {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: os.availableParallelism(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    gitCommit: gitCommit(cwd),
    flashsaleVersion: version,
  };
}
