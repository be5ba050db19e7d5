// The admin bearer token for `serve` and `run`: from a file or the environment, never only a flag,
// because a flag's value shows in `ps` to every user of the machine.
import { readFileSync } from 'node:fs';
import { codeOf, messageOf, UsageError } from '../errors.ts';

export const ADMIN_TOKEN_ENV = 'FLASHSALE_ADMIN_TOKEN';

/** Tokens shorter than this are refused: a bearer token that can be guessed protects nothing. */
const MIN_LENGTH = 16;

/**
 * The token from `--admin-token-file <path>` (first line, surrounding whitespace trimmed) or, without
 * one, from FLASHSALE_ADMIN_TOKEN; undefined when neither is set. `flag` names the option in errors.
 */
export function readAdminToken(file: string | undefined, env: NodeJS.ProcessEnv = process.env, flag = '--admin-token-file'): string | undefined {
  let token: string | undefined;
  let source: string;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`${flag} ${file}: ${codeOf(e) ?? messageOf(e)}: cannot read the token file.`);
    }
    token = text.split('\n', 1)[0].trim();
    source = `${flag} ${file}`;
  } else {
    token = env[ADMIN_TOKEN_ENV]?.trim();
    if (token === undefined || token === '') return undefined;
    source = ADMIN_TOKEN_ENV;
  }
  if (token.length < MIN_LENGTH) throw new UsageError(`${source}: the admin token must be at least ${MIN_LENGTH} characters (it is ${token.length}).`);
  if (!/^[\x21-\x7e]+$/.test(token)) throw new UsageError(`${source}: the admin token may hold only printable ASCII without spaces (it goes in an HTTP header).`);
  return token;
}
