// One HTTP thread of the reference service: an http.Server on the shared port (reusePort), the
// shared sale state, and a MessagePort to the ledger thread. Started by the supervisor, and started
// again under the same index if it crashes.
import { createServer } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { App } from './app.ts';
import { LedgerClient } from './ledger-client.ts';
import { SaleState } from './state.ts';
import type { ServiceThreadData, ToServiceThread, FromServiceThread } from './thread-protocol.ts';
import type { SaleDefinition } from './sale.ts';
import { SaleRefused } from './admin.ts';

const data = workerData as ServiceThreadData; // the supervisor starts this thread with ServiceThreadData
const parent = parentPort!; // this file only runs as a worker thread
const post = (m: FromServiceThread) => parent.postMessage(m);

let nextCall = 1;
const calls = new Map<number, { resolve(id: number): void; reject(e: Error): void }>();

const ledger = new LedgerClient(data.ledgerPort);
const app = new App(new SaleState(data.sale, data.threadIndex, data.threads), {
  threadIndex: data.threadIndex,
  threads: data.threads,
  ledger,
  metricsSab: data.metrics,
  ledgerMetricsSab: data.ledgerMetrics,
  health: data.health,
  log: (level, message) => post({ type: 'log', level, message }),
  adminToken: data.adminToken,
  maxInFlight: data.maxInFlight,
  seed: data.seed,
  defineSale: (sale: SaleDefinition, force: boolean) =>
    new Promise<number>((resolve, reject) => {
      const id = nextCall++;
      calls.set(id, { resolve, reject });
      post({ type: 'define-sale', id, sale, force });
    }),
});

// Slow clients are cut off: headers and body must arrive within requestTimeoutMs (node:http checks
// every connection each interval and answers 408), and past maxConnections new connections are closed.
const server = createServer(
  {
    keepAliveTimeout: 5000,
    requestTimeout: data.requestTimeoutMs,
    headersTimeout: data.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, data.requestTimeoutMs / 4)),
  },
  app.handle,
);
server.maxConnections = data.maxConnections;
server.on('drop', () => app.connectionDropped());
server.on('error', (e: NodeJS.ErrnoException) => post({ type: 'error', message: e.message, code: e.code }));
server.listen({ port: data.port, host: data.host, reusePort: true }, () => {
  const address = server.address();
  post({ type: 'listening', port: typeof address === 'object' && address ? address.port : data.port });
});

parent.on('message', async (m: ToServiceThread) => {
  if (m.type === 'sale') {
    app.setSale(new SaleState(m.shared, data.threadIndex, data.threads));
    app.resume();
    post({ type: 'sale-set', id: m.id });
  } else if (m.type === 'pause') {
    await app.pause();
    post({ type: 'paused', id: m.id });
  } else if (m.type === 'resume') {
    app.resume();
    post({ type: 'resumed', id: m.id });
  } else if (m.type === 'sale-defined') {
    const call = calls.get(m.id);
    calls.delete(m.id);
    if (m.error !== undefined) call?.reject(m.status === undefined ? new Error(m.error) : new SaleRefused(m.status, m.code ?? 'sale_refused', m.error));
    else call?.resolve(m.saleId!); // a sale-defined answer carries its saleId
  } else if (m.type === 'close') {
    // Stop accepting, let in-flight requests finish (their orders committed) for up to the deadline, then
    // cut whatever connections are left (idle ones at once) and say what was cut.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const deadlinePassed = await Promise.race([app.drain().then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), m.deadlineMs)))]);
    clearTimeout(timer);
    const requests = app.inFlight;
    const connections = await new Promise<number>((r) => server.getConnections((e, n) => r(e ? 0 : n)));
    server.closeAllConnections();
    await closed;
    // Orders already handed to the ledger are committed (or fail) before the port closes.
    if (deadlinePassed) await ledger.flush();
    app.stop();
    app.saleState.stock.flush();
    post({ type: 'closed', id: m.id, report: { deadlinePassed, requests, connections } });
    ledger.close();
    parent.close();
    // Requests cut at the deadline may still wait on timers (a payment's latency): their answers can go
    // nowhere and their orders can no longer reach the ledger, so the thread ends now.
    if (deadlinePassed) process.exit(0);
  }
});
