import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { describeEnvironment } from '../src/run/environment.ts';

describe('describeEnvironment', () => {
  it('records the Node version, CPUs and a commit only inside a git checkout', () => {
    const env = describeEnvironment(os.tmpdir());
    expect(env.node).toBe(process.version);
    expect(env.cpus).toBeGreaterThan(0);
    expect(env.gitCommit).toBeNull();
    expect(env.flashsaleVersion).toMatch(/^\d+\.\d+\.\d+/);
    const root = new URL('..', import.meta.url).pathname;
    const here = describeEnvironment(root);
    // In a checkout (CI clones one) it is the checked-out commit; outside one (a package) there is none.
    if (existsSync(`${root}.git`)) expect(here.gitCommit).toBe(execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim());
    else expect(here.gitCommit).toBeNull();
  });
});
