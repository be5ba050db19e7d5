// Serialising one request for the raw transport: the same bytes undici's Client writes for the same
// dispatch options (request line, host, connection: keep-alive, the caller's headers in order,
// content-length, body), checked the way undici checks them, and built as one string so a request is
// one socket write.
//
// It runs per request, so it is written for the engine's case: a journey renders its template into the
// same header array every time, so names (and the path, often) are the very strings checked last time
// and are not checked again; values, which change per buyer, are checked with a character loop, which
// for short strings is several times cheaper than a regular expression.
import type { Dispatcher } from 'undici';
import { errors } from 'undici';

const { InvalidArgumentError, NotSupportedError, RequestContentLengthMismatchError } = errors;

/** RFC 9110 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// What a header name means to the serialiser.
const PLAIN = 0;
const HOST = 1;
const CONTENT_LENGTH = 2;
const CONNECTION = 3;

/** Methods whose requests carry a payload: an empty body still sends `content-length: 0` (as undici). */
const EXPECTS_PAYLOAD = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);

export interface SerializedRequest {
  /** The request line and headers, the empty line, and an ASCII body; written as latin1 (header values may be obs-text). */
  head: string;
  /** The body when it is not in `head` (bytes, or text with multi-byte characters); else null. */
  body: Buffer | null;
  method: string;
  /** The connection is not reused after this request (as undici: `connection: close`, HEAD, a body where none is expected). */
  reset: boolean;
}

/** Node's (and undici's) header value check: tab, printable ASCII and obs-text (0x80–0xff). */
function validValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/** undici's request-target check: no control characters, spaces or characters above 0xff. */
function validPath(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c > 0xff) return false;
  }
  return true;
}

function kindOf(name: string): number {
  if (typeof name !== 'string' || !TOKEN.test(name)) throw new InvalidArgumentError('invalid header key');
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

function text(name: string, value: unknown): string {
  const s = typeof value === 'string' ? value : value === null ? '' : coerce(name, value);
  if (!validValue(s)) throw new InvalidArgumentError(`invalid ${name} header`);
  return s;
}

function coerce(name: string, value: unknown): string {
  if (typeof value === 'object' || typeof value === 'function' || value === undefined) {
    throw new InvalidArgumentError(`raw transport: invalid ${name} header (only strings, numbers or null; arrays as repeated names)`);
  }
  return `${value as string | number | boolean}`; // the other types were handled above
}

/** One per connection: serialises its requests and remembers what it already checked. */
export class RequestSerializer {
  readonly #hostLine: string;
  /** The last serialize()'s result, reused: copy what must outlive the next call. */
  readonly #out: SerializedRequest = { head: '', body: null, method: '', reset: false };
  readonly #names: string[] = [];
  readonly #kinds: number[] = [];
  #method = '';
  #expectsPayload = false;
  #path = '';
  // What the special headers of the request being serialised said.
  #host = '';
  #hostSet = false;
  #declaredLength = -1;
  #reset = false;

  /** `hostLine`: the default host header, e.g. `host: 127.0.0.1:8080\r\n` (as undici writes it). */
  constructor(hostLine: string) {
    this.#hostLine = hostLine;
  }

  /**
   * The bytes undici would write for `opts`. Throws undici's error classes for what undici refuses, and
   * NotSupportedError for what the raw transport does not do (streamed bodies, upgrades, CONNECT).
   */
  serialize(opts: Dispatcher.DispatchOptions): SerializedRequest {
    const method = opts.method ?? 'GET';
    if (method !== this.#method) this.#checkMethod(method);
    const path = opts.path;
    if (path !== this.#path) this.#checkPath(path);
    if (opts.upgrade) throw new NotSupportedError('raw transport: upgrade is not supported');
    if ((opts as { query?: unknown }).query != null) throw new NotSupportedError('raw transport: query is not supported (put it in the path)'); // undici's DispatchOptions may carry query, which this transport refuses

    this.#host = this.#hostLine;
    this.#hostSet = false;
    this.#declaredLength = -1;
    this.#reset = method === 'HEAD';
    let lines = '';
    const headers = opts.headers;
    if (Array.isArray(headers)) {
      if (headers.length % 2 !== 0) throw new InvalidArgumentError('headers array must be even');
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i] as string; // flat header arrays alternate name, value; names are strings (checked as tokens below)
        const kind = this.#kind(i, name);
        const value = text(name, headers[i + 1]);
        if (kind === PLAIN) lines += name + ': ' + value + '\r\n';
        else this.#special(kind, value);
      }
    } else if (headers != null) {
      if (typeof headers !== 'object' || Symbol.iterator in headers) {
        throw new NotSupportedError('raw transport: headers must be a flat [name, value, ...] array or a plain object');
      }
      let i = 0;
      for (const [name, raw] of Object.entries(headers as Record<string, unknown>)) { // an object of headers (arrays were handled above)
        if (raw === undefined) continue;
        for (const one of Array.isArray(raw) ? raw : [raw]) {
          const kind = this.#kind(i, name);
          i += 2;
          if (kind === PLAIN) lines += name + ': ' + text(name, one) + '\r\n';
          else this.#special(kind, text(name, one));
        }
      }
    }

    const body = opts.body;
    let inline: string | null = null;
    let bytes: Buffer | null = null;
    let length = 0;
    if (typeof body === 'string') {
      length = Buffer.byteLength(body, 'utf8');
      // Plain ASCII goes out with the head in one latin1 write; multi-byte text is written as UTF-8 after it.
      if (length === body.length) inline = body;
      else bytes = Buffer.from(body, 'utf8');
    } else if (body instanceof Uint8Array) {
      bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      length = bytes.length;
    } else if (body != null) {
      throw new NotSupportedError('raw transport: the body must be a string, a Buffer or null (no streams or iterables)');
    }
    if (this.#declaredLength >= 0 && this.#declaredLength !== length) throw new RequestContentLengthMismatchError();

    let head = method + ' ' + path + ' HTTP/1.1\r\n' + this.#host + (this.#reset ? 'connection: close\r\n' : 'connection: keep-alive\r\n') + lines;
    if (length > 0 || this.#expectsPayload) head += 'content-length: ' + length + '\r\n';
    head += '\r\n';
    if (inline !== null) head += inline;
    const out = this.#out;
    out.head = head;
    out.body = bytes !== null && bytes.length > 0 ? bytes : null;
    out.method = method;
    // As undici: a body where none is expected still goes out with keep-alive, but the connection is not
    // reused after it.
    out.reset = this.#reset || (length > 0 && !this.#expectsPayload);
    return out;
  }

  #checkMethod(method: string): void {
    if (typeof method !== 'string' || !TOKEN.test(method)) throw new InvalidArgumentError('invalid request method');
    if (method === 'CONNECT') throw new NotSupportedError('raw transport: CONNECT is not supported');
    this.#method = method;
    this.#expectsPayload = EXPECTS_PAYLOAD.has(method);
  }

  #checkPath(path: unknown): void {
    if (typeof path !== 'string') throw new InvalidArgumentError('path must be a string');
    if (path[0] !== '/' && !(path.startsWith('http://') || path.startsWith('https://'))) {
      throw new InvalidArgumentError('path must be an absolute URL or start with a slash');
    }
    if (!validPath(path)) throw new InvalidArgumentError('invalid request path');
    this.#path = path;
  }

  /** The kind of header `i` named `name`, checked only when the name at `i` changed. */
  #kind(i: number, name: string): number {
    if (this.#names[i] !== name) {
      this.#kinds[i] = kindOf(name);
      this.#names[i] = name;
    }
    return this.#kinds[i];
  }

  #special(kind: number, value: string): void {
    if (kind === HOST) {
      if (this.#hostSet) throw new InvalidArgumentError('duplicate host header');
      this.#host = 'host: ' + value + '\r\n';
      this.#hostSet = true;
    } else if (kind === CONTENT_LENGTH) {
      if (this.#declaredLength >= 0) throw new InvalidArgumentError('duplicate content-length header');
      if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('invalid content-length header');
      this.#declaredLength = Number.parseInt(value, 10);
    } else {
      // connection: a list of tokens; `close` means the connection is not reused (undici writes its own
      // connection header, keep-alive or close, and drops the caller's).
      for (const token of value.toLowerCase().split(',')) {
        const t = token.trim();
        if (!TOKEN.test(t)) throw new InvalidArgumentError('invalid connection header');
        if (t === 'close') this.#reset = true;
      }
    }
  }
}
