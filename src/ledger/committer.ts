// Group commit: every append that reaches the ledger thread while it is busy (or in the same turn of
// its event loop) goes into the next single transaction. Acks go out only after COMMIT returned, which
// with synchronous=FULL means the WAL was fsynced.
import type { MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { ORDER_STRIDE, type LedgerStore } from './store.ts';
import { LedgerMetricsWriter } from './metrics.ts';
import type { AckMsg, AppendMsg, PageReply, ToLedger } from './protocol.ts';

interface Pending { port: MessagePort; msg: AppendMsg }

export class GroupCommitter {
  private readonly store: LedgerStore;
  private readonly metrics: LedgerMetricsWriter;
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly ports: MessagePort[] = [];

  constructor(store: LedgerStore, metricsSab: SharedArrayBuffer) {
    this.store = store;
    this.metrics = new LedgerMetricsWriter(metricsSab);
  }

  attach(port: MessagePort): void {
    this.ports.push(port);
    port.on('message', (msg: ToLedger) => {
      if (msg.t === 'a') {
        this.queue.push({ port, msg });
        if (!this.scheduled) {
          this.scheduled = true;
          setImmediate(() => this.flush());
        }
      } else if (msg.t === 'p') {
        port.postMessage(this.page(msg.r, msg.s, msg.after, msg.limit));
      }
    });
  }

  private page(r: number, saleId: number, after: number, limit: number): PageReply {
    try {
      return { t: 'P', r, ...this.store.pageNdjson(saleId, after, limit) };
    } catch (e) {
      return { t: 'P', r, ndjson: '', lastRowid: after, count: 0, e: (e as Error).message };
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
        for (const p of group) p.port.postMessage({ t: 'k', b: p.msg.b, f: null, e: (e as Error).message } satisfies AckMsg);
        continue;
      }
      this.metrics.record(orders, (performance.now() - t0) / 1000);
      for (let g = 0; g < group.length; g++) {
        const start = starts[g];
        const end = g + 1 < starts.length ? starts[g + 1] : orders;
        let mine: Array<[number, string]> | null = null;
        for (const [i, why] of failed) if (i >= start && i < end) (mine ??= []).push([i - start, why]);
        group[g].port.postMessage({ t: 'k', b: group[g].msg.b, f: mine } satisfies AckMsg);
      }
    }
  }

  close(): void {
    this.flush();
    for (const p of this.ports) p.close();
    this.store.close();
  }
}
