import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_ENV, readAdminToken } from '../src/cli/admin-token.ts';
import { UsageError } from '../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'fs-token-'));
const GOOD = 'abcdefghijklmnopqrstuvwx';

describe('readAdminToken', () => {
  it('reads the first line of the file, trimmed', () => {
    const f = join(dir, 'token');
    writeFileSync(f, `  ${GOOD}  \nsecond line\n`);
    expect(readAdminToken(f, {})).toBe(GOOD);
  });
  it('prefers the file over the environment', () => {
    const f = join(dir, 'token2');
    writeFileSync(f, GOOD);
    expect(readAdminToken(f, { [ADMIN_TOKEN_ENV]: 'zzzzzzzzzzzzzzzzzzzzzzzz' })).toBe(GOOD);
  });
  it('falls back to the environment, and to undefined', () => {
    expect(readAdminToken(undefined, { [ADMIN_TOKEN_ENV]: GOOD })).toBe(GOOD);
    expect(readAdminToken(undefined, {})).toBeUndefined();
    expect(readAdminToken(undefined, { [ADMIN_TOKEN_ENV]: '  ' })).toBeUndefined();
  });
  it('names the file when it cannot be read', () => {
    expect(() => readAdminToken(join(dir, 'missing'), {})).toThrow(/--admin-token-file .*missing: ENOENT/);
  });
  it('refuses short and non-printable tokens, naming the source', () => {
    expect(() => readAdminToken(undefined, { [ADMIN_TOKEN_ENV]: 'short' })).toThrow(UsageError);
    expect(() => readAdminToken(undefined, { [ADMIN_TOKEN_ENV]: 'short' })).toThrow(new RegExp(ADMIN_TOKEN_ENV));
    expect(() => readAdminToken(undefined, { [ADMIN_TOKEN_ENV]: `${GOOD}\u00e9` })).toThrow(/printable ASCII/);
  });
});
