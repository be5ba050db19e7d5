// What came back, or why nothing did: an answer's body read as JSON, the engine's own request timeout,
// and a short name for a failure without an answer (counted in counts.errorsByKind).
import { codeOf } from '../errors.ts';

/** Parses a body as JSON, or undefined when it is not JSON. */
export function parseJson(body: Buffer | null): unknown {
  if (!body || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export const TIMEOUT_CODE = 'FLASHSALE_REQUEST_TIMEOUT';

/** Raised by the engine's own per-request timeout (journey.timeoutMs). Never reaches a user (it is
 * counted as the request's 'timeout' kind), so it stays here rather than in src/errors.ts. */
export class RequestTimeoutError extends Error {
  readonly code = TIMEOUT_CODE;
  constructor(timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
  }
}

/** A short, stable name for why a request failed without an answer. */
export function errorKind(err: unknown): string {
  const code = codeOf(err);
  if (code === TIMEOUT_CODE || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout';
  if (typeof code === 'string') return code.startsWith('UND_ERR_') ? code.slice(8).toLowerCase() : code;
  return (err as Error)?.name ?? 'unknown'; // an Error or anything thrown: its name if it has one
}
