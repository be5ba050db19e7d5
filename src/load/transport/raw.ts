// The raw transport: one `net` socket to a plain http:// origin, one request in flight at a time (no
// pipelining), answers parsed by http-parser-js (parser.ts). It offers the part of undici's Client the load
// engine uses, with the same legacy handler calls, so the engine can hold either:
//
//   dispatch(opts, handler)  handler.onConnect(abort) when the request is written, then for each answer
//                            onHeaders(status, rawHeaders, resume, statusText) (1xx first, if any),
//                            onData(chunk)..., onComplete(trailers); or onError(err), once, instead.
//   close() / destroy()      as undici's.
//
// Why it is cheaper than undici: a request is one string built from the caller's options and one
// socket write; all connections of a thread read into one shared buffer (net's `onread`), so a read
// allocates nothing (and with chunkViews, neither does handing the body over); the parser is called once
// per read with three callbacks; there are no timers per request (the engine times requests out itself,
// through the handler's abort). Where it knowingly differs from undici is listed in docs/load-engine.md
// ("Transports").
import { maxHeaderSize as NODE_MAX_HEADER_SIZE } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { errors } from 'undici';
import { OK, PARSED, ParseFailure, ResponseParser, SKIP_BODY, STOP, STOPPED, type ParserOwner } from './parser.ts';
import { RequestSerializer, type SerializedRequest } from './request.ts';
import { codeOf } from '../../errors.ts';

const {
  ClientClosedError,
  ClientDestroyedError,
  ConnectTimeoutError,
  HeadersOverflowError,
  HTTPParserError,
  InvalidArgumentError,
  NotSupportedError,
  RequestAbortedError,
  ResponseContentLengthMismatchError,
  SocketError,
} = errors;

export interface RawClientOptions {
  /** ms to wait for the TCP connection; undici's default 10 s. */
  connectTimeout?: number | null;
  /** ms an idle connection is reused when the server gave no `Keep-Alive: timeout=`; undici's default 4 s. */
  keepAliveTimeout?: number | null;
  /** Upper bound for a server's keep-alive hint (undici: 600 s). */
  keepAliveMaxTimeout?: number | null;
  /** Subtracted from the server's keep-alive hint, so the client lets go first (undici: 2 s). */
  keepAliveTimeoutThreshold?: number | null;
  /** Largest response head in bytes (undici and Node: http.maxHeaderSize, 16 KiB). */
  maxHeaderSize?: number | null;
  /** Give onHeaders the raw header list and status text (off: an empty list and '', which is cheaper). */
  rawHeaders?: boolean;
  /** onData gets a view on the shared read buffer, valid only during the call: a handler that keeps a
   * chunk copies it (off, as undici: every chunk is the handler's own copy). */
  chunkViews?: boolean;
  // undici Client options the engine passes, accepted as long as they mean what the raw transport does.
  /** Only 1: one request in flight per connection. */
  pipelining?: number | null;
  /** Only 0 or null: the raw transport arms no per-request timers; the caller aborts. */
  headersTimeout?: number | null;
  bodyTimeout?: number | null;
}

type Handler = Dispatcher.DispatchHandler;

/** A request serialised at dispatch time, waiting for its connection. */
interface Waiting extends SerializedRequest {
  /** null while kept for reuse. */
  handler: Handler | null;
}

/** Every connection of this thread reads into this buffer: a read is parsed before the next one. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const NO_HEADERS: Buffer[] = [];
const NO_TRAILERS: string[] = [];
const noResume = (): void => undefined;


export class RawClient implements ParserOwner {
  readonly #hostname: string;
  readonly #port: number;
  readonly #connectTimeout: number;
  readonly #keepAliveDefault: number;
  readonly #keepAliveMax: number;
  readonly #keepAliveThreshold: number;
  readonly #maxHeaderSize: number;
  readonly #wantHeaders: boolean;
  readonly #chunkViews: boolean;
  readonly #serializer: RequestSerializer;
  readonly #queue: Waiting[] = [];
  /** Queue entries written and kept for reuse: the engine queues (from onComplete) nearly every request. */
  readonly #spare: Waiting[] = [];

  #socket: Socket | null = null;
  #connected = false;
  #connectTimer: NodeJS.Timeout | null = null;
  #connectCheck: NodeJS.Immediate | null = null;
  /** The response parser, made on first connect; reset before the first read of each new socket. */
  #parser: ResponseParser | null = null;
  #parserFresh = false;
  /** Parsing a read: nothing is written until the whole read is parsed (see #onRead). */
  #reading = false;
  #idleSince = 0;
  #keepAliveMs: number;
  #closing = false;
  #destroyed = false;
  #onIdle: (() => void) | null = null;
  /** 'connect' / 'disconnect' listeners (the two events of undici's the engine counts). */
  #onConnect: Array<() => void> = [];
  #onDisconnect: Array<() => void> = [];

  // The request in flight.
  #handler: Handler | null = null;
  #method = '';
  #reset = false;
  #seq = 0;
  /** An error a parser callback found; reported when execute() returns. */
  #pendingError: Error | null = null;

  // The answer being parsed.
  #status = 0;
  #finalStatus = 0;
  #keepAlive = false;
  #contentLength = -1;
  #bytesRead = 0;
  #trailers: string[] = NO_TRAILERS;

  constructor(url: string | URL, options: RawClientOptions = {}) {
    const u = typeof url === 'string' ? new URL(url) : url;
    if (u.protocol !== 'http:') {
      throw new InvalidArgumentError(`raw transport: ${u.protocol}// is not supported (plain http:// only; ${u.origin} needs the undici transport)`);
    }
    if (options.pipelining != null && options.pipelining !== 1) throw new InvalidArgumentError('raw transport: pipelining must be 1');
    if (options.headersTimeout || options.bodyTimeout) {
      throw new InvalidArgumentError('raw transport: headersTimeout/bodyTimeout are not supported (0 or unset: abort through the handler)');
    }
    this.#hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    this.#port = u.port ? Number(u.port) : 80;
    this.#serializer = new RequestSerializer(`host: ${u.hostname}${u.port ? `:${u.port}` : ''}\r\n`);
    this.#connectTimeout = options.connectTimeout ?? 10_000;
    this.#keepAliveDefault = options.keepAliveTimeout ?? 4_000;
    this.#keepAliveMax = options.keepAliveMaxTimeout ?? 600_000;
    this.#keepAliveThreshold = options.keepAliveTimeoutThreshold ?? 2_000;
    this.#maxHeaderSize = options.maxHeaderSize ?? NODE_MAX_HEADER_SIZE;
    this.#wantHeaders = options.rawHeaders === true;
    this.#chunkViews = options.chunkViews === true;
    this.#keepAliveMs = this.#keepAliveDefault;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  get closed(): boolean {
    return this.#closing;
  }

  /** As undici's Client: 'connect' when a socket connects, 'disconnect' when a connected socket is gone
   * (closed by either side or by an error). Listeners get no arguments. */
  on(event: 'connect' | 'disconnect', listener: () => void): this {
    if (event === 'connect') this.#onConnect.push(listener);
    else this.#onDisconnect.push(listener);
    return this;
  }

  /** Sends a request (now, or when the connection is free) and reports to `handler`; false if refused at once. */
  dispatch(opts: Dispatcher.DispatchOptions, handler: Handler): boolean {
    let req: SerializedRequest;
    try {
      checkHandler(handler);
      if (this.#destroyed) throw new ClientDestroyedError();
      if (this.#closing) throw new ClientClosedError();
      req = this.#serializer.serialize(opts);
    } catch (err) {
      if (typeof handler?.onError !== 'function') throw err;
      handler.onError(err as Error); // what the serializer or checkHandler throws is an Error
      return false;
    }
    if (this.#handler === null && this.#queue.length === 0 && this.#connected && !this.#reading && this.#stillFresh()) {
      this.#write(req.head, req.body, req.method, req.reset, handler);
    } else {
      const w = this.#spare.pop();
      if (w === undefined) this.#queue.push({ head: req.head, body: req.body, method: req.method, reset: req.reset, handler });
      else {
        w.head = req.head;
        w.body = req.body;
        w.method = req.method;
        w.reset = req.reset;
        w.handler = handler;
        this.#queue.push(w);
      }
      this.#next();
    }
    return true;
  }

  /** Lets queued and in-flight requests finish, then closes the connection. */
  close(): Promise<void> {
    this.#closing = true;
    return new Promise((resolve) => {
      const done = () => {
        this.#closeSocket();
        resolve();
      };
      if (this.#handler === null && this.#queue.length === 0) done();
      else this.#onIdle = done;
    });
  }

  /** Closes the connection now; requests queued or in flight get `err` (default ClientDestroyedError). */
  destroy(err?: Error | null): Promise<void> {
    if (this.#destroyed) return Promise.resolve();
    this.#destroyed = true;
    this.#closing = true;
    const error = err ?? new ClientDestroyedError();
    const socket = this.#socket;
    const handler = this.#handler;
    this.#handler = null;
    this.#closeSocket();
    if (handler) handler.onError!(error); // checkHandler() made sure every handler has its callbacks
    this.#failQueued(error);
    if (this.#onIdle) this.#onIdle();
    if (!socket || socket.closed) return Promise.resolve();
    return new Promise((resolve) => socket.once('close', () => resolve()));
  }

  // Connection ------------------------------------------------------------------------------------

  /** Starts the next queued request if the connection can take it (connecting first if needed). */
  #next(): void {
    if (this.#handler !== null || this.#reading) return;
    if (this.#queue.length === 0) {
      if (this.#onIdle && this.#closing) this.#onIdle();
      return;
    }
    if (this.#socket === null) return this.#connect();
    if (!this.#connected) return;
    const w = this.#queue.shift()!; // the queue's length was checked above
    const { head, body, method, reset, handler } = w;
    w.handler = null;
    w.body = null;
    this.#spare.push(w);
    this.#write(head, body, method, reset, handler!); // a queued request always carries its handler (cleared only as it leaves the queue)
  }

  /** False (and the socket dropped) when the connection sat idle longer than the server keeps it. */
  #stillFresh(): boolean {
    if (performance.now() - this.#idleSince <= this.#keepAliveMs) return true;
    this.#closeSocket();
    return false;
  }

  #connect(): void {
    this.#parser ??= new ResponseParser(this, this.#maxHeaderSize);
    this.#parserFresh = false;
    this.#keepAliveMs = this.#keepAliveDefault;
    const socket: Socket = connect({
      host: this.#hostname,
      port: this.#port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 60_000,
      onread: { buffer: READ_BUFFER, callback: (n: number): boolean => this.#onRead(socket, n) },
    });
    this.#socket = socket;
    this.#connected = false;
    // As undici: the timeout is checked once more after the next poll for I/O, so a connection that
    // completed while the event loop was busy is not reported as timed out. 0: no timeout.
    const timer = this.#connectTimeout > 0 ? setTimeout(() => (this.#connectCheck = setImmediate(() => this.#connectTimedOut(socket))), this.#connectTimeout) : null;
    this.#connectTimer = timer;
    socket.once('connect', () => {
      if (socket !== this.#socket) return;
      this.#clearConnectTimer();
      this.#connected = true;
      this.#idleSince = performance.now();
      for (const f of this.#onConnect) f();
      this.#next();
    });
    socket.on('error', (err: Error) => this.#onSocketError(socket, err));
    socket.on('end', () => this.#onEnd(socket));
    socket.on('close', () => {
      if (socket === this.#socket) this.#onGone(new SocketError('closed'));
    });
  }

  #connectTimedOut(socket: Socket): void {
    this.#connectCheck = null;
    if (socket !== this.#socket || this.#connected) return;
    const attempted = (socket as Socket & { autoSelectFamilyAttemptedAddresses?: string[] }).autoSelectFamilyAttemptedAddresses; // set by Node after an autoSelectFamily connect fails; not in its types
    const where = Array.isArray(attempted) ? `attempted addresses: ${attempted.join(', ')},` : `attempted address: ${this.#hostname}:${this.#port},`;
    socket.destroy(new ConnectTimeoutError(`Connect Timeout Error (${where} timeout: ${this.#connectTimeout}ms)`));
  }

  #clearConnectTimer(): void {
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    if (this.#connectCheck) clearImmediate(this.#connectCheck);
    this.#connectTimer = null;
    this.#connectCheck = null;
  }

  #onSocketError(socket: Socket, err: Error): void {
    if (socket !== this.#socket) return;
    if (!this.#connected) {
      // Could not connect: every request waiting for this connection fails with the reason (as undici).
      this.#closeSocket();
      this.#failQueued(err);
      return;
    }
    // Some systems report a reset where a close-delimited answer was complete (undici does the same).
    if (codeOf(err) === 'ECONNRESET' && this.#finalStatus !== 0 && !this.#keepAlive) return this.#finishAtEof();
    this.#onGone(err);
  }

  #onEnd(socket: Socket): void {
    if (socket !== this.#socket) return;
    if (this.#handler !== null && this.#finalStatus !== 0 && !this.#keepAlive) return this.#finishAtEof();
    this.#onGone(new SocketError('other side closed'));
  }

  /** The server closed while an answer that ends at close was being read: it may be complete. */
  #finishAtEof(): void {
    const ret = this.#parser!.finish(); // a connection (and so a parser) exists
    if (this.#handler !== null) {
      const err = this.#pendingError ?? (ret === PARSED || ret === STOPPED ? new SocketError('other side closed') : this.#parserError(ret, Buffer.alloc(0)));
      this.#pendingError = null;
      return this.#onGone(err);
    }
    this.#closeSocket();
    this.#next();
  }

  /** The connection is gone: the request in flight fails with `err`; queued ones go on a new connection. */
  #onGone(err: Error): void {
    this.#closeSocket();
    const handler = this.#handler;
    this.#handler = null;
    this.#next();
    if (handler !== null) handler.onError!(err); // checkHandler() made sure every handler has its callbacks
  }

  #closeSocket(): void {
    const socket = this.#socket;
    if (socket === null) return;
    this.#socket = null;
    const wasConnected = this.#connected;
    this.#connected = false;
    this.#clearConnectTimer();
    socket.destroy();
    // Every way a connected socket goes (the server's close, an error, keep-alive over, destroy) passes here.
    if (wasConnected) for (const f of this.#onDisconnect) f();
  }

  #failQueued(err: Error): void {
    const queued = this.#queue.splice(0);
    for (const w of queued) w.handler!.onError!(err); // queued requests carry their handler; checkHandler() checked its callbacks
  }

  // Requests --------------------------------------------------------------------------------------

  #write(head: string, body: Buffer | null, method: string, reset: boolean, handler: Handler): void {
    const seq = ++this.#seq;
    this.#handler = handler;
    this.#method = method;
    this.#reset = reset;
    this.#finalStatus = 0;
    try {
      handler.onConnect!((err?: Error) => this.#abort(seq, err)); // checkHandler() made sure every handler has its callbacks
    } catch (err) {
      if (this.#seq === seq && this.#handler === handler) {
        this.#handler = null;
        handler.onError!(err as Error); // what a handler's onConnect throws is an Error (or is treated as one)
        this.#next();
      }
      return;
    }
    // Aborted from inside onConnect.
    if (this.#seq !== seq || this.#handler !== handler) return;
    const socket = this.#socket!; // #next writes only on a connected socket
    if (body === null) socket.write(head, 'latin1');
    else {
      socket.cork();
      socket.write(head, 'latin1');
      socket.write(body);
      socket.uncork();
    }
  }

  #abort(seq: number, err?: Error): void {
    if (seq !== this.#seq || this.#handler === null) return; // answered, failed, or another request now
    // The rest of this answer can no longer be told apart from the next one: drop the connection.
    this.#onGone(err ?? new RequestAbortedError());
  }

  // Reading -----------------------------------------------------------------------------------------

  #onRead(socket: Socket, n: number): boolean {
    if (socket !== this.#socket) return false;
    const parser = this.#parser!; // made by #connect before the socket exists
    if (!this.#parserFresh) {
      parser.reset();
      this.#parserFresh = true;
    }
    // A request the caller dispatches from onComplete waits until this read is parsed: bytes after the
    // answer (garbage, an answer nobody asked for) must drop this connection before anything else is
    // written on it, or they would be read as the next request's answer.
    let ret: number | ParseFailure;
    this.#reading = true;
    try {
      ret = parser.execute(READ_BUFFER, 0, n);
    } catch (err) {
      // A handler callback threw. Before the answer completed, the request fails with that error (as
      // undici); after it, it is the caller's bug and is rethrown.
      this.#reading = false;
      if (this.#handler === null) {
        this.#closeSocket();
        throw err;
      }
      this.#onGone(err as Error); // what a handler callback throws is an Error (or is treated as one)
      return false;
    }
    this.#reading = false;
    if (ret !== PARSED && socket === this.#socket) {
      const err = this.#pendingError ?? this.#parserError(ret, READ_BUFFER.subarray(0, n));
      this.#pendingError = null;
      // Bytes with no request waiting for them (an unasked-for answer, garbage on an idle connection):
      // the connection cannot be trusted; it is dropped and nobody is told, as undici does.
      if (this.#handler === null) this.#closeSocket();
      else return this.#onGone(err), false;
    }
    this.#next();
    return socket === this.#socket;
  }

  /** undici's error for a parse failure: a length mismatch when the body was cut short, an overflow, else the parser's. */
  #parserError(ret: number | ParseFailure, data: Buffer): Error {
    if (this.#contentLength >= 0 && this.#bytesRead !== this.#contentLength && this.#finalStatus !== 0) return new ResponseContentLengthMismatchError();
    if (ret instanceof ParseFailure && ret.headersOverflow) return new HeadersOverflowError();
    // A Content-Length that is not a number: undici reports a length mismatch.
    if (ret instanceof ParseFailure && ret.reason === 'HPE_INVALID_CONTENT_LENGTH') return new ResponseContentLengthMismatchError();
    // undici 7 passes llhttp's error number where its name is expected, so its HTTPParserError has no
    // code; the same here, so both transports count the same kind of error.
    const ParserError = HTTPParserError as unknown as new (message: string, code: string | undefined, data: Buffer) => Error;
    const reason = ret instanceof ParseFailure ? ret.reason : 'stopped';
    return new ParserError(`Response does not match the HTTP/1.1 protocol (${reason})`, undefined, Buffer.from(data));
  }

  // Parser callbacks (during execute()) -------------------------------------------------------------

  onHead(statusCode: number, headers: string[], statusText: string, shouldKeepAlive: boolean, upgrade: boolean): number {
    const handler = this.#handler;
    if (handler === null) return STOP; // an answer nobody asked for
    const seq = this.#seq;
    // An upgrade nobody asked for: the rest of the stream is not HTTP any more (undici: the same error).
    if (upgrade) return this.#stop(new SocketError('bad upgrade'));
    this.#status = statusCode;
    this.#contentLength = -1;
    this.#bytesRead = 0;
    let keepAliveHint: string | null = null;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      if (name.length === 14 && name.toLowerCase() === 'content-length') this.#contentLength = Number(headers[i + 1]);
      else if (name.length === 10 && name.toLowerCase() === 'keep-alive') keepAliveHint = headers[i + 1];
    }
    if (statusCode >= 200) {
      this.#finalStatus = statusCode;
      this.#keepAlive = shouldKeepAlive && !this.#reset;
      if (this.#keepAlive) this.#keepAliveMs = this.#keepAliveHint(keepAliveHint);
    }
    // 1xx answers (100 Continue included, RFC 9110 §15.2) go to onHeaders and the final answer follows;
    // a false return (pause) is not honoured: the engine never pauses.
    if (this.#wantHeaders) handler.onHeaders!(statusCode, headers.map((h) => Buffer.from(h, 'latin1')), noResume, statusText); // as below
    else handler.onHeaders!(statusCode, NO_HEADERS, noResume, ''); // the handler was checked non-null above (checkHandler: it has every callback)
    if (this.#seq !== seq || this.#handler !== handler) return STOP; // aborted from onHeaders
    // No body: 1xx, HEAD, 204 and 304 (a length they carry is the representation's, as llhttp reads it).
    if (statusCode < 200 || statusCode === 204 || statusCode === 304 || this.#method === 'HEAD') return SKIP_BODY;
    return OK;
  }

  onBody(view: Buffer): number {
    const handler = this.#handler!; // the parser calls back only while a request is in flight
    const length = view.length;
    this.#bytesRead += length;
    // A copy (unless the handler said it copies what it keeps): the read buffer is reused by the next read.
    let chunk = view;
    if (!this.#chunkViews) {
      chunk = Buffer.allocUnsafe(length);
      view.copy(chunk, 0, 0, length);
    }
    const seq = this.#seq;
    handler.onData!(chunk); // checkHandler() made sure every handler has its callbacks
    if (this.#seq !== seq || this.#handler !== handler) return STOP; // aborted from onData
    return OK;
  }

  onTrailers(trailers: string[]): void {
    if (this.#wantHeaders) this.#trailers = trailers.slice();
  }

  onMessageComplete(): number {
    if (this.#status < 200) return OK; // a 1xx answer ended; the final one follows
    const handler = this.#handler!;
    if (this.#method !== 'HEAD' && this.#contentLength >= 0 && this.#bytesRead !== this.#contentLength) {
      return this.#stop(new ResponseContentLengthMismatchError());
    }
    const socket = this.#socket!; // the answer is read from the live socket
    // Reused only when the server keeps it open and the whole request was written (as undici).
    const keep = this.#keepAlive && socket.writableLength === 0;
    this.#handler = null;
    this.#finalStatus = 0;
    const trailers = this.#trailers;
    this.#trailers = NO_TRAILERS;
    if (keep) {
      this.#idleSince = performance.now();
      handler.onComplete!(trailers); // checkHandler() made sure every handler has its callbacks
      return OK;
    }
    this.#closeSocket();
    handler.onComplete!(trailers); // checkHandler() made sure every handler has its callbacks
    return STOP; // whatever follows on this connection is not read
  }

  /** Reports `err` once execute() returns, and stops the parser now. */
  #stop(err: Error): number {
    this.#pendingError ??= err;
    return STOP;
  }

  /** How long this connection may sit idle: the server's `Keep-Alive: timeout=N` less the threshold, as undici. */
  #keepAliveHint(value: string | null): number {
    if (value === null) return this.#keepAliveDefault;
    const m = /timeout=(\d+)/i.exec(value);
    if (m === null) return this.#keepAliveDefault;
    const ms = Math.min(Number(m[1]) * 1000 - this.#keepAliveThreshold, this.#keepAliveMax);
    if (ms <= 0) this.#keepAlive = false;
    return ms;
  }
}

function checkHandler(handler: Handler): void {
  if (!handler || typeof handler !== 'object') throw new InvalidArgumentError('handler must be an object');
  if (typeof (handler as { onRequestStart?: unknown }).onRequestStart === 'function') { // undici's newer handler API; this transport takes the legacy one and refuses the other
    throw new NotSupportedError('raw transport: only the legacy handler API (onConnect/onHeaders/onData/onComplete/onError)');
  }
  if (typeof handler.onConnect !== 'function') throw new InvalidArgumentError('invalid onConnect method');
  if (typeof handler.onError !== 'function') throw new InvalidArgumentError('invalid onError method');
  if (typeof handler.onHeaders !== 'function') throw new InvalidArgumentError('invalid onHeaders method');
  if (typeof handler.onData !== 'function') throw new InvalidArgumentError('invalid onData method');
  if (typeof handler.onComplete !== 'function') throw new InvalidArgumentError('invalid onComplete method');
}
