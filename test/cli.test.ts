import { describe, expect, it } from 'vitest';
import { flashsale } from './helpers/cli.ts';

describe('flashsale CLI', () => {
  it('prints help and exits 0', async () => {
    const r = await flashsale('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: flashsale/);
  });
  it('rejects an unknown option with exit 2 and names it', async () => {
    const r = await flashsale('--no-such-flag');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--no-such-flag'/);
  });
});
