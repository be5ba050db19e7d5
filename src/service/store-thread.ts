// One HTTP thread of the service on the shared stores: its own Redis and PostgreSQL connections, an
// http.Server on the shared port (reusePort). Started by on-stores.ts; the threads share nothing but
// the port and the stores, exactly as separate processes do.
import { createServer } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { messageOf } from '../errors.ts';
import { openStoreLinks, type StoreConfig } from './store-links.ts';
import { StoreApp } from './store-app.ts';
import { StoreStats, type StoreThreadMetrics } from './store-metrics.ts';
import { ThreadCounters } from './prometheus.ts';
import { CommitStatsWriter } from '../ledger/commit-stats.ts';
import type { SaleDefinition } from './sale.ts';
import type { LogLevel } from './log.ts';

export interface StoreThreadData {
  threadIndex: number;
  host: string;
  port: number;
  config: StoreConfig;
  saleId: number;
  sale: SaleDefinition;
  adminToken: string | undefined;
  maxInFlight: number;
  requestTimeoutMs: number;
  maxConnections: number;
  seed: number;
  metrics: StoreThreadMetrics;
  /** This thread replaces one that died: it rebuilds the stock from the ledger first (on-stores.ts says why). */
  restarted: boolean;
}

export type FromStoreThread =
  | { type: 'listening'; port: number }
  | { type: 'error'; message: string; code?: string }
  | { type: 'log'; level: LogLevel; message: string };

export type ToStoreThread = { type: 'close'; deadlineMs: number };

const data = workerData as StoreThreadData; // on-stores.ts starts this thread with StoreThreadData
const parent = parentPort!; // this file only runs as a worker thread
const post = (m: FromStoreThread) => parent.postMessage(m);
const log = (level: LogLevel, message: string) => post({ type: 'log', level, message: `thread ${data.threadIndex}: ${message}` });

const stats = new StoreStats(data.metrics.stores, data.threadIndex);
const counters = new ThreadCounters(data.metrics.requests, data.threadIndex);
let links;
try {
  links = await openStoreLinks(data.config, data.saleId, data.sale, log, stats, new CommitStatsWriter(data.metrics.commits[data.threadIndex]));
} catch (e) {
  post({ type: 'error', message: messageOf(e) });
  process.exit(1);
}
if (data.restarted) links.rebuildAfterCrash();
const app = new StoreApp({ sale: data.sale, saleId: data.saleId, links, threadIndex: data.threadIndex, adminToken: data.adminToken, maxInFlight: data.maxInFlight, seed: data.seed, counters, metrics: data.metrics });
const server = createServer({ keepAliveTimeout: 5000, requestTimeout: data.requestTimeoutMs, headersTimeout: data.requestTimeoutMs }, app.handle);
server.maxConnections = data.maxConnections;
server.on('drop', () => counters.dropped());
app.reservations.startSweeper();
server.on('error', (e: NodeJS.ErrnoException) => post({ type: 'error', message: e.message, code: e.code }));
server.listen({ port: data.port, host: data.host, reusePort: true }, () => {
  const address = server.address();
  post({ type: 'listening', port: typeof address === 'object' && address ? address.port : data.port });
});

parent.on('message', async (m: ToStoreThread) => {
  if (m.type !== 'close') return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([app.drain(), new Promise<void>((r) => (timer = setTimeout(r, m.deadlineMs)))]);
  clearTimeout(timer);
  app.reservations.stop();
  server.closeAllConnections();
  await closed;
  await links.close();
  parent.close();
});
