import { describe, expect, it } from 'vitest';
import os from 'node:os';
import { describeEnvironment } from '../src/result/environment.ts';

describe('describeEnvironment', () => {
  it('records the Node version, CPUs and a commit only inside a git checkout', () => {
    const env = describeEnvironment(os.tmpdir());
    expect(env.node).toBe(process.version);
    expect(env.cpus).toBeGreaterThan(0);
    expect(env.gitCommit).toBeNull();
    expect(env.flashsaleVersion).toMatch(/^\d+\.\d+\.\d+/);
    const here = describeEnvironment(new URL('..', import.meta.url).pathname);
    expect(here.gitCommit === null || /^[0-9a-f]{40}$/.test(here.gitCommit)).toBe(true);
  });
});
