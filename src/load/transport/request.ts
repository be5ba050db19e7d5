// Serialising one request for the raw transport: the same bytes undici's Client writes for the same
// dispatch options (request line, host, connection: keep-alive, the caller's headers in order,
// content-length, body), checked the way undici checks them, and built as one string so a request is
// one socket write.
//
// The engine renders a template into the same reused header array per journey, so from one request to
// the next most names and values are the very same strings: `HeaderCheck` remembers what it last checked
// and validates only what changed (the per-buyer values), which makes the checks nearly free.
import type { Dispatcher } from 'undici';
import { errors } from 'undici';

const { InvalidArgumentError, NotSupportedError, RequestContentLengthMismatchError } = errors;

/** Node's (and undici's) test for a header value: tab, printable ASCII and obs-text. */
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** RFC 9110 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** undici's request-target check: no control characters or spaces. */
const INVALID_PATH = /[^\u0021-\u00ff]/;
/** Request bodies are written with the header block when they are plain ASCII. */
const NON_ASCII = /[^\x00-\x7f]/;

// What a header name means to the serialiser.
const PLAIN = 0;
const HOST = 1;
const CONTENT_LENGTH = 2;
const CONNECTION = 3;

/** Methods whose requests carry a payload: an empty body still sends `content-length: 0` (as undici). */
const EXPECTS_PAYLOAD = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);

export interface SerializedRequest {
  /** The request line and headers, ending with the empty line; latin1 (header values may be obs-text). */
  head: string;
  /** The body as written after the head: null when there is none or when it is already in `head`. */
  body: Buffer | null;
  method: string;
  /** The connection is not reused after this request (as undici: `connection: close`, HEAD, a body where none is expected). */
  reset: boolean;
}

function kindOf(name: string): number {
  if (!TOKEN.test(name)) throw new InvalidArgumentError('invalid header key');
  switch (name.toLowerCase()) {
    case 'host':
      return HOST;
    case 'content-length':
      return CONTENT_LENGTH;
    case 'connection':
      return CONNECTION;
    case 'transfer-encoding':
    case 'keep-alive':
    case 'upgrade':
      throw new InvalidArgumentError(`invalid ${name.toLowerCase()} header`);
    case 'expect':
      throw new NotSupportedError('expect header not supported');
    default:
      return PLAIN;
  }
}

/** Remembers the last header list it validated (one per connection). */
export class HeaderCheck {
  readonly #names: string[] = [];
  readonly #kinds: number[] = [];
  readonly #values: string[] = [];
  #method = '';
  readonly #specials: Specials = { host: '', hostSet: false, declaredLength: -1, reset: false };

  specials(hostLine: string, reset: boolean): Specials {
    const s = this.#specials;
    s.host = hostLine;
    s.hostSet = false;
    s.declaredLength = -1;
    s.reset = reset;
    return s;
  }

  method(method: string): string {
    if (method !== this.#method) {
      if (typeof method !== 'string' || !TOKEN.test(method)) throw new InvalidArgumentError('invalid request method');
      if (method === 'CONNECT') throw new NotSupportedError('raw transport: CONNECT is not supported');
      this.#method = method;
    }
    return method;
  }

  /** The kind of header `i` named `name` (validated when it changed). */
  kind(i: number, name: string): number {
    if (this.#names[i] !== name) {
      if (typeof name !== 'string') throw new InvalidArgumentError('invalid header key');
      this.#kinds[i] = kindOf(name);
      this.#names[i] = name;
    }
    return this.#kinds[i];
  }

  value(i: number, name: string, value: unknown): string {
    if (this.#values[i] === value) return value as string;
    const text = typeof value === 'string' ? value : value === null ? '' : coerce(name, value);
    if (INVALID_HEADER_VALUE.test(text)) throw new InvalidArgumentError(`invalid ${name} header`);
    this.#values[i] = text;
    return text;
  }
}

function coerce(name: string, value: unknown): string {
  if (typeof value === 'object' || typeof value === 'function' || value === undefined) {
    throw new InvalidArgumentError(`raw transport: invalid ${name} header (only strings, numbers or null; arrays as repeated names)`);
  }
  return `${value as string | number | boolean}`;
}

/**
 * The bytes undici would write for `opts` on a connection whose default host line is `hostLine`
 * (`host: 127.0.0.1:8080\r\n`). Throws undici's error classes for what undici refuses, and
 * NotSupportedError for what the raw transport does not do (streamed bodies, upgrades, CONNECT).
 */
export function serializeRequest(opts: Dispatcher.DispatchOptions, hostLine: string, check: HeaderCheck): SerializedRequest {
  const method = check.method(opts.method ?? 'GET');
  const path = opts.path;
  if (typeof path !== 'string') throw new InvalidArgumentError('path must be a string');
  if (path[0] !== '/' && !(path.startsWith('http://') || path.startsWith('https://'))) {
    throw new InvalidArgumentError('path must be an absolute URL or start with a slash');
  }
  if (INVALID_PATH.test(path)) throw new InvalidArgumentError('invalid request path');
  if (opts.upgrade) throw new NotSupportedError('raw transport: upgrade is not supported');
  if ((opts as { query?: unknown }).query != null) throw new NotSupportedError('raw transport: query is not supported (put it in the path)');

  const s = check.specials(hostLine, method === 'HEAD');
  let lines = '';
  const headers = opts.headers;
  if (Array.isArray(headers)) {
    if (headers.length % 2 !== 0) throw new InvalidArgumentError('headers array must be even');
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      const kind = check.kind(i, name);
      const value = check.value(i + 1, name, headers[i + 1]);
      if (kind === PLAIN) lines += name + ': ' + value + '\r\n';
      else applySpecial(s, kind, value);
    }
  } else if (headers != null) {
    if (typeof headers !== 'object' || Symbol.iterator in headers) {
      throw new NotSupportedError('raw transport: headers must be a flat [name, value, ...] array or a plain object');
    }
    let i = 0;
    for (const [name, raw] of Object.entries(headers as Record<string, unknown>)) {
      if (raw === undefined) continue;
      for (const one of Array.isArray(raw) ? raw : [raw]) {
        const kind = check.kind(i, name);
        const value = check.value(i + 1, name, one);
        i += 2;
        if (kind === PLAIN) lines += name + ': ' + value + '\r\n';
        else applySpecial(s, kind, value);
      }
    }
  }

  const body = opts.body;
  let text: string | null = null;
  let bytes: Buffer | null = null;
  let length = 0;
  if (typeof body === 'string') {
    text = body;
    length = body.length;
    // Multi-byte characters: write the body as UTF-8 after the (latin1) head.
    if (length > 0 && NON_ASCII.test(body)) {
      bytes = Buffer.from(body, 'utf8');
      text = null;
      length = bytes.length;
    }
  } else if (body instanceof Uint8Array) {
    bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    length = bytes.length;
  } else if (body != null) {
    throw new NotSupportedError('raw transport: the body must be a string, a Buffer or null (no streams or iterables)');
  }
  if (s.declaredLength >= 0 && s.declaredLength !== length) throw new RequestContentLengthMismatchError();
  const expectsPayload = EXPECTS_PAYLOAD.has(method);

  let head = method + ' ' + path + ' HTTP/1.1\r\n' + s.host + (s.reset ? 'connection: close\r\n' : 'connection: keep-alive\r\n') + lines;
  if (length > 0 || expectsPayload) head += 'content-length: ' + length + '\r\n';
  head += '\r\n';
  if (text !== null) head += text;
  return {
    head,
    body: bytes !== null && bytes.length > 0 ? bytes : null,
    method,
    // As undici: a body where none is expected still goes out with keep-alive, but the connection is
    // not reused after it.
    reset: s.reset || (length > 0 && !expectsPayload),
  };
}

/** What the special headers of one request said (reused: one request is serialised at a time). */
interface Specials {
  host: string;
  hostSet: boolean;
  declaredLength: number;
  reset: boolean;
}

function applySpecial(s: Specials, kind: number, value: string): void {
  if (kind === HOST) {
    if (s.hostSet) throw new InvalidArgumentError('duplicate host header');
    s.host = 'host: ' + value + '\r\n';
    s.hostSet = true;
  } else if (kind === CONTENT_LENGTH) {
    if (s.declaredLength >= 0) throw new InvalidArgumentError('duplicate content-length header');
    if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('invalid content-length header');
    s.declaredLength = Number.parseInt(value, 10);
  } else {
    // connection: a list of tokens; `close` means the connection is not reused (undici writes its own
    // connection header, keep-alive or close, and drops the caller's).
    for (const token of value.toLowerCase().split(',')) {
      const t = token.trim();
      if (!TOKEN.test(t)) throw new InvalidArgumentError('invalid connection header');
      if (t === 'close') s.reset = true;
    }
  }
}
