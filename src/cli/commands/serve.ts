// `flashsale serve`: the reference inventory/checkout service on N threads sharing one port.
import type { Command } from 'commander';
import { acceptFaultMessages } from '../../service/fault-messages.ts';
import { readFileSync } from 'node:fs';
import { messageOf, UsageError } from '../../errors.ts';
import { duration, fraction, integer, oneOf, perUserLimit } from '../options.ts';
import { STRATEGIES, type StrategyName } from '../../stock/index.ts';
import { fromWrittenSale, parseSale, startService, type SaleDefinition } from '../../service/index.ts';
import { ADMIN_TOKEN_ENV, readAdminToken } from '../admin-token.ts';
import { NO_LIMIT } from '../../contract/sale.ts';
import { acceptHealthMessages } from '../../service/health-messages.ts';
import { hasPostgresScheme, hasRedisScheme, redactUrl, startStoreService, STOCK_STORE_DESIGNS, type StockStoreDesign } from '../../service/on-stores.ts';

interface ServeOptions {
  port: number;
  host: string;
  threads?: number;
  sale?: string;
  sku: string;
  stock: number;
  perUserLimit: number;
  reservationTtl: number;
  opensAt: string;
  ledger: string;
  adminToken?: string;
  adminTokenFile?: string;
  strategy: StrategyName;
  declineRate: number;
  paymentLatency: number;
  maxInFlight: number;
  requestTimeout: number;
  shutdownTimeout: number;
  maxConnections: number;
  expectedUsers: number;
  seed: number;
  newSale?: boolean;
  acceptLostOrders?: boolean;
  stockStore: string;
  storePrefix?: string;
  storeSchema?: string;
  rebuildStock?: boolean;
  joinPort?: boolean;
  stockStrategy?: StockStoreDesign;
}

/** memory (in-process stock, SQLite ledger) or the shared stores (Redis stock, PostgreSQL ledger): both or neither. */
export function storeMode(o: Pick<ServeOptions, 'stockStore' | 'ledger' | 'storePrefix' | 'storeSchema' | 'rebuildStock' | 'joinPort' | 'stockStrategy'>): 'memory' | 'stores' {
  const redis = o.stockStore !== 'memory';
  const postgres = hasPostgresScheme(o.ledger);
  if (redis && !hasRedisScheme(o.stockStore)) throw new UsageError(`--stock-store ${JSON.stringify(o.stockStore)}: expected memory or redis://host:port/db (a Redis Cluster: redis+cluster://host:port[,host:port…])`);
  if (redis && !postgres) throw new UsageError('--stock-store redis://… needs --ledger postgres://…: the orders of every process sharing the stock must be in one shared ledger');
  if (!redis && postgres) throw new UsageError('--ledger postgres://… needs --stock-store redis://…: in-process stock cannot be shared by several processes');
  if (!redis && (o.storePrefix !== undefined || o.storeSchema !== undefined || o.rebuildStock === true || o.joinPort === true || o.stockStrategy !== undefined)) {
    throw new UsageError('--store-prefix, --store-schema, --stock-strategy, --rebuild-stock and --join-port apply only with --stock-store redis://… --ledger postgres://…');
  }
  return redis ? 'stores' : 'memory';
}

function opensAt(value: string): number | null {
  if (value === 'now') return null;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new UsageError(`--opens-at "${value}" is neither "now" nor an ISO date-time (example: 2014-10-28T14:00:00+05:30).`);
  return ms;
}

/** The sale from --sale (fields it leaves out come from the flags) or from --sku/--stock. */
export function saleFromOptions(o: ServeOptions): SaleDefinition {
  const base = {
    skus: [{ id: o.sku, stock: o.stock }],
    perUserLimit: o.perUserLimit,
    reservationTtlMs: o.reservationTtl,
    opensAtEpochMs: opensAt(o.opensAt),
    payment: { declineRate: o.declineRate, latencyMs: o.paymentLatency },
  };
  if (o.sale === undefined) return parseSale(base, 'sale from the command line');
  let file: unknown;
  try {
    file = JSON.parse(readFileSync(o.sale, 'utf8'));
  } catch (e) {
    throw new UsageError(`--sale ${o.sale}: ${messageOf(e)}`);
  }
  if (file === null || typeof file !== 'object' || Array.isArray(file)) throw new UsageError(`--sale ${o.sale}: expected a JSON object`);
  const written = fromWrittenSale(file as Record<string, unknown>); // fromWrittenSale checks each field; a non-object fails parseSale after it
  if (written.issues.length > 0) throw new UsageError(`invalid sale file ${o.sale}:\n  ${written.issues.join('\n  ')}`);
  return parseSale({ ...base, ...written.value }, `sale file ${o.sale}`);
}

/** --admin-token (kept, though ps shows it), else --admin-token-file, else the environment. */
function adminTokenOf(o: ServeOptions, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (o.adminToken !== undefined && o.adminTokenFile !== undefined) throw new UsageError('--admin-token and --admin-token-file: give one, not both.');
  return o.adminToken ?? readAdminToken(o.adminTokenFile, env);
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Run the reference inventory/checkout service (the default target of `flashsale run`).')
    .option('--port <n>', 'TCP port (0 = any free port)', integer(0, 65535), 8080)
    .option('--host <addr>', 'address to bind; keep loopback unless you mean otherwise', '127.0.0.1')
    .option('--threads <n>', 'HTTP worker threads sharing the port (default: min(2, cpus))', integer(1, 64))
    .option('--sale <file.json>', 'sale definition: {skus:[{id,stock}], perUserLimit, reservationTtlMs, opensAtEpochMs, payment:{declineRate,latencyMs}}; missing fields come from the flags below')
    .option('--sku <id>', 'the one SKU on sale when no --sale file is given', 'redmi-1s')
    .option('--stock <n>', 'units of --sku', integer(0, 2 ** 31 - 1), 90_000)
    .option('--per-user-limit <n|none>', 'units one user id may buy in the sale, or "none" for no limit', (v: string) => { const limit = perUserLimit(v); return limit === NO_LIMIT ? 0 : limit; }, 1)
    .option('--reservation-ttl <duration>', 'how long a reservation holds units', duration, 120_000)
    .option('--opens-at <ISO|now>', 'when the sale opens; earlier purchases get 403', 'now')
    .option('--ledger <path|:memory:|postgres://…>', 'order ledger: a SQLite file (survives restarts, recovered), :memory: (a 201 is not durable), or PostgreSQL shared by many processes (with --stock-store redis://…)', ':memory:')
    .option('--stock-store <memory|redis://host:port/db>', 'where the stock, per-user limits and idempotency keys live: in this process, or in Redis shared by every serve process of the sale (needs --ledger postgres://…); a Redis Cluster: redis+cluster://host:port[,host:port…]', 'memory')
    .option('--store-schema <name>', 'PostgreSQL schema of the ledger tables (default flashsale); one per sale environment, so tests and services do not collide')
    .option('--store-prefix <prefix>', 'prefix of every Redis key (default flashsale:<schema>)')
    .option('--join-port', 'listen on --port beside another serve on the same stores (the kernel spreads connections over both): N processes behind one URL')
    .option('--stock-strategy <name>', `how the processes share the Redis stock (with --stock-store redis://…): ${STOCK_STORE_DESIGNS.join(', ')} (default redis-lua: one script call per take; redis-leased: each process leases units in batches and sells from memory)`, oneOf(STOCK_STORE_DESIGNS))
    .option('--rebuild-stock', 'rebuild the Redis stock from the PostgreSQL ledger at start (initial − sold − open reservations), even when Redis holds it')
    .option('--admin-token <token>', `bearer token for /admin routes (off without one); visible to every user in ps: prefer --admin-token-file or ${ADMIN_TOKEN_ENV}`)
    .option('--admin-token-file <path>', `file whose first line is the admin bearer token (else ${ADMIN_TOKEN_ENV} is read)`)
    .option('--strategy <name>', `stock core strategy: ${STRATEGIES.join(', ')}`, oneOf(STRATEGIES), 'atomic' as StrategyName) // commander's default value type: a literal of the union
    .option('--decline-rate <fraction>', 'share of simulated payments declined', fraction, 0)
    .option('--payment-latency <duration>', 'simulated payment time per order', duration, 0)
    .option('--max-in-flight <n>', 'per thread: past this many requests in flight (counted once their body has arrived), answer 503 + Retry-After', integer(1), 2048)
    .option('--request-timeout <duration>', "a request's headers and body must arrive within it, else 408 and the connection is closed", duration, 10_000)
    .option('--shutdown-timeout <duration>', 'on SIGINT/SIGTERM, how long requests in flight may finish before their connections are cut', duration, 10_000)
    .option('--max-connections <n>', 'per thread: open connections; past it new ones are closed at once', integer(1), 10_000)
    .option('--expected-users <n>', 'sizes the per-user, reservation and idempotency tables', integer(1, 2 ** 25), 100_000)
    .option('--seed <n>', 'seed of the payment decline draw', integer(0, 2 ** 32 - 1), 1)
    .option('--accept-lost-orders', 'start on a --ledger that fails its integrity check at start (damaged log or pages): acknowledged orders SQLite cannot read are lost and their units sold again; copies of the damaged files are kept')
    .option('--new-sale', "begin a new sale on a --ledger whose latest sale has orders (without it, a start with other SKUs, stock or per-user limit is refused; the old sale's orders stay in the file, no longer served)")
    .action(async (o: ServeOptions) => {
      const sale = saleFromOptions(o);
      const adminToken = adminTokenOf(o);
      if (storeMode(o) === 'stores') return serveOnStores(o, sale, adminToken);
      const service = await startService({
        sale,
        port: o.port,
        host: o.host,
        threads: o.threads,
        strategy: o.strategy,
        ledgerPath: o.ledger,
        adminToken,
        maxInFlightPerThread: o.maxInFlight,
        requestTimeoutMs: o.requestTimeout,
        maxConnectionsPerThread: o.maxConnections,
        shutdownTimeoutMs: o.shutdownTimeout,
        expectedUsers: o.expectedUsers,
        seed: o.seed,
        newSale: o.newSale,
        acceptLostOrders: o.acceptLostOrders,
        log: (_level, message) => process.stderr.write(`flashsale serve: ${message}\n`),
      });
      // stdout's first line is the URL alone, for scripts; the rest is for people.
      // A parent that spawned us with an IPC channel (a run's kill-thread fault) may crash a thread; nobody else can.
      acceptFaultMessages(service);
      process.stdout.write(`${service.url}\n`);
      process.stderr.write(
        `flashsale serve: ${service.threads} thread(s), strategy ${o.strategy}, ledger ${o.ledger}, ` +
          `${sale.skus.length} SKU(s), admin routes ${adminToken ? 'on' : 'off'}. Ctrl-C stops.\n`,
      );
      if (o.ledger === ':memory:') {
        process.stderr.write('flashsale serve: ledger :memory: — a 201 is NOT durable: every order is gone when this process ends (keep them with --ledger <file>)\n');
      }
      await closeOnSignal(service, `draining in-flight requests (up to ${o.shutdownTimeout} ms) and flushing the ledger`);
    });
}

/** serve --stock-store redis://… --ledger postgres://…: one of any number of processes selling one sale. */
async function serveOnStores(o: ServeOptions, sale: SaleDefinition, adminToken: string | undefined): Promise<void> {
  const service = await startStoreService({
    sale,
    redisUrl: o.stockStore,
    ledgerUrl: o.ledger,
    schema: o.storeSchema,
    prefix: o.storePrefix,
    rebuildStock: o.rebuildStock,
    joinPort: o.joinPort,
    strategy: o.stockStrategy,
    newSale: o.newSale,
    port: o.port,
    host: o.host,
    threads: o.threads,
    adminToken,
    maxInFlightPerThread: o.maxInFlight,
    requestTimeoutMs: o.requestTimeout,
    maxConnectionsPerThread: o.maxConnections,
    shutdownTimeoutMs: o.shutdownTimeout,
    seed: o.seed,
    log: (_level, message) => process.stderr.write(`flashsale serve: ${message}\n`),
  });
  // A parent that spawned us with an IPC channel (run --service-processes) asks this process's own health there.
  acceptHealthMessages(() => service.health());
  process.stdout.write(`${service.url}\n`);
  process.stderr.write(
    `flashsale serve: ${service.threads} thread(s) on the shared stores: stock ${redactUrl(o.stockStore)}, ledger ${redactUrl(o.ledger)}, sale ${service.saleId}, ` +
      `${sale.skus.length} SKU(s), stock strategy ${o.stockStrategy ?? 'redis-lua'}, admin routes ${adminToken ? 'on' : 'off'}. Ctrl-C stops.\n`,
  );
  await closeOnSignal(service, `draining in-flight checkouts (up to ${o.shutdownTimeout} ms)`);
}

/** Until SIGINT or SIGTERM: then drains and closes the service (a second signal quits at once, by
 * Node's default, since the handlers are gone); a failed shutdown makes the exit code 1. */
function closeOnSignal(service: { close(): Promise<void> }, draining: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`flashsale serve: ${signal}: ${draining}; a second ${signal} quits at once\n`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      service.close().then(resolve, (e: unknown) => {
        process.stderr.write(`flashsale serve: shutdown failed: ${messageOf(e)}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
