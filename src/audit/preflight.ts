// Before load goes to a foreign target: is the sale it holds the scenario's sale? The audit compares
// the target's inventory with the scenario's stock after the run, so a target started with other SKUs
// or another stock would fail the audit (exit 3, blaming the service) or skip it (the first SKU it
// does not know), for a mistake made before the first request. Read once, bounded, and refused with
// each SKU named. A target without the inventory route, or not reachable yet, is left to the run and
// the audit, which say so themselves.
import type { InventoryState } from '../contract/result.ts';
import { TargetSaleMismatchError } from '../errors.ts';
import { readTargetInventories, type InventoryProblem } from './fetch.ts';

/** Time for every pre-flight GET together, ms: short, so a hanging target costs little before its run. */
export const PREFLIGHT_BUDGET_MS = 2_000;

function isProblem(r: InventoryState | InventoryProblem): r is InventoryProblem {
  return 'problem' in r;
}

/** Throws TargetSaleMismatchError when the target's SKUs or initial stock differ from `stockBySku`;
 * returns warnings a reader needs (units already sold or reserved before the load). */
export async function checkTargetSale(targetUrl: string, stockBySku: ReadonlyMap<string, number>, budgetMs = PREFLIGHT_BUDGET_MS): Promise<string[]> {
  const skus = [...stockBySku.keys()];
  const read = await readTargetInventories(targetUrl, skus, budgetMs);
  // Not one SKU read: no inventory route, or nothing listening yet. Not this check's to judge.
  if (read.every(isProblem)) return [];
  const mismatches: string[] = [];
  const warnings: string[] = [];
  read.forEach((r, i) => {
    const sku = skus[i];
    if (isProblem(r)) {
      if (r.status === 404) mismatches.push(`SKU "${sku}": the target does not sell it (${r.problem})`);
      else warnings.push(`pre-flight: SKU "${sku}" could not be read before the load: ${r.problem}`);
      return;
    }
    const expected = stockBySku.get(sku) ?? 0;
    if (r.initial !== expected) mismatches.push(`SKU "${sku}": the target started its sale with ${r.initial} units, the scenario says ${expected}`);
    else if (r.sold + r.reserved > 0) {
      warnings.push(`pre-flight: SKU "${sku}" had ${r.sold} sold and ${r.reserved} reserved before this run's load (another run, or another segment of it, reached the target first)`);
    }
  });
  if (mismatches.length > 0) throw new TargetSaleMismatchError(targetUrl, mismatches);
  return warnings;
}
