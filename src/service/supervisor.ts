// The HTTP threads' supervisor, in the main thread: adopts each thread as it starts listening, hands
// a redefined sale (POST /admin/sale) to every thread one redefinition at a time, and closes them all.
import type { Worker } from 'node:worker_threads';
import { FlashsaleError, UsageError } from '../errors.ts';
import type { LedgerHost } from '../ledger/host.ts';
import type { StrategyName } from '../stock/index.ts';
import { parseSale, type SaleDefinition } from './sale.ts';
import { saleActivity, startNewSale, type Capacity, type SaleShared } from './state.ts';
import type { ServiceLog } from './log.ts';
import { portTaken } from './port-guard.ts';
import type { FromServiceThread, ToServiceThread } from './thread-protocol.ts';

export class Supervisor {
  private readonly workers: Worker[];
  private readonly ledger: LedgerHost;
  private readonly strategy: StrategyName;
  private readonly capacity: Capacity;
  private nextId = 1;
  private readonly acks = new Map<number, () => void>();
  private chain: Promise<unknown> = Promise.resolve();
  /** The sale being served. */
  private current: SaleShared;
  private readonly log: ServiceLog;

  constructor(workers: Worker[], ledger: LedgerHost, strategy: StrategyName, capacity: Capacity, current: SaleShared, log: ServiceLog) {
    this.workers = workers;
    this.ledger = ledger;
    this.strategy = strategy;
    this.capacity = capacity;
    this.current = current;
    this.log = log;
  }

  /** Resolves with the port the thread listens on, or rejects with why it could not. */
  adopt(worker: Worker, host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      let started = false;
      const failed = (why: string, code?: string) => {
        if (started) this.log('error', `an HTTP thread failed: ${why}`);
        // Taken between the probe and this bind (see port-guard.ts): still the port's owner to name.
        else if (code === 'EADDRINUSE') reject(portTaken(host, port));
        else reject(new FlashsaleError(`service thread could not listen on ${host}:${port}: ${why}`));
      };
      worker.on('message', (m: FromServiceThread) => {
        if (m.type === 'listening') {
          started = true;
          resolve(m.port);
        } else if (m.type === 'error') failed(m.message, m.code);
        else if (m.type === 'define-sale') this.defineSale(worker, m.id, m.sale, m.force);
        else if (m.type === 'sale-set') this.acks.get(m.id)?.();
      });
      worker.on('error', (e) => failed(e.message));
      worker.once('exit', (code) => {
        if (!started) failed(`thread exited with code ${code}`);
      });
    });
  }

  /**
   * POST /admin/sale. A sale under way (units sold or held) is replaced only when forced: replacing it
   * puts every unit back on sale and lets its buyers buy again.
   */
  private defineSale(from: Worker, id: number, definition: SaleDefinition, force: boolean): void {
    const reply = (m: ToServiceThread) => from.postMessage(m);
    // One redefinition at a time: each must reach every thread before the next begins.
    this.chain = this.chain.then(async () => {
      try {
        const sale = parseSale(definition);
        const previous = this.current.saleId;
        const { sold, held } = saleActivity(this.current);
        if ((sold > 0 || held > 0) && !force) {
          const error = `sale ${previous} is under way (${sold} units sold, ${held} held): send "force": true to replace it anyway (its orders stay in the ledger, no longer served; every unit goes back on sale)`;
          return reply({ type: 'sale-defined', id, status: 409, code: 'sale_in_progress', error });
        }
        const shared = await startNewSale(this.ledger, sale, this.strategy, this.capacity);
        this.current = shared;
        this.log('info', `new sale ${shared.saleId} (POST /admin/sale${sold > 0 || held > 0 ? `, forced: sale ${previous} had ${sold} units sold and ${held} held` : ''})`);
        await Promise.all(
          this.workers.map((w) => {
            const ackId = this.nextId++;
            return new Promise<void>((resolve) => {
              // A thread that is gone (crashed) serves nothing and needs no sale: do not wait for it.
              if (w.threadId === -1) return resolve();
              const done = () => {
                this.acks.delete(ackId);
                w.off('exit', done);
                resolve();
              };
              this.acks.set(ackId, done);
              w.once('exit', done);
              w.postMessage({ type: 'sale', id: ackId, shared } satisfies ToServiceThread);
            });
          }),
        );
        reply({ type: 'sale-defined', id, saleId: shared.saleId });
      } catch (e) {
        // A sale refused for its size is the caller's to fix (400); anything else is ours (500, logged).
        if (e instanceof UsageError) return reply({ type: 'sale-defined', id, status: 400, code: 'sale_refused', error: e.message });
        this.log('error', `POST /admin/sale failed: ${(e as Error).message}`);
        reply({ type: 'sale-defined', id, error: (e as Error).message });
      }
    });
  }

  async close(): Promise<void> {
    await this.chain;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.threadId === -1) return resolve(); // already gone
            w.once('exit', () => resolve());
            w.postMessage({ type: 'close' } satisfies ToServiceThread);
          }),
      ),
    );
    await this.ledger.close();
  }
}
