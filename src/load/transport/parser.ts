// The HTTP/1.1 response parser of the raw transport: http-parser-js (the pure-JS parser autocannon
// reads every answer with), one instance per connection. Nothing here parses HTTP by hand: this file
// adapts the library's callbacks to the raw connection and makes it refuse, as undici's llhttp does,
// five things it would otherwise let through on a hostile target (the conformance suite checks each):
//   - a status code of more or fewer than three digits (`HTTP/1.1 2010` would read as 201),
//   - a header line that is not `name: value` with a token for name (http-parser-js skips it),
//   - a chunk-size line that is not hex (http-parser-js reads `zz` as 0, the end of the body),
//   - a Content-Length that is not a number,
//   - a response head larger than maxHeaderSize that arrived in one read (the library checks the size
//     only between reads).
// The status-line, header-line and chunk-size checks replace three methods of http-parser-js 0.5 (the version is
// pinned by package.json's ^0.5): the body of the library's own method, plus the check.
import httpParser from 'http-parser-js';

const { HTTPParser } = httpParser;

/** What the parser calls back into: one raw connection. Return OK to go on, STOP to stop parsing now. */
export interface ParserOwner {
  /** A response head. Return SKIP_BODY for an answer without a body (1xx, HEAD, 204, 304). */
  onHead(statusCode: number, headers: string[], statusText: string, shouldKeepAlive: boolean, upgrade: boolean): number;
  /** `chunk` is a view on the read buffer, valid only during the call. */
  onBody(chunk: Buffer): number;
  onMessageComplete(): number;
  /** A chunked answer's trailers, before onMessageComplete. */
  onTrailers(trailers: string[]): void;
}

export const OK = 0;
export const SKIP_BODY = 1;
export const STOP = -1;

/** What execute() and finish() return besides an Error: all bytes parsed, or a callback said STOP. */
export const PARSED = 0;
export const STOPPED = 1;

/** An error the library reports, with its code (HPE_…) when it has one. */
export class ParseFailure {
  readonly reason: string;
  readonly headersOverflow: boolean;
  constructor(reason: string, headersOverflow: boolean) {
    this.reason = reason;
    this.headersOverflow = headersOverflow;
  }
}

/** Thrown from a callback to stop execute() at once (http-parser-js rethrows what callbacks throw). */
const STOP_SIGNAL = Symbol('stop');

interface LibraryParser {
  initialize(type: string): void;
  execute(chunk: Buffer, start: number, length: number): number | Error;
  finish(): void | Error;
  maxHeaderSize: number;
  [key: number]: unknown;
  // The library's state method replaced below, and what it uses (http-parser-js 0.5).
  BODY_CHUNKHEAD: () => void;
  RESPONSE_LINE: () => void;
  parseHeader: (line: string, headers: string[]) => void;
  consumeLine(): string | undefined;
  body_bytes: number | null;
  state: string;
  info: { versionMajor: number; versionMinor: number; statusCode: number; statusMessage: string };
}

interface HeadInfo {
  statusCode: number;
  statusMessage: string;
  headers: string[];
  shouldKeepAlive: boolean;
  upgrade: boolean;
}

const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*((?:.*[^ \t])|)[ \t]*$/;
const CONTINUATION = /^[ \t]+(.*[^ \t])/;
const CHUNK_SIZE = /^[0-9A-Fa-f]+[ \t]*(;.*)?$/;
const DIGITS = /^[0-9]+$/;

/** A check of this file's failed: the bytes are not an answer llhttp would take. Thrown inside the
 * library's parse and caught in this file (#caught, or by the library itself), never seen outside. */
class Invalid {
  readonly code: string;
  readonly message = 'Parse Error';
  constructor(code: string) {
    this.code = code;
  }
}

function invalid(code: string): Invalid {
  return new Invalid(code);
}

/** http-parser-js 0.5's BODY_CHUNKHEAD, refusing a size that is not hex as llhttp does. */
function strictChunkHead(this: LibraryParser): void {
  const line = this.consumeLine();
  if (line === undefined) return;
  if (!CHUNK_SIZE.test(line)) throw invalid('HPE_INVALID_CHUNK_SIZE');
  const size = Number.parseInt(line, 16);
  this.body_bytes = size;
  this.state = size ? 'BODY_CHUNK' : 'BODY_CHUNKTRAILERS';
}

/** http-parser-js 0.5's RESPONSE_LINE, requiring exactly three digits and then a space or the end. */
function strictResponseLine(this: LibraryParser): void {
  const line = this.consumeLine();
  if (!line) return;
  const match = STATUS_LINE.exec(line);
  if (match === null) throw invalid('HPE_INVALID_STATUS');
  const info = this.info;
  info.versionMajor = +match[1];
  info.versionMinor = +match[2];
  const statusCode = (info.statusCode = +match[3]);
  info.statusMessage = match[4] ?? '';
  // Implied zero length.
  if (((statusCode / 100) | 0) === 1 || statusCode === 204 || statusCode === 304) this.body_bytes = 0;
  this.state = 'HEADER';
}

/** http-parser-js 0.5's parseHeader, refusing a line that is neither `token: value` nor a continuation. */
function strictHeader(line: string, headers: string[]): void {
  if (line.includes('\r')) throw invalid('HPE_LF_EXPECTED');
  const match = HEADER_LINE.exec(line);
  if (match !== null) {
    headers.push(match[1], match[2]);
    return;
  }
  const more = CONTINUATION.exec(line);
  if (more === null || headers.length === 0) throw invalid('HPE_INVALID_HEADER_TOKEN');
  if (headers[headers.length - 1]) headers[headers.length - 1] += ' ';
  headers[headers.length - 1] += more[1];
}

function strict(parser: LibraryParser): void {
  parser.parseHeader = strictHeader;
  parser.BODY_CHUNKHEAD = strictChunkHead;
  parser.RESPONSE_LINE = strictResponseLine;
}

export class ResponseParser {
  readonly #parser: LibraryParser;
  readonly #owner: ParserOwner;
  readonly #maxHeaderSize: number;

  constructor(owner: ParserOwner, maxHeaderSize: number) {
    this.#owner = owner;
    this.#maxHeaderSize = maxHeaderSize;
    const parser = new HTTPParser(HTTPParser.RESPONSE) as unknown as LibraryParser; // the library's own object; LibraryParser names the part used here
    parser.maxHeaderSize = maxHeaderSize;
    strict(parser);
    parser[HTTPParser.kOnHeadersComplete] = (info: HeadInfo): number => this.#onHead(info);
    parser[HTTPParser.kOnBody] = (chunk: Buffer, _offset: number, length: number): void => this.#call(this.#owner.onBody(length === chunk.length ? chunk : chunk.subarray(0, length)));
    parser[HTTPParser.kOnHeaders] = (trailers: string[]): void => this.#owner.onTrailers(trailers);
    parser[HTTPParser.kOnMessageComplete] = (): void => this.#call(this.#owner.onMessageComplete());
    this.#parser = parser;
  }

  /** Ready for the first answer on a new connection. */
  reset(): void {
    this.#parser.initialize(HTTPParser.RESPONSE);
  }

  /** Parses `length` bytes of `data` from `offset`: PARSED, STOPPED, or why the bytes are not HTTP. */
  execute(data: Buffer, offset: number, length: number): number | ParseFailure {
    try {
      const ret = this.#parser.execute(data, offset, length);
      if (typeof ret === 'number') return PARSED;
      return failure(ret);
    } catch (err) {
      return this.#caught(err);
    }
  }

  /** The connection ended: completes a body read until close, or says why the answer is incomplete. */
  finish(): number | ParseFailure {
    try {
      const ret = this.#parser.finish();
      return ret instanceof Error ? failure(ret) : PARSED;
    } catch (err) {
      return this.#caught(err);
    }
  }

  /** The library rethrows what its callbacks throw: STOP, a check of #onHead's, or the owner's own
   * error (a handler's), which goes on up. Its own parse errors it returns instead. */
  #caught(err: unknown): number | ParseFailure {
    if (err === STOP_SIGNAL) return STOPPED;
    if (err instanceof Invalid) return failure(err);
    throw err;
  }

  #call(ret: number): void {
    if (ret === STOP) throw STOP_SIGNAL;
  }

  // (reset() keeps the strict state methods: initialize() sets only data fields.)

  #onHead(info: HeadInfo): number {
    const headers = info.headers;
    let size = info.statusMessage.length + 12;
    for (let i = 0; i < headers.length; i += 2) {
      size += headers[i].length + headers[i + 1].length + 4;
      if (headers[i].length === 14 && headers[i].toLowerCase() === 'content-length' && !DIGITS.test(headers[i + 1])) throw invalid('HPE_INVALID_CONTENT_LENGTH');
    }
    if (size >= this.#maxHeaderSize) throw invalid('HPE_HEADER_OVERFLOW');
    const ret = this.#owner.onHead(info.statusCode, headers, info.statusMessage, info.shouldKeepAlive, info.upgrade);
    if (ret === STOP) throw STOP_SIGNAL;
    return ret === SKIP_BODY ? 1 : 0;
  }
}

function failure(err: unknown): ParseFailure {
  const code = (err as { code?: unknown } | null)?.code; // the library's errors carry an HPE_ code; anything else is read as a plain failure
  const message = err instanceof Error || err instanceof Invalid ? err.message : String(err);
  const overflow = code === 'HPE_HEADER_OVERFLOW' || message === 'max header size exceeded';
  return new ParseFailure(typeof code === 'string' ? code : message, overflow);
}
