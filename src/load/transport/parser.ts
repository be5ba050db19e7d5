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
// pinned by package.json's ^0.5): the body of the library's own method, plus the check. Two more are
// replaced only to be cheaper per answer, with the same results: consumeLine and userCall.
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
  chunk: Buffer;
  offset: number;
  end: number;
  line: string;
  isUserCall: boolean;
  userCall(): (ret: unknown) => unknown;
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

/** 1 for the characters of an RFC 9110 token (HEADER_LINE's name class), by char code below 128. */
const TOKEN_CHARS = new Uint8Array(128);
for (const ch of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_CHARS[ch.charCodeAt(0)] = 1;

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Whether line[start, end) holds a character a regular expression's `.` does not match. */
function hasLineTerminator(line: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

/** Whether STATUS_LINE matches `line` (HTTP/d.d ddd, then the end or a space and a reason phrase). */
function plainStatusLine(line: string): boolean {
  return (
    line.length >= 12 &&
    line.startsWith('HTTP/') &&
    isDigit(line.charCodeAt(5)) &&
    line.charCodeAt(6) === 0x2e &&
    isDigit(line.charCodeAt(7)) &&
    line.charCodeAt(8) === 0x20 &&
    isDigit(line.charCodeAt(9)) &&
    isDigit(line.charCodeAt(10)) &&
    isDigit(line.charCodeAt(11)) &&
    (line.length === 12 || (line.charCodeAt(12) === 0x20 && !hasLineTerminator(line, 13, line.length)))
  );
}

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
  const info = this.info;
  let statusCode: number;
  // The common line read with char codes (it runs once per answer): exactly what STATUS_LINE accepts and
  // captures; anything else goes through the regular expression.
  if (plainStatusLine(line)) {
    info.versionMajor = line.charCodeAt(5) - 48;
    info.versionMinor = line.charCodeAt(7) - 48;
    statusCode = info.statusCode = (line.charCodeAt(9) - 48) * 100 + (line.charCodeAt(10) - 48) * 10 + (line.charCodeAt(11) - 48);
    info.statusMessage = line.length > 12 ? line.slice(13) : '';
  } else {
    const match = STATUS_LINE.exec(line);
    if (match === null) throw invalid('HPE_INVALID_STATUS');
    info.versionMajor = +match[1];
    info.versionMinor = +match[2];
    statusCode = info.statusCode = +match[3];
    info.statusMessage = match[4] ?? '';
  }
  // Implied zero length.
  if (((statusCode / 100) | 0) === 1 || statusCode === 204 || statusCode === 304) this.body_bytes = 0;
  this.state = 'HEADER';
}

/** http-parser-js 0.5's parseHeader, refusing a line that is neither `token: value` nor a continuation. */
function strictHeader(line: string, headers: string[]): void {
  if (line.includes('\r')) throw invalid('HPE_LF_EXPECTED');
  // The common line read with char codes (it runs per header of every answer): exactly what HEADER_LINE
  // accepts and captures (name: the token before the colon; value: trimmed of spaces and tabs); a line
  // it does not take goes through the regular expressions below.
  const n = line.length;
  let colon = 0;
  for (let c = line.charCodeAt(0); colon < n && c < 128 && TOKEN_CHARS[c] === 1; c = line.charCodeAt(++colon));
  if (colon > 0 && colon < n && line.charCodeAt(colon) === 0x3a) {
    let start = colon + 1;
    let end = n;
    while (start < end && isBlank(line.charCodeAt(start))) start++;
    while (end > start && isBlank(line.charCodeAt(end - 1))) end--;
    if (!hasLineTerminator(line, start, end)) {
      headers.push(line.slice(0, colon), line.slice(start, end));
      return;
    }
  }
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

/**
 * http-parser-js 0.5's consumeLine, the same lines: the text before the next LF, read as 'ascii' (the
 * library's HTTPParser.encoding: the top bit dropped), less one trailing CR. A line whole in this read is
 * sliced once without its CR (0x0d, or 0x8d, which 'ascii' reads as CR), where the library slices, then
 * concatenates with the piece left from the last read, then slices again to drop the CR.
 */
function wholeLineConsumeLine(this: LibraryParser): string | undefined {
  const chunk = this.chunk;
  const end = this.end;
  const start = this.offset;
  for (let i = start; i < end; i++) {
    if (chunk[i] !== 0x0a) continue;
    let line: string;
    if (this.line === '') {
      const stop = i > start && (chunk[i - 1] & 0x7f) === 0x0d ? i - 1 : i;
      line = stop > start ? chunk.toString('ascii', start, stop) : '';
    } else {
      line = this.line + chunk.toString('ascii', start, i);
      if (line.charCodeAt(line.length - 1) === 0x0d) line = line.slice(0, -1);
      this.line = '';
    }
    this.offset = i + 1;
    return line;
  }
  // The line goes on in the next read.
  this.line += chunk.toString('ascii', start, end);
  this.offset = end;
  return undefined;
}

function strict(parser: LibraryParser): void {
  // http-parser-js 0.5's userCall made a closure per call (three per answer); this one is made once.
  const called = (ret: unknown): unknown => {
    parser.isUserCall = false;
    return ret;
  };
  parser.userCall = () => {
    parser.isUserCall = true;
    return called;
  };
  parser.consumeLine = wholeLineConsumeLine;
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
