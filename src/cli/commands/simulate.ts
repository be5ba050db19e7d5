// `flashsale simulate`: N threads race an in-process crowd against the shared stock, no HTTP. The
// students' tool: naive visibly oversells, the other strategies never do.
import type { Command } from 'commander';
import { integer, oneOf, perUserLimit } from '../options.ts';
import { DEFAULT_LEASE_SIZE, STRATEGIES, STRATEGY_DESCRIPTIONS, type StrategyName } from '../../stock/index.ts';
import { MAX_UNITS } from '../../stock/layout.ts';
import { simulate } from '../../simulate/race.ts';
import { renderTable } from '../../simulate/table.ts';
import { NO_LIMIT } from '../../contract/sale.ts';

interface SimulateFlags {
  strategy: StrategyName;
  threads: number;
  stock: number;
  buyers: number;
  perUserLimit: number | typeof NO_LIMIT;
  skus: number;
  qty: number;
  seed: number;
  users?: number;
  leaseSize?: number;
  json?: boolean;
}

const MAX_THREADS = 64;

export function register(program: Command): void {
  program
    .command('simulate')
    .description('Race in-process buyers against the shared stock on N threads (no HTTP) and report oversell')
    .requiredOption(
      '--strategy <name>',
      `stock strategy: ${STRATEGIES.map((s) => `${s} (${STRATEGY_DESCRIPTIONS[s]})`).join('; ')}`,
      oneOf(STRATEGIES),
    )
    .option('--threads <n>', 'worker threads racing', integer(1, MAX_THREADS), 4)
    // A million units: the sale lasts tens of milliseconds, long enough for threads to really race.
    .option('--stock <units>', 'units on sale, split evenly over the SKUs', integer(0, MAX_UNITS), 1_000_000)
    .option('--buyers <n>', 'buyers in the crowd', integer(1, 100_000_000), 2_000_000)
    .option('--per-user-limit <units|none>', 'most units one user may buy, or "none"', perUserLimit, NO_LIMIT)
    .option('--skus <n>', 'SKUs on sale', integer(1, 10_000), 1)
    .option('--qty <n>', 'each buyer wants 1..n units', integer(1, 1000), 1)
    .option('--seed <n>', 'seed for the crowd (same seed, same buyers)', integer(0, 0xffff_ffff), 1)
    .option('--users <n>', 'distinct users the buyers are drawn from (default: half the buyers)', integer(1))
    .option('--lease-size <units>', `leased: units per refill (default: ${DEFAULT_LEASE_SIZE})`, integer(1, 1_000_000))
    .option('--json', 'print exactly one JSON object instead of the table')
    .action(async (flags: SimulateFlags) => {
      const result = await simulate({
        strategy: flags.strategy,
        threads: flags.threads,
        stock: flags.stock,
        buyers: flags.buyers,
        skus: flags.skus,
        maxQty: flags.qty,
        perUserLimit: flags.perUserLimit === NO_LIMIT ? null : flags.perUserLimit,
        seed: flags.seed,
        users: flags.users,
        leaseSize: flags.leaseSize,
      });
      console.log(flags.json ? JSON.stringify(result) : renderTable(result));
    });
}
