// The HTTP threads' supervisor, in the main thread: starts the threads, restarts one that crashes (after
// settling what it held), hands a redefined sale (POST /admin/sale) to every thread, watches the ledger
// thread, and closes everything with a deadline. Every change to the sale goes through one chain, so a
// recovery and a redefinition never interleave.
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { FlashsaleError, LedgerError, messageOf, UsageError } from '../errors.ts';

import type { LedgerHost } from './ledger-host.ts';
import type { StrategyName } from '../stock/index.ts';
import { parseSale, type SaleDefinition } from './sale.ts';
import { rebuildSaleShared, saleActivity, startNewSale, type Capacity, type RebuildReport, type SaleShared } from './state.ts';
import type { CloseReport, FromServiceThread, ToServiceThread } from './thread-protocol.ts';
import type { ServiceLog } from './log.ts';
import type { Health } from './health.ts';
import { portTaken } from './port-guard.ts';

/** A thread that crashes this often within a minute is left down (health says so) rather than restarted in a loop. */
const MAX_RESTARTS_PER_MINUTE = 5;
/** After the shutdown deadline, how long a thread gets to cut its connections and end before it is terminated. */
const CLOSE_GRACE_MS = 2000;

export interface SupervisorOptions {
  ledger: LedgerHost;
  strategy: StrategyName;
  capacity: Capacity;
  /** The sale being served. */
  current: SaleShared;
  log: ServiceLog;
  health: Health;
  /** Starts HTTP thread `index` listening on host:`port` (0: any), serving `shared`, talking to the ledger on `ledgerPort`. */
  spawn(index: number, port: number, shared: SaleShared, ledgerPort: MessagePort): Worker;
}

type Ask = Extract<ToServiceThread, { type: 'sale' | 'pause' | 'resume' | 'close' }>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Answer = Extract<FromServiceThread, { type: 'sale-set' | 'paused' | 'resumed' | 'closed' }>;

export class Supervisor {
  private readonly o: SupervisorOptions;
  /** By thread index; null while that thread is down. */
  private readonly workers: Array<Worker | null> = [];
  private readonly crashes: number[][] = [];
  private nextId = 1;
  private readonly answers = new Map<number, (m: Answer | null) => void>();
  private chain: Promise<unknown> = Promise.resolve();
  private current: SaleShared;
  private host = '';
  private port = 0;
  private closing = false;
  /** Why the ledger thread died, once it has. */
  private ledgerDeath: string | null = null;

  constructor(options: SupervisorOptions) {
    this.o = options;
    this.current = options.current;
    options.ledger.onDeath = (why) => {
      this.ledgerDeath = why;
      options.health.ledgerDied();
      options.log('error', `the ledger thread died (${why}): every order now answers 500 and /healthz fails; restart the service (with a ledger file, no acknowledged order is lost)`);
    };
    options.ledger.onEvent = (e) => {
      if (e.event === 'commits-failing') options.log('error', `ledger commits are failing: ${e.error}; orders answer 500 and /healthz fails until they work again`);
      else options.log('warn', 'ledger commits work again');
    };
  }

  /** Starts the threads one by one (the first binds, maybe an ephemeral port); resolves with the port. */
  async start(threads: number, host: string, port: number, ledgerPorts: MessagePort[]): Promise<number> {
    this.host = host;
    this.port = port;
    for (let i = 0; i < threads; i++) {
      this.crashes.push([]);
      const worker = this.o.spawn(i, this.port, this.current, ledgerPorts[i]);
      this.workers[i] = worker;
      this.port = await this.adopt(worker, i);
    }
    return this.port;
  }

  /** Resolves with the port the thread listens on, or rejects with why it could not. */
  private adopt(worker: Worker, index: number): Promise<number> {
    const { host, port } = this;
    return new Promise((resolve, reject) => {
      let started = false;
      let lastError: string | null = null;
      const failed = (why: string, code?: string) => {
        lastError = why;
        if (started) return;
        // Taken between the probe and this bind (see port-guard.ts): still the port's owner to name.
        if (code === 'EADDRINUSE') reject(portTaken(host, port));
        else reject(new FlashsaleError(`service thread could not listen on ${host}:${port}: ${why}`));
      };
      worker.on('message', (m: FromServiceThread) => {
        if (m.type === 'listening') {
          started = true;
          resolve(m.port);
        } else if (m.type === 'error') failed(m.message, m.code);
        else if (m.type === 'log') this.o.log(m.level, `HTTP thread ${index}: ${m.message}`);
        else if (m.type === 'define-sale') this.defineSale(worker, m.id, m.sale, m.force);
        else this.answers.get(m.id)?.(m);
      });
      worker.on('error', (e) => failed(e.message));
      worker.once('exit', (code) => {
        if (!started) return failed(`thread exited with code ${code}`);
        if (this.closing || this.workers[index] !== worker) return;
        this.died(index, lastError ?? `it exited with code ${code}`);
      });
    });
  }

  /** An HTTP thread ended on its own: what it held goes back, and it is restarted (see recover). */
  private died(index: number, why: string): void {
    this.workers[index] = null;
    this.o.health.httpThreadDown();
    this.o.log('error', `HTTP thread ${index} died (${why}): settling what it held and restarting it`);
    this.chain = this.chain.then(() => this.recover(index));
  }

  private live(): Worker[] {
    return this.workers.filter((w): w is Worker => w !== null);
  }

  /** Sends `m` and resolves with the thread's answer, or null if the thread ends first. */
  private ask(worker: Worker, m: WithoutId<Ask>): Promise<Answer | null> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const done = (answer: Answer | null) => {
        this.answers.delete(id);
        worker.off('exit', gone);
        resolve(answer);
      };
      const gone = () => done(null);
      this.answers.set(id, done);
      worker.once('exit', gone);
      worker.postMessage({ ...m, id } as ToServiceThread); // the spread loses the union member; m and its id make one
    });
  }

  /**
   * After HTTP thread `index` crashed: the ledger commits whatever it posted before dying; the live threads
   * pause buying (503) until none has a purchase in progress; the sale's state is rebuilt from the ledger
   * and the live holds (rebuildSaleShared), so units, allowances, claimed reservations and idempotency keys
   * the dead thread held go back; the live threads resume on it; a new thread takes the dead one's index
   * (and so its reservations, which it will expire). A thread crashing in a loop is left down.
   */
  private async recover(index: number): Promise<void> {
    if (this.closing) return;
    const now = Date.now();
    const crashes = (this.crashes[index] = this.crashes[index].filter((t) => now - t < 60_000));
    crashes.push(now);
    if (crashes.length > MAX_RESTARTS_PER_MINUTE) {
      this.o.log('error', `HTTP thread ${index} died ${crashes.length} times within a minute: not restarting it; /healthz fails until the service is restarted`);
      return;
    }
    let report: RebuildReport;
    const live = this.live();
    try {
      await this.o.ledger.drainPort(index);
      await Promise.all(live.map((w) => this.ask(w, { type: 'pause' })));
      const rebuilt = rebuildSaleShared(this.current, await this.o.ledger.recover(this.current.saleId), this.o.strategy, this.o.capacity);
      this.current = rebuilt.shared;
      report = rebuilt.report;
    } catch (e) {
      await Promise.all(live.map((w) => this.ask(w, { type: 'resume' })));
      this.o.log('error', `HTTP thread ${index}: could not settle what it held (${messageOf(e)}); not restarting it`);
      return;
    }
    await Promise.all(live.map((w) => this.ask(w, { type: 'sale', shared: this.current })));
    try {
      const channel = new MessageChannel();
      await this.o.ledger.attachPort(index, channel.port1);
      const worker = this.o.spawn(index, this.port, this.current, channel.port2);
      this.workers[index] = worker;
      await this.adopt(worker, index);
    } catch (e) {
      this.workers[index] = null;
      this.o.log('error', `HTTP thread ${index} could not be restarted: ${messageOf(e)}`);
      return;
    }
    this.o.health.httpThreadUp(true);
    this.o.log(
      'warn',
      `HTTP thread ${index} restarted: ${report.unitsReleased} unit(s) it held went back on sale, ${report.unitsFoundSold} unit(s) it had committed counted as sold, ` +
        `${report.holdsFreed} reservation(s) it was paying freed, ${report.keysReplayed + report.keysReleased} idempotency key(s) it had in flight settled ` +
        `(${report.keysReplayed} answered from the ledger, ${report.keysReleased} released for retry)`,
    );
  }

  /**
   * POST /admin/sale. A sale under way (units sold or held) is replaced only when forced: replacing it
   * puts every unit back on sale and lets its buyers buy again.
   */
  private defineSale(from: Worker, id: number, definition: SaleDefinition, force: boolean): void {
    const reply = (m: ToServiceThread) => from.postMessage(m);
    // One change of sale at a time: each must reach every thread before the next begins.
    this.chain = this.chain.then(async () => {
      try {
        const sale = parseSale(definition);
        const previous = this.current.saleId;
        const { sold, held } = saleActivity(this.current);
        if ((sold > 0 || held > 0) && !force) {
          const error = `sale ${previous} is under way (${sold} units sold, ${held} held): send "force": true to replace it anyway (its orders stay in the ledger, no longer served; every unit goes back on sale)`;
          return reply({ type: 'sale-defined', id, status: 409, code: 'sale_in_progress', error });
        }
        const shared = await startNewSale(this.o.ledger, sale, this.o.strategy, this.o.capacity);
        this.current = shared;
        this.o.log('info', `new sale ${shared.saleId} (POST /admin/sale${sold > 0 || held > 0 ? `, forced: sale ${previous} had ${sold} units sold and ${held} held` : ''})`);
        // A thread that crashed meanwhile serves nothing and is not waited for (it restarts on this sale).
        await Promise.all(this.live().map((w) => this.ask(w, { type: 'sale', shared })));
        reply({ type: 'sale-defined', id, saleId: shared.saleId });
      } catch (e) {
        // A sale refused for its size is the caller's to fix (400); anything else is ours (500, logged).
        if (e instanceof UsageError) return reply({ type: 'sale-defined', id, status: 400, code: 'sale_refused', error: e.message });
        this.o.log('error', `POST /admin/sale failed: ${messageOf(e)}`);
        reply({ type: 'sale-defined', id, error: messageOf(e) });
      }
    });
  }

  /**
   * Stops every thread (each lets its requests finish for up to `deadlineMs`, then cuts what is left and
   * says so), then commits and closes the ledger. Rejects when the ledger thread died during the service's
   * life: orders were refused, and the exit status must say so.
   */
  async close(deadlineMs: number): Promise<void> {
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.chain, new Promise((r) => (timer = setTimeout(r, deadlineMs)))]);
    clearTimeout(timer);
    const reports = await Promise.all(this.workers.flatMap((w, i) => (w === null ? [] : [this.closeThread(w, deadlineMs).then((r) => [i, r] as const)])));
    for (const [i, r] of reports) {
      if (r === null) this.o.log('warn', `shutdown: HTTP thread ${i} did not end within ${deadlineMs + CLOSE_GRACE_MS} ms: terminated`);
      else if (r.deadlinePassed) this.o.log('warn', `shutdown deadline (${deadlineMs} ms) passed: HTTP thread ${i} cut ${r.connections} connection(s) with ${r.requests} request(s) still in flight`);
      else if (r.connections > 0) this.o.log('info', `shutdown: HTTP thread ${i} cut ${r.connections} connection(s) still sending a request`);
    }
    await this.o.ledger.close();
    if (this.ledgerDeath !== null) throw new LedgerError(`the ledger thread had died (${this.ledgerDeath}): orders after that were answered 500`);
  }

  /** The thread's report, or null when it had to be terminated. */
  private async closeThread(worker: Worker, deadlineMs: number): Promise<CloseReport | null> {
    const exited = new Promise<void>((r) => worker.once('exit', () => r()));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), deadlineMs + CLOSE_GRACE_MS)));
    const answer = await Promise.race([this.ask(worker, { type: 'close', deadlineMs }), late]);
    if (answer === 'late') {
      await worker.terminate();
      return null;
    }
    const ended = await Promise.race([exited.then(() => true), late.then(() => false)]);
    clearTimeout(timer);
    if (!ended) await worker.terminate();
    return answer !== null && answer.type === 'closed' ? answer.report : { deadlinePassed: false, requests: 0, connections: 0 };
  }

  /** A start that failed half-way: no thread is left running. */
  async terminateAll(): Promise<void> {
    this.closing = true;
    await Promise.all(this.live().map((w) => w.terminate()));
  }

  /** Fault injection for tests (through the service's FAULTS handle): ends HTTP thread `index` as a crash would. */
  async crash(index: number): Promise<void> {
    await this.workers[index]?.terminate();
  }
}
