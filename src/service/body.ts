// Reads a small JSON body once: content type and size checked before any parsing.
import type { IncomingMessage } from 'node:http';
import { isUtf8 } from 'node:buffer';
import { CANNED, MAX_BODY_BYTES, type Canned } from './reply.ts';

/** The parsed object, or the canned error to answer with. */
export type BodyResult = { ok: true; value: Record<string, unknown>; text: string } | { ok: false; reply: Canned };

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  if (contentType === 'application/json') return true;
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === 'application/json';
}

function parse(text: string): BodyResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reply: CANNED.malformed };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reply: CANNED.notObject };
  return { ok: true, value: value as Record<string, unknown>, text }; // a plain object (checked just above)
}

export function readJson(req: IncomingMessage, done: (r: BodyResult) => void): void {
  if (!isJson(req.headers['content-type'])) {
    req.resume();
    return done({ ok: false, reply: CANNED.unsupported });
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) {
    req.resume();
    return done({ ok: false, reply: CANNED.tooLarge });
  }
  let first: Buffer | null = null;
  let more: Buffer[] | null = null;
  let size = 0;
  let finished = false;
  req.on('data', (chunk: Buffer) => {
    if (finished) return;
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      finished = true;
      return done({ ok: false, reply: CANNED.tooLarge });
    }
    if (first === null) first = chunk;
    else (more ??= [first]).push(chunk);
  });
  // A client that disconnects mid-body never sends 'end': answer anyway so the in-flight count stays true.
  // `on`, not `once`: 'close' comes once per request anyway, and `once` costs a wrapper and its removal.
  req.on('close', () => {
    if (finished) return;
    finished = true;
    done({ ok: false, reply: CANNED.incomplete });
  });
  req.on('end', () => {
    if (finished) return;
    finished = true;
    const buf = more ? Buffer.concat(more) : first;
    if (buf === null) return done({ ok: false, reply: CANNED.malformed });
    // toString would turn every invalid sequence into U+FFFD, merging distinct user ids under one limit.
    done(isUtf8(buf) ? parse(buf.toString('utf8')) : { ok: false, reply: CANNED.notUtf8 });
  });
}
