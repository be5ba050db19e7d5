// Main-thread handle on the ledger thread: starts it, turns control calls into promises, and says when
// the thread dies on its own (the service then fails health and its shutdown exits non-zero).
import { Worker, type MessagePort, type Transferable } from 'node:worker_threads';
import { type LedgerOpenOptions, type Recovery, type SyncMode } from '../ledger/store.ts';
import { LedgerDamagedError, LedgerError } from '../errors.ts';
import type { ControlCall, ControlReply, LedgerEvent } from '../ledger/protocol.ts';

const ENTRY = new URL('./ledger-thread.ts', import.meta.url);

type CallOf<Op extends ControlCall['op']> = Omit<Extract<ControlCall, { op: Op }>, 'id'>;

export interface LedgerStartOptions extends LedgerOpenOptions {
  /** Health words the ledger thread writes (commits failing): see src/service/health.ts. */
  health?: SharedArrayBuffer;
}

export class LedgerHost {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private exited: Error | null = null;
  private closing = false;
  private lastError: string | null = null;
  /** What was accepted at open (a damaged file started on anyway). */
  warnings: string[] = [];
  /** Called once if the thread ends without being asked to (a crash), with why. */
  onDeath: ((why: string) => void) | null = null;
  /** Unasked news from the ledger thread: commits failing, or working again. */
  onEvent: ((e: LedgerEvent) => void) | null = null;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (r: ControlReply | LedgerEvent) => {
      if ('event' in r) return this.onEvent?.(r);
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
    worker.on('error', (e) => {
      this.lastError = e.message;
      fail(new LedgerError(`ledger thread failed: ${e.message}`, undefined, { cause: e }));
    });
    worker.on('exit', (code) => {
      fail(new LedgerError(`ledger thread exited (code ${code})`));
      if (!this.closing) this.onDeath?.(this.lastError ?? `it exited with code ${code}`);
    });
  }

  /** Starts the thread and resolves once the database is open (rejects with why it is not). */
  static start(path: string, sync: SyncMode, metrics: SharedArrayBuffer, ports: MessagePort[], options: LedgerStartOptions = {}): Promise<LedgerHost> {
    const acceptLostOrders = options.acceptLostOrders === true;
    const health = options.health ?? null;
    const worker = new Worker(ENTRY, { workerData: { path, sync, metrics, health, ports, acceptLostOrders }, transferList: ports });
    const host = new LedgerHost(worker);
    host.closing = true; // a failed open is not a death to report
    return new Promise((resolve, reject) => {
      host.waiting.set(0, {
        resolve: (warnings) => {
          host.warnings = warnings as string[]; // the ledger thread's recovery warnings are strings
          host.closing = false;
          resolve(host);
        },
        reject,
      });
    });
  }

  private call<Op extends ControlCall['op']>(call: CallOf<Op>, transfer: Transferable[] = []): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...call, id }, transfer);
    });
  }

  /** Whether the thread is gone (crashed or closed). */
  get dead(): boolean {
    return this.exited !== null;
  }

  latestSale(): Promise<{ id: number; definition: string } | null> {
    return this.call<'latest'>({ op: 'latest' }) as Promise<{ id: number; definition: string } | null>; // each op's answer type, as the ledger thread sends it
  }
  newSale(definition: string): Promise<number> {
    return this.call<'new-sale'>({ op: 'new-sale', definition }) as Promise<number>; // each op's answer type, as the ledger thread sends it
  }
  recover(saleId: number): Promise<Recovery> {
    return this.call<'recover'>({ op: 'recover', saleId }) as Promise<Recovery>; // each op's answer type, as the ledger thread sends it
  }
  /** HTTP thread `index` died: commit what it posted before dying and close its port. */
  async drainPort(index: number): Promise<void> {
    await this.call<'drain-port'>({ op: 'drain-port', index });
  }
  /** The port of the thread that replaces HTTP thread `index`. */
  async attachPort(index: number, port: MessagePort): Promise<void> {
    await this.call<'attach-port'>({ op: 'attach-port', index, port }, [port]);
  }
  /** Commits what is queued, closes the database, and waits for the thread to end. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.exited) return;
    const ended = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    await this.call<'close'>({ op: 'close' });
    await ended;
  }
  /** Fault injection for tests (through the service's FAULTS handle): ends the thread as a crash would. */
  async crash(): Promise<void> {
    await this.worker.terminate();
  }
}
