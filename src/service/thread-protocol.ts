// Messages between the main thread and the HTTP threads of the reference service.
import type { MessagePort } from 'node:worker_threads';
import type { SaleShared } from './state.ts';
import type { SaleDefinition } from './sale.ts';

export interface ServiceThreadData {
  threadIndex: number;
  threads: number;
  host: string;
  port: number;
  sale: SaleShared;
  ledgerPort: MessagePort;
  metrics: SharedArrayBuffer;
  ledgerMetrics: SharedArrayBuffer;
  health: SharedArrayBuffer;
  adminToken: string | undefined;
  maxInFlight: number;
  requestTimeoutMs: number;
  maxConnections: number;
  seed: number;
}

/** What a thread's shutdown had to cut when the deadline passed (or connections still mid-request). */
export interface CloseReport {
  /** The deadline passed with requests still in flight. */
  deadlinePassed: boolean;
  /** Requests in flight when the connections were cut. */
  requests: number;
  /** Open connections cut (mid-request, or holding a request in flight). */
  connections: number;
}

export type ToServiceThread =
  /** Serve this sale (a redefinition, or the same sale rebuilt after a crash); also ends a pause. */
  | { type: 'sale'; id: number; shared: SaleShared }
  /** The answer to define-sale: the new sale's id, or why not (status and code become the HTTP answer). */
  | { type: 'sale-defined'; id: number; saleId?: number; error?: string; status?: number; code?: string }
  /** Refuse buying requests (503) and answer 'paused' once no purchase is in progress (a recovery). */
  | { type: 'pause'; id: number }
  /** End a pause without a new sale (a recovery that failed). */
  | { type: 'resume'; id: number }
  | { type: 'close'; id: number; deadlineMs: number };

export type FromServiceThread =
  | { type: 'listening'; port: number }
  | { type: 'error'; message: string; code?: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'define-sale'; id: number; sale: SaleDefinition; force: boolean }
  | { type: 'sale-set'; id: number }
  | { type: 'paused'; id: number }
  | { type: 'resumed'; id: number }
  | { type: 'closed'; id: number; report: CloseReport };
