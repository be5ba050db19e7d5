// Who buyer number i is: their account (user id), whether they are a bot, which SKU they want.
// Derived from the seed and the buyer number alone, so a run's buyers do not depend on the worker count.
import type { LoadPlan } from '../contract/load-plan.ts';
import { deriveSeed } from '../common/random.ts';

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export class Buyers {
  readonly #prefix: string;
  readonly #population: number;
  readonly #stride: number;
  readonly #offset: number;
  readonly #cumulative: Float64Array;
  readonly #skus: string[];

  constructor(plan: Pick<LoadPlan, 'buyers' | 'skus' | 'seed'>) {
    this.#prefix = plan.buyers.userPrefix;
    this.#population = plan.buyers.population;
    // A stride coprime with the population walks every account once before repeating: the first
    // `population` buyers get distinct accounts, in an order that differs per seed.
    let stride = (deriveSeed(plan.seed, 0xb0b) % this.#population) | 1;
    while (gcd(stride, this.#population) !== 1) stride++;
    this.#stride = stride % this.#population || 1;
    this.#offset = deriveSeed(plan.seed, 0x0ff) % this.#population;
    this.#skus = plan.skus.ids;
    this.#cumulative = new Float64Array(plan.skus.weights.length);
    let sum = 0;
    plan.skus.weights.forEach((w, i) => (this.#cumulative[i] = sum += w));
  }

  /** Account index of buyer `buyer`'s `account`-th account (bots switch accounts; others use 0). */
  accountIndex(buyer: number, account: number): number {
    // Other accounts of a bot are far from its own in the walk, so they rarely collide with neighbours'.
    // Runs per request: one modulo where the general formula has three (offset and the product's
    // remainder are both below the population, so their sum needs at most one subtraction).
    const pop = this.#population;
    let k = account === 0 ? buyer : buyer + account * 104_729;
    if (k >= pop) k %= pop;
    const i = this.#offset + ((k * this.#stride) % pop);
    return i >= pop ? i - pop : i;
  }

  userId(buyer: number, account: number): string {
    return this.#prefix + this.accountIndex(buyer, account);
  }

  /** SKU index for a uniform draw u in [0, 1). */
  skuIndex(u: number): number {
    const c = this.#cumulative;
    const x = u * c[c.length - 1];
    let i = 0;
    while (i < c.length - 1 && x >= c[i]) i++;
    return i;
  }

  sku(index: number): string {
    return this.#skus[index];
  }
}
