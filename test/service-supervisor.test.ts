// The supervisor hands a redefined sale (POST /admin/sale) to every HTTP thread and answers once all
// have it. A thread that crashed must not leave that answer (and every later redefinition) hanging.
import { EventEmitter } from 'node:events';
import { MessageChannel, type Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { LedgerHost } from '../src/service/ledger-host.ts';
import { Supervisor } from '../src/service/supervisor.ts';
import { createSaleShared } from '../src/service/state.ts';
import { createHealth, Health } from '../src/service/health.ts';
import type { SaleDefinition } from '../src/service/index.ts';

const SALE: SaleDefinition = { skus: [{ id: 'phone', stock: 10 }], perUserLimit: 1, reservationTtlMs: 60_000, opensAtEpochMs: null, payment: { declineRate: 0, latencyMs: 0 } };

/** A stand-in HTTP thread: answers every sale, pause and resume it is given, unless it "crashes" on receiving a sale. */
class FakeThread extends EventEmitter {
  threadId = 1;
  readonly received: { type: string; id?: number; saleId?: number; error?: string }[] = [];
  readonly crashOnSale: boolean;
  constructor(crashOnSale = false) {
    super();
    this.crashOnSale = crashOnSale;
  }
  postMessage(m: { type: string; id: number }): void {
    this.received.push(m);
    const answer = { sale: 'sale-set', pause: 'paused', resume: 'resumed' }[m.type];
    if (answer === undefined) return;
    setImmediate(() => {
      if (this.crashOnSale && m.type === 'sale') {
        this.threadId = -1;
        this.emit('exit', 1);
      } else this.emit('message', { type: answer, id: m.id });
    });
  }
}

async function supervised(threads: FakeThread[], machineBytes?: number, ledgerRows: string[] = []): Promise<Supervisor> {
  const ledger = {
    newSale: async (definition: string) => {
      ledgerRows.push(definition);
      return 7;
    },
  } as unknown as LedgerHost;
  const capacity = { threads: threads.length, expectedUsers: 100 };
  const current = createSaleShared(1, SALE, 'atomic', { soldBySku: new Map(), orders: 0, users: [], keys: [] }, capacity);
  const supervisor = new Supervisor({
    ledger,
    strategy: 'atomic',
    capacity: { ...capacity, machineBytes },
    current,
    log: () => {},
    health: new Health(createHealth()),
    spawn: (i) => {
      setImmediate(() => threads[i].emit('message', { type: 'listening', port: 1234 }));
      return threads[i] as unknown as Worker;
    },
  });
  await supervisor.start(threads.length, '127.0.0.1', 0, threads.map(() => new MessageChannel().port2));
  return supervisor;
}

function answerTo(thread: FakeThread, id: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no sale-defined answer within 2 s')), 2_000);
    const poll = setInterval(() => {
      const answer = thread.received.find((m) => m.type === 'sale-defined' && m.id === id);
      if (answer) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(answer);
      }
    }, 5);
  });
}

describe('Supervisor', () => {
  it('answers a sale redefinition once every thread has it', async () => {
    const a = new FakeThread();
    const b = new FakeThread();
    await supervised([a, b]);
    a.emit('message', { type: 'define-sale', id: 5, sale: SALE, force: false });
    await expect(answerTo(a, 5)).resolves.toEqual({ type: 'sale-defined', id: 5, saleId: 7 });
    expect(b.received.filter((m) => m.type === 'sale')).toHaveLength(1);
  });

  it('does not wait for a thread that crashes before acking, nor for one already gone', async () => {
    const a = new FakeThread();
    const crashing = new FakeThread(true);
    await supervised([a, crashing]);
    a.emit('message', { type: 'define-sale', id: 1, sale: SALE, force: false });
    await expect(answerTo(a, 1)).resolves.toMatchObject({ saleId: 7 });
    // Now gone for good: the next redefinition does not even send to it.
    a.emit('message', { type: 'define-sale', id: 2, sale: SALE, force: false });
    await expect(answerTo(a, 2)).resolves.toMatchObject({ saleId: 7 });
    expect(crashing.received.filter((m) => m.type === 'sale')).toHaveLength(1);
  });

  // A sale refused for its size must not reach the ledger: a restart would take that row for the latest
  // sale, start afresh with full stock and forget the orders of the sale that kept running.
  it('refuses a sale too big for the machine before the ledger records it', async () => {
    const a = new FakeThread();
    const rows: string[] = [];
    await supervised([a], 1024, rows);
    a.emit('message', { type: 'define-sale', id: 3, sale: SALE, force: false });
    await expect(answerTo(a, 3)).resolves.toMatchObject({ error: expect.stringMatching(/expected users need .* lower the expected users/) });
    expect(rows).toEqual([]);
    expect(a.received.filter((m) => m.type === 'sale')).toHaveLength(0);
  });
});
