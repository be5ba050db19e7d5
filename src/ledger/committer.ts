// Group commit: every append that reaches the ledger thread while it is busy (or in the same turn of
// its event loop) goes into the next single transaction. Acks go out only after COMMIT returned, which
// with synchronous=FULL means the WAL was fsynced.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { ORDER_STRIDE, type LedgerStore } from './store.ts';
import { CommitStatsWriter } from './commit-stats.ts';
import type { AckMsg, AppendMsg, LedgerEvent, PageReply, ToLedger } from './protocol.ts';
import { messageOf } from '../errors.ts';

/** Where the committer reports whether commits fail (the service's health words, src/service/health.ts,
 * which the ledger does not import: the service sits above the ledger). True when the state changed. */
export interface CommitHealth {
  commitFailed(message: string): boolean;
  commitSucceeded(): boolean;
}

interface Pending { port: MessagePort; msg: AppendMsg }

/** One ack per port for a commit's group: its batch ids in the order they came. */
function acksByPort(group: readonly Pending[]): Map<MessagePort, AckMsg> {
  const acks = new Map<MessagePort, AckMsg>();
  for (const p of group) {
    const ack = acks.get(p.port);
    if (ack) ack.b.push(p.msg.b);
    else acks.set(p.port, { t: 'k', b: [p.msg.b], f: null });
  }
  return acks;
}

export class GroupCommitter {
  private readonly store: LedgerStore;
  private readonly metrics: CommitStatsWriter;
  private queue: Pending[] = [];
  private scheduled = false;
  /** Indexed by HTTP thread. */
  private readonly ports: Array<MessagePort | null> = [];
  private readonly health: CommitHealth | null;
  private readonly onEvent: (e: LedgerEvent) => void;

  constructor(store: LedgerStore, metricsSab: SharedArrayBuffer, health: CommitHealth | null = null, onEvent: (e: LedgerEvent) => void = () => {}) {
    this.store = store;
    this.metrics = new CommitStatsWriter(metricsSab);
    this.health = health;
    this.onEvent = onEvent;
  }

  /** The port of HTTP thread `index` (default: the next one). */
  attach(port: MessagePort, index = this.ports.length): void {
    this.ports[index] = port;
    port.on('message', (msg: ToLedger) => this.receive(port, msg));
  }

  private receive(port: MessagePort, msg: ToLedger): void {
    if (msg.t === 'a') {
      this.queue.push({ port, msg });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    } else if (msg.t === 'p') {
      port.postMessage(this.page(msg.r, msg.s, msg.after, msg.limit));
    }
  }

  /**
   * HTTP thread `index` is gone. Everything it posted before it died is already queued on its port
   * (postMessage enqueues at once), maybe not yet dispatched here: take it synchronously, commit it
   * and close the port, so recovery reads a ledger that holds every order the thread handed over.
   */
  drain(index: number): void {
    const port = this.ports[index];
    if (!port) return;
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) this.receive(port, m.message as ToLedger); // only the service sends on this port, always a ToLedger
    this.flush();
    port.removeAllListeners('message');
    port.close();
    this.ports[index] = null;
  }

  private page(r: number, saleId: number, after: number, limit: number): PageReply {
    try {
      return { t: 'P', r, ...this.store.pageNdjson(saleId, after, limit) };
    } catch (e) {
      return { t: 'P', r, ndjson: '', lastRowid: after, count: 0, e: messageOf(e) };
    }
  }

  /** Commits everything queued: one transaction per sale present in the queue (nearly always one). */
  flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    const sales = new Set<number>();
    for (const p of queue) sales.add(p.msg.s);
    for (const saleId of sales) {
      const group = sales.size === 1 ? queue : queue.filter((p) => p.msg.s === saleId);
      const flat: Array<string | number | null> = group.length === 1 ? group[0].msg.o : [];
      const starts: number[] = [];
      let orders = 0;
      for (const p of group) {
        starts.push(orders);
        if (group.length > 1) for (const x of p.msg.o) flat.push(x);
        orders += p.msg.o.length / ORDER_STRIDE;
      }
      const t0 = performance.now();
      let failed: Array<[number, string]>;
      try {
        failed = this.store.appendBatch(saleId, flat);
      } catch (e) {
        const message = messageOf(e);
        for (const [port, ack] of acksByPort(group)) port.postMessage({ ...ack, e: message } satisfies AckMsg);
        // Said once when commits start failing, once when they work again: not once per batch.
        if (this.health?.commitFailed(message)) this.onEvent({ event: 'commits-failing', error: message });
        continue;
      }
      if (this.health?.commitSucceeded()) this.onEvent({ event: 'commits-ok' });
      this.metrics.record(orders, (performance.now() - t0) / 1000);
      const acks = acksByPort(group);
      // A failed order's index in the commit → its batch and its index there (starts ascend).
      for (const [i, why] of failed) {
        let g = starts.length - 1;
        while (starts[g] > i) g--;
        const ack = acks.get(group[g].port)!; // every port of the group has its ack
        (ack.f ??= []).push([group[g].msg.b, i - starts[g], why]);
      }
      for (const [port, ack] of acks) port.postMessage(ack);
    }
  }

  close(): void {
    this.flush();
    for (const p of this.ports) p?.close();
    this.store.close();
  }
}
