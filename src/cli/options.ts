// Parsers for command-line option values. Each throws UsageError naming the option and the value,
// so every command rejects bad input the same way (exit 2).
import { InvalidArgumentError } from 'commander';
import { durationMs } from '../common/duration.ts';
import { messageOf } from '../errors.ts';
import { NO_LIMIT } from '../contract/sale.ts';

/** Commander calls parsers with (value, previous); wrap ours so its own message names the option. */
function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    if (!/^-?\d+$/.test(value.trim())) fail(`"${value}" is not a whole number.`);
    const n = Number(value);
    if (n < min) fail(`${n} is below the minimum of ${min}.`);
    if (n > max) fail(`${n} is above the maximum of ${max}.`);
    return n;
  };
}

export function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) fail(`"${value}" is not a number between 0 and 1.`);
  return n;
}

export function duration(value: string): number {
  try {
    return durationMs(value);
  } catch (e) {
    fail(messageOf(e));
  }
}

export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) fail(`"${value}" is not one of: ${choices.join(', ')}.`); // includes() on a literal tuple takes only its members; any string may be asked
    return value as T; // checked against the choices just above
  };
}

/** An absolute http(s) URL: where load goes. */
export function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(`"${value}" is not a URL (example: http://127.0.0.1:8080).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`"${value}" is not an http(s) URL.`);
  return value;
}

/** A per-user limit: a whole number ≥ 1, or "none" for no limit: the one spelling everywhere
 * (scenario files, serve, simulate). 0 is refused rather than read as "none": it would mean nobody may
 * buy. Returns the word itself, not null: commander turns a parser's null into "". */
export function perUserLimit(value: string): number | typeof NO_LIMIT {
  if (value.trim() === NO_LIMIT) return NO_LIMIT;
  if (/^\s*0+\s*$/.test(value)) fail(`0 would let nobody buy; write "${NO_LIMIT}" for no per-user limit.`);
  return integer(1, 2 ** 31 - 1)(value);
}

/** --dashboard's value: "host:port", ":port", "port" or "host"; loopback and a free port by default.
 * Commander passes true when the flag has no value. */
export function listenAddress(value: string | true): { host: string; port: number } {
  if (value === true || value.trim() === '') return { host: '127.0.0.1', port: 0 };
  const v = value.trim();
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(v) ?? (/^\d+$/.test(v) ? ['', undefined, '', v] : null);
  if (!m) fail(`"${value}" is not host:port (example: 127.0.0.1:9000).`);
  const onlyPort = /^\d+$/.test(v);
  const host = onlyPort ? '127.0.0.1' : (m[1] ?? m[2] ?? '') || '127.0.0.1';
  const port = onlyPort ? Number(v) : m[3] === undefined ? 0 : Number(m[3]);
  if (port > 65_535) fail(`port ${port} is above 65535.`);
  return { host, port };
}
