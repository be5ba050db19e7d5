// Which transport carries a worker's requests: undici's Client (any URL, https included) or the raw
// transport (raw.ts: plain http:// only, cheaper per request). Both offer the same `dispatch(opts,
// handler)` with undici's legacy handler calls, so the engine holds either behind TransportClient.
import { Client, type Dispatcher } from 'undici';
import { RawClient } from './raw.ts';

export const TRANSPORTS = ['auto', 'undici', 'raw'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** The part of undici's Client the engine uses; RawClient has the same. */
export interface TransportClient {
  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
  destroy(err?: Error | null): Promise<void>;
  /** undici's dispatcher events (docs/api/Client.md): 'connect' once a socket is connected, 'disconnect'
   * once a connected socket is gone (either side closed it, or an error). A failed connect is neither. */
  on(event: 'connect', listener: () => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

/** Options both transports understand (undici's names and meanings). */
export interface TransportOptions {
  connectTimeout?: number;
  keepAliveTimeout?: number;
  pipelining?: 1;
  /** 0: no undici timer per request (the engine times requests out itself); the raw transport has none. */
  headersTimeout?: 0;
  bodyTimeout?: 0;
  /** Raw transport only (undici's chunks are always the handler's own): onData chunks are views valid
   * during the call, and the handler copies what it keeps. */
  chunkViews?: boolean;
}

/**
 * `auto`: raw only where it is proven to read every answer as undici does, the built-in service over
 * http:// (its answers are the conformance suite's plain case); undici for any other target, whose
 * answers nobody has checked, and for https://.
 */
export function resolveTransport(transport: Transport, url: string | URL, builtIn = false): 'undici' | 'raw' {
  if (transport !== 'auto') return transport;
  return builtIn && new URL(url).protocol === 'http:' ? 'raw' : 'undici';
}

/** One connection's client (`auto` as for a foreign target). `raw` with an https:// URL throws
 * (InvalidArgumentError naming the URL). */
export function openClient(transport: Transport, url: string, options: TransportOptions, builtIn = false): TransportClient {
  if (resolveTransport(transport, url, builtIn) === 'raw') return new RawClient(url, options);
  const { chunkViews: _views, ...undiciOptions } = options;
  return new Client(url, undiciOptions);
}
