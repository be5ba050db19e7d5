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
  adminToken: string | undefined;
  maxInFlight: number;
  requestTimeoutMs: number;
  maxConnections: number;
  seed: number;
}

export type ToServiceThread =
  | { type: 'sale'; id: number; shared: SaleShared }
  /** The answer to define-sale: the new sale's id, or why not (status and code become the HTTP answer). */
  | { type: 'sale-defined'; id: number; saleId?: number; error?: string; status?: number; code?: string }
  | { type: 'close' };

export type FromServiceThread =
  | { type: 'listening'; port: number }
  | { type: 'error'; message: string; code?: string }
  | { type: 'define-sale'; id: number; sale: SaleDefinition; force: boolean }
  | { type: 'sale-set'; id: number };
