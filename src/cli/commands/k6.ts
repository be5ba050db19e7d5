// `flashsale k6 <scenario> [--target URL]`: prints the `k6 run` command line that runs the same
// scenario with scenarios/k6/flash-sale.js. The scenario is validated first, since k6 does not.
import type { Command } from 'commander';
import { durationMs, k6CommandLine, loadScenario, refuseFaults } from '../../scenario/index.ts';
import type { Scenario } from '../../scenario/index.ts';
import { httpUrl, integer } from '../options.ts';

/** Where `flashsale serve` listens by default. */
const SERVE_DEFAULT_URL = 'http://127.0.0.1:8080';

/** How to start the built-in service with this scenario's sale (flags for one SKU, else a --sale file). */
function serveHint(s: Scenario): string {
  const sale = s.sale;
  const common = `--per-user-limit ${sale.perUserLimit} --reservation-ttl ${durationMs(sale.reservationTtl)}ms --decline-rate ${sale.payment.declineRate} --payment-latency ${durationMs(sale.payment.latency)}ms`;
  if (sale.skus.length === 1) return `flashsale serve --sku ${sale.skus[0].id} --stock ${sale.skus[0].stock} ${common}`;
  return `flashsale serve --sale <file with this scenario's ${sale.skus.length} SKUs> ${common}`;
}

export function register(program: Command): void {
  program
    .command('k6')
    .description('Print the k6 command line that runs a scenario with scenarios/k6/flash-sale.js (k6 itself is not needed here).')
    .argument('<scenario>', 'a scenario file or preset name')
    .option('--target <url>', "the service k6 should load (default: the scenario's target URL)", httpUrl)
    .option('--max-vus <n>', 'cap on k6 VUs for arrival-rate executors (default: estimated from the peak rate)', integer(1))
    .action((arg: string, opts: { target?: string; maxVus?: number }) => {
      const { scenario, path } = loadScenario(arg);
      refuseFaults(scenario, 'flashsale k6');
      let target = opts.target;
      if (target === undefined && scenario.target !== 'built-in') target = scenario.target.url;
      if (target === undefined) {
        target = SERVE_DEFAULT_URL;
        console.error(`note: ${scenario.name} targets the built-in service, so k6 needs one running; start it (it listens on ${SERVE_DEFAULT_URL}) or pass --target:\n  ${serveHint(scenario)}`);
      }
      console.log(k6CommandLine({ scenarioPath: path, target, maxVus: opts.maxVus }));
    });
}
