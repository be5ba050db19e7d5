// Main-thread handle on the ledger thread: starts it and turns control calls into promises.
import { Worker, type MessagePort } from 'node:worker_threads';
import { LedgerError, type LedgerOpenOptions, type Recovery, type SyncMode } from './store.ts';
import { LedgerDamagedError } from '../errors.ts';
import type { ControlCall, ControlReply } from './protocol.ts';

const ENTRY = new URL('../../workers/ledger-thread.ts', import.meta.url);

type CallOf<Op extends ControlCall['op']> = Omit<Extract<ControlCall, { op: Op }>, 'id'>;

export class LedgerHost {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private exited: Error | null = null;
  /** What was accepted at open (a damaged file started on anyway). */
  warnings: string[] = [];

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (r: ControlReply) => {
      const w = this.waiting.get(r.id);
      if (!w) return;
      this.waiting.delete(r.id);
      if (r.ok) w.resolve(r.value);
      else w.reject(r.damaged ? new LedgerDamagedError(r.error ?? 'the ledger is damaged') : new LedgerError(r.error ?? 'ledger call failed'));
    });
    const fail = (e: Error) => {
      this.exited = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    worker.on('error', (e) => fail(new LedgerError(`ledger thread failed: ${e.message}`, undefined, { cause: e })));
    worker.on('exit', (code) => fail(new LedgerError(`ledger thread exited (code ${code})`)));
  }

  /** Starts the thread and resolves once the database is open (rejects with why it is not). */
  static start(path: string, sync: SyncMode, metrics: SharedArrayBuffer, ports: MessagePort[], options: LedgerOpenOptions = {}): Promise<LedgerHost> {
    const acceptLostOrders = options.acceptLostOrders === true;
    const worker = new Worker(ENTRY, { workerData: { path, sync, metrics, ports, acceptLostOrders }, transferList: ports });
    const host = new LedgerHost(worker);
    return new Promise((resolve, reject) => {
      host.waiting.set(0, {
        resolve: (warnings) => {
          host.warnings = warnings as string[];
          resolve(host);
        },
        reject,
      });
    });
  }

  private call<Op extends ControlCall['op']>(call: CallOf<Op>): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...call, id });
    });
  }

  latestSale(): Promise<{ id: number; definition: string } | null> {
    return this.call<'latest'>({ op: 'latest' }) as Promise<{ id: number; definition: string } | null>;
  }
  newSale(definition: string): Promise<number> {
    return this.call<'new-sale'>({ op: 'new-sale', definition }) as Promise<number>;
  }
  recover(saleId: number): Promise<Recovery> {
    return this.call<'recover'>({ op: 'recover', saleId }) as Promise<Recovery>;
  }
  /** Commits what is queued, closes the database, and waits for the thread to end. */
  async close(): Promise<void> {
    if (this.exited) return;
    const ended = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    await this.call<'close'>({ op: 'close' });
    await ended;
  }
}
