// Deterministic buyers for `flashsale simulate`: buyer i's user, SKU and quantity come from a hash of
// (seed, i), so any thread can generate its own share without a shared list, and the same seed gives the
// same crowd every run. Users are drawn from a pool smaller than the crowd, so some users come back and
// the per-user limit has something to refuse.

import { mix32 } from '../common/random.ts';

export interface BuyerPlan {
  /** Buyers in the whole crowd. */
  count: number;
  seed: number;
  /** Distinct user ids buyers are drawn from. */
  users: number;
  skus: number;
  /** Each buyer wants 1..maxQty units (uniform). */
  maxQty: number;
}

export interface Buyer {
  user: number;
  sku: number;
  qty: number;
}


/** Fills `out` with buyer `index` (reused object: the hot loop allocates nothing). */
export function buyerAt(plan: BuyerPlan, index: number, out: Buyer): Buyer {
  const h = mix32((plan.seed ^ mix32(index + 0x9e3779b9)) >>> 0);
  out.user = h % plan.users;
  out.sku = plan.skus === 1 ? 0 : mix32(h ^ 0x5bd1e995) % plan.skus;
  out.qty = plan.maxQty === 1 ? 1 : 1 + (mix32(h + 0x27d4eb2f) % plan.maxQty);
  return out;
}

export function userId(user: number): string {
  return `user-${user}`;
}

/** Units wanted per SKU by the whole crowd. */
export function demandBySku(plan: BuyerPlan): number[] {
  const demand = new Array<number>(plan.skus).fill(0);
  const buyer: Buyer = { user: 0, sku: 0, qty: 0 };
  for (let i = 0; i < plan.count; i++) {
    buyerAt(plan, i, buyer);
    demand[buyer.sku] += buyer.qty;
  }
  return demand;
}
