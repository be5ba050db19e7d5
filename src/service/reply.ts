// Responses: JSON errors `{error, message}`, and the answers the hot path sends most, built once.
import type { ServerResponse } from 'node:http';

export const MAX_BODY_BYTES = 16 * 1024;

export function errorBody(error: string, message: string): string {
  return JSON.stringify({ error, message });
}

/** A response fixed at startup: its body and header list are built once and reused. */
export interface Canned { status: number; body: Buffer; headers: string[] }

export function canned(status: number, body: string, extra: string[] = []): Canned {
  const buf = Buffer.from(body);
  return { status, body: buf, headers: ['content-type', 'application/json', 'content-length', String(buf.length), ...extra] };
}

export const CANNED = {
  shed: canned(503, errorBody('overloaded', 'too many requests in flight on this server thread; retry after a second'), ['retry-after', '1']),
  malformed: canned(400, errorBody('malformed_json', 'the request body is not valid JSON')),
  notUtf8: canned(400, errorBody('invalid_utf8', 'the request body is not valid UTF-8')),
  notObject: canned(400, errorBody('bad_request', 'the request body must be a JSON object')),
  unsupported: canned(415, errorBody('unsupported_media_type', 'send the body as Content-Type: application/json')),
  tooLarge: canned(413, errorBody('payload_too_large', `the request body is over ${MAX_BODY_BYTES} bytes`), ['connection', 'close']),
  incomplete: canned(400, errorBody('incomplete_body', 'the connection closed before the whole body arrived')),
  recovering: canned(503, errorBody('recovering', 'a server thread crashed and its purchases are being settled; retry in a second'), ['retry-after', '1']),
  shuttingDown: canned(503, errorBody('shutting_down', 'the server is shutting down'), ['retry-after', '1', 'connection', 'close']),
  notFound: canned(404, errorBody('not_found', 'no such route')),
  unauthorized: canned(401, errorBody('unauthorized', 'send Authorization: Bearer <admin token>'), ['www-authenticate', 'Bearer']),
  health: canned(200, '{"status":"ok"}'),
} as const;

export function sendJson(res: ServerResponse, status: number, body: string | Buffer, extra?: string[]): void {
  const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  const headers = ['content-type', 'application/json', 'content-length', String(len)];
  if (extra) headers.push(...extra);
  res.writeHead(status, headers);
  res.end(body);
}

export function sendCanned(res: ServerResponse, c: Canned): void {
  res.writeHead(c.status, c.headers);
  res.end(c.body);
}
