// `flashsale serve`: the reference inventory/checkout service on N threads sharing one port.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors.ts';
import { duration, fraction, integer, oneOf, perUserLimit } from '../options.ts';
import { STRATEGIES, type StrategyName } from '../../stock/index.ts';
import { parseSale, startService, type SaleDefinition } from '../../service/index.ts';

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
  strategy: StrategyName;
  declineRate: number;
  paymentLatency: number;
  maxInFlight: number;
  expectedUsers: number;
  seed: number;
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
    throw new UsageError(`--sale ${o.sale}: ${(e as Error).message}`);
  }
  if (file === null || typeof file !== 'object' || Array.isArray(file)) throw new UsageError(`--sale ${o.sale}: expected a JSON object`);
  return parseSale({ ...base, ...(file as object) }, `sale file ${o.sale}`);
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
    .option('--per-user-limit <n|none>', 'units one user id may buy in the sale, or "none" for no limit', (v: string) => { const limit = perUserLimit(v); return limit === 'none' ? 0 : limit; }, 1)
    .option('--reservation-ttl <duration>', 'how long a reservation holds units', duration, 120_000)
    .option('--opens-at <ISO|now>', 'when the sale opens; earlier purchases get 403', 'now')
    .option('--ledger <path|:memory:>', 'SQLite order ledger; a file survives restarts and is recovered', ':memory:')
    .option('--admin-token <token>', 'bearer token for /admin routes (off without one)')
    .option('--strategy <name>', `stock core strategy: ${STRATEGIES.join(', ')}`, oneOf(STRATEGIES), 'atomic' as StrategyName)
    .option('--decline-rate <fraction>', 'share of simulated payments declined', fraction, 0)
    .option('--payment-latency <duration>', 'simulated payment time per order', duration, 0)
    .option('--max-in-flight <n>', 'per thread: past this many requests in flight, answer 503 + Retry-After', integer(1), 2048)
    .option('--expected-users <n>', 'sizes the per-user, reservation and idempotency tables', integer(1, 2 ** 25), 100_000)
    .option('--seed <n>', 'seed of the payment decline draw', integer(0, 2 ** 32 - 1), 1)
    .action(async (o: ServeOptions) => {
      const sale = saleFromOptions(o);
      const service = await startService({
        sale,
        port: o.port,
        host: o.host,
        threads: o.threads,
        strategy: o.strategy,
        ledgerPath: o.ledger,
        adminToken: o.adminToken,
        maxInFlightPerThread: o.maxInFlight,
        expectedUsers: o.expectedUsers,
        seed: o.seed,
      });
      // stdout's first line is the URL alone, for scripts; the rest is for people.
      process.stdout.write(`${service.url}\n`);
      process.stderr.write(
        `flashsale serve: ${service.threads} thread(s), strategy ${o.strategy}, ledger ${o.ledger}, ` +
          `${sale.skus.length} SKU(s), admin routes ${o.adminToken ? 'on' : 'off'}. Ctrl-C stops.\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.stderr.write(`flashsale serve: ${signal}: draining in-flight requests and flushing the ledger\n`);
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          service.close().then(resolve, (e) => {
            process.stderr.write(`flashsale serve: shutdown failed: ${(e as Error).message}\n`);
            process.exitCode = 1;
            resolve();
          });
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
