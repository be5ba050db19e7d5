// The rule for tests that need a server (test/helpers/servers.ts): skip with the reason on a laptop,
// fail in CI (FLASHSALE_CI=1). Proven on a child vitest run of a file whose server is missing.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { inCi, postgresAvailable, redisAvailable } from './helpers/servers.ts';

const exec = promisify(execFile);
const VITEST = new URL('../node_modules/vitest/vitest.mjs', import.meta.url).pathname;
const CONFIG = new URL('./fixtures/servers-rule/vitest.config.ts', import.meta.url).pathname;

async function runFixture(env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [VITEST, 'run', '--config', CONFIG], { env, timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

describe('requireOrSkip', () => {
  it('skips with the reason when FLASHSALE_CI is not set', async () => {
    const { FLASHSALE_CI: _, ...env } = process.env;
    const r = await runFixture(env);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Nothing is not available: nothing listens on 127\.0\.0\.1:1/);
    expect(r.out).toMatch(/skipped/);
  });

  it('fails the run with the reason when FLASHSALE_CI=1', async () => {
    const r = await runFixture({ ...process.env, FLASHSALE_CI: '1' });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/Nothing is not available: nothing listens on 127\.0\.0\.1:1/);
  });

  it('inCi reads FLASHSALE_CI=1 only', () => {
    expect(inCi({ FLASHSALE_CI: '1' })).toBe(true);
    expect(inCi({ FLASHSALE_CI: 'true' })).toBe(false);
    expect(inCi({})).toBe(false);
  });
});

describe('probes', () => {
  it('say why when nothing answers', async () => {
    const redis = await redisAvailable('redis://127.0.0.1:1');
    expect(redis.ok).toBe(false);
    expect(redis.reason).toMatch(/ECONNREFUSED|unavailable/);
    const pg = await postgresAvailable('postgres://postgres@127.0.0.1:1/test');
    expect(pg.ok).toBe(false);
    expect(pg.reason).toMatch(/ECONNREFUSED/);
  });
});
