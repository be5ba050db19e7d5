// The HTTP/1.1 response parser of the raw transport: llhttp (Node's own parser), the same WebAssembly
// build undici ships and parses every answer with, so both transports take the same decision on every
// byte a hostile target sends. Nothing here is hand-written HTTP: this file only loads the module and
// routes llhttp's callbacks to the connection whose bytes are being parsed.
//
// The wasm file is undici's (`undici/lib/llhttp/`): undici is already a dependency, and its package has
// no export map, so the file is reachable; the imports and exports used below are llhttp's own wasm API
// (llhttp's api.c under __wasm__), not undici's JavaScript. If a future undici moves the file, loading
// fails here, at the first raw connection, with a message that says so.
import { createRequire } from 'node:module';
import { messageOf, PlatformError } from '../../errors.ts';

/** What llhttp calls back into: one parser's owner (a raw connection). Return 0 to go on; see llhttp.h. */
export interface ParserCallbacks {
  onMessageBegin(): number;
  onStatus(at: number, length: number): number;
  onHeaderField(at: number, length: number): number;
  onHeaderValue(at: number, length: number): number;
  onHeadersComplete(statusCode: number, upgrade: number, shouldKeepAlive: number): number;
  onBody(at: number, length: number): number;
  onMessageComplete(): number;
}

// The WebAssembly global, typed here: the project's lib (ES2024, no DOM) does not declare it.
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly; // Node has it; the lib does not declare it

interface LlhttpExports {
  memory: { buffer: ArrayBuffer };
  malloc(size: number): number;
  free(ptr: number): void;
  llhttp_alloc(type: number): number;
  llhttp_free(parser: number): void;
  llhttp_reset(parser: number): void;
  llhttp_execute(parser: number, data: number, length: number): number;
  llhttp_finish(parser: number): number;
  llhttp_message_needs_eof(parser: number): number;
  llhttp_get_error_reason(parser: number): number;
  llhttp_get_error_pos(parser: number): number;
}

/** llhttp_type_t */
export const RESPONSE = 2;
/** llhttp_errno_t values used here (llhttp.h). */
export const OK = 0;
export const PAUSED = 21;
export const PAUSED_UPGRADE = 22;

let exports_: LlhttpExports | null = null;
let current: ParserCallbacks | null = null;
let memoryView = Buffer.alloc(0);
/** One input area in wasm memory for every parser of this thread: execute() is synchronous. */
let inputPtr = 0;
let inputSize = 0;

function load(): LlhttpExports {
  const require = createRequire(import.meta.url);
  // llhttp calls back only from inside execute()/finish(), which set `current` first.
  const env = {
    wasm_on_message_begin: () => current!.onMessageBegin(),
    wasm_on_url: () => 0,
    wasm_on_status: (_p: number, at: number, len: number) => current!.onStatus(at, len),
    wasm_on_header_field: (_p: number, at: number, len: number) => current!.onHeaderField(at, len),
    wasm_on_header_value: (_p: number, at: number, len: number) => current!.onHeaderValue(at, len),
    wasm_on_headers_complete: (_p: number, status: number, upgrade: number, keepAlive: number) => current!.onHeadersComplete(status, upgrade, keepAlive),
    wasm_on_body: (_p: number, at: number, len: number) => current!.onBody(at, len),
    wasm_on_message_complete: () => current!.onMessageComplete(),
  };
  let module: object;
  try {
    // The SIMD build first, as undici does; the plain one where SIMD is not available.
    try {
      module = new WebAssembly.Module(require('undici/lib/llhttp/llhttp_simd-wasm.js') as Buffer); // undici ships the wasm as a Buffer module
    } catch {
      module = new WebAssembly.Module(require('undici/lib/llhttp/llhttp-wasm.js') as Buffer); // as above
    }
  } catch (err) {
    throw new PlatformError(`raw transport: cannot load llhttp from undici (undici/lib/llhttp/*.js): ${messageOf(err)}`, { cause: err });
  }
  const instance = new WebAssembly.Instance(module, { env });
  return instance.exports as unknown as LlhttpExports; // llhttp's exports, as undici's own client declares them
}

export function llhttp(): LlhttpExports {
  return (exports_ ??= load());
}

/** A new response parser. Every allocation in wasm memory goes through this file, which renews the
 * memory view after each one (an allocation may grow the memory, which detaches the old view). */
export function allocParser(): number {
  const ptr = llhttp().llhttp_alloc(RESPONSE);
  refreshMemory();
  return ptr;
}

function refreshMemory(): void {
  const buffer = exports_!.memory.buffer; // called after an allocation, so llhttp is loaded
  if (memoryView.buffer !== buffer) memoryView = Buffer.from(buffer);
}

/** The wasm memory as a Buffer (a view, no copy), valid until the next allocation. */
export function memory(): Buffer {
  return memoryView;
}

/**
 * Parses `length` bytes of `source` (from `offset`) with parser `ptr`, calling back into `owner`.
 * Returns llhttp's errno (OK, PAUSED, or an error). The bytes are copied into wasm memory first; the
 * `at` offsets the callbacks get are addresses in memory() and are valid only during the callback.
 */
export function execute(owner: ParserCallbacks, ptr: number, source: Buffer, offset: number, length: number): number {
  const ll = exports_!; // a parser (allocParser) exists, so llhttp is loaded
  if (length > inputSize) {
    if (inputPtr) ll.free(inputPtr);
    inputSize = Math.ceil(length / 4096) * 4096;
    inputPtr = ll.malloc(inputSize);
    refreshMemory();
  }
  source.copy(memoryView, inputPtr, offset, offset + length);
  current = owner;
  try {
    return ll.llhttp_execute(ptr, inputPtr, length);
  } finally {
    current = null;
  }
}

/** Tells parser `ptr` the connection ended: completes a close-delimited body, or returns an error. */
export function finish(owner: ParserCallbacks, ptr: number): number {
  current = owner;
  try {
    return exports_!.llhttp_finish(ptr); // a parser exists, so llhttp is loaded
  } finally {
    current = null;
  }
}

/** Where the last execute() stopped, as an offset into the bytes it was given. */
export function errorOffset(ptr: number): number {
  return exports_!.llhttp_get_error_pos(ptr) - inputPtr; // a parser exists, so llhttp is loaded
}

/** llhttp's reason for the last error, e.g. "Invalid status code". */
export function errorReason(ptr: number): string {
  const at = exports_!.llhttp_get_error_reason(ptr); // a parser exists, so llhttp is loaded
  if (!at) return '';
  const bytes = memoryView;
  const end = bytes.indexOf(0, at);
  return bytes.toString('latin1', at, end);
}
