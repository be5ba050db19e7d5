import type { MessagePort } from 'node:worker_threads';

// Messages between the ledger thread and the threads that use it. Short field names: the append/ack
// pair crosses a MessagePort once per event-loop turn per HTTP thread, on the hot path.

/** HTTP thread → ledger: orders of one sale, flat (ORDER_STRIDE fields each), to commit together. */
export interface AppendMsg { t: 'a'; b: number; s: number; o: Array<string | number | null> }
/**
 * Ledger → HTTP thread: the batches `b` (in the order posted) are committed, except the orders in `f`,
 * each [batch id, index within that batch, why]; with `e` none is (the commit failed). One ack per port
 * per commit, however many of that thread's messages the commit held: each message is a wake-up.
 */
export interface AckMsg { t: 'k'; b: number[]; f: Array<[number, number, string]> | null; e?: string }
/** HTTP thread → ledger: a page of committed orders, after rowid `after`. */
export interface PageMsg { t: 'p'; r: number; s: number; after: number; limit: number }
export interface PageReply { t: 'P'; r: number; ndjson: string; lastRowid: number; count: number; e?: string }

export type ToLedger = AppendMsg | PageMsg;
export type FromLedger = AckMsg | PageReply;

/** Main thread ↔ ledger thread: control calls, answered by `id`. */
export type ControlCall =
  | { id: number; op: 'latest' }
  | { id: number; op: 'new-sale'; definition: string }
  | { id: number; op: 'recover'; saleId: number }
  /** An HTTP thread died: commit whatever it posted before dying, then close its port. */
  | { id: number; op: 'drain-port'; index: number }
  /** Its replacement's port. */
  | { id: number; op: 'attach-port'; index: number; port: MessagePort }
  | { id: number; op: 'close' };

/** Ledger thread → main thread, unasked: commits started failing (a full disk, say) or work again. */
export type LedgerEvent = { event: 'commits-failing'; error: string } | { event: 'commits-ok' };
/** `damaged`: the ledger failed its integrity check at open (the host rethrows LedgerDamagedError). */
export interface ControlReply { id: number; ok: boolean; value?: unknown; error?: string; damaged?: boolean }
