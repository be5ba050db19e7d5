// When has the sale sold out, so that a run with stopOnSellOut may stop? Not at the first "sold out"
// answer in a reserve → pay journey: units held by buyers who have not paid yet come back when a payment
// is declined (or the hold is abandoned), and later buyers can still buy them. So the run stops only
// when every SKU has answered sold out *and* no buyer of this run still holds a reservation on it or has
// one asked for (its answer may be a hold on a unit that just came back), shared by all load workers:
// - a hold that ends without a sale counts a return for its SKU;
// - a sold-out answer marks its SKU with the return count its request went out at (+1, so 0 is "never"),
//   and the mark stands only while no return has happened since (an answer about the stock before the
//   units came back says nothing about now). One word compared against another, so no check-then-write
//   window lets a stale answer hide a return.
// Checkout journeys never hold, so for them this is the first sold-out answer per SKU, as before.
import { SELL_OUT_FIELDS, SOLD_OUT_BASE } from './shared.ts';

const MARK = 0;
const HOLDS = 1;
const RETURNS = 2;

export class SellOutWatch {
  readonly #control: Int32Array;
  readonly #skus: number;

  constructor(control: Int32Array, skus: number) {
    this.#control = control;
    this.#skus = skus;
  }

  #at(sku: number, field: number): number {
    return SOLD_OUT_BASE + sku * SELL_OUT_FIELDS + field;
  }

  /** Read when a request goes out; handed back with its sold-out answer. */
  returnsSoFar(sku: number): number {
    return Atomics.load(this.#control, this.#at(sku, RETURNS));
  }

  /** A reservation was asked for: held from now until it is paid, refused or lost. */
  holdTaken(sku: number): void {
    Atomics.add(this.#control, this.#at(sku, HOLDS), 1);
  }

  /** A hold (or a reservation asked for) ended; `unitsReturn` unless it was paid or refused. True when the run may stop now. */
  holdEnded(sku: number, unitsReturn: boolean): boolean {
    // The return is counted before the hold count drops, so no instant shows "nothing held" with the return unseen.
    if (unitsReturn) Atomics.add(this.#control, this.#at(sku, RETURNS), 1);
    Atomics.sub(this.#control, this.#at(sku, HOLDS), 1);
    return this.#soldOut();
  }

  /** A sold-out answer to a request sent when `returnsAtSend` returns had happened. True when the run may stop now. */
  soldOutAnswer(sku: number, returnsAtSend: number): boolean {
    if (this.returnsSoFar(sku) !== returnsAtSend) return false; // stale already: nothing to mark
    Atomics.store(this.#control, this.#at(sku, MARK), returnsAtSend + 1);
    return this.#soldOut();
  }

  /** Every SKU answered sold out since its last return, and none is held. (Both sides write, then read the other's words: one of them sees both.) */
  #soldOut(): boolean {
    for (let sku = 0; sku < this.#skus; sku++) {
      const marked = Atomics.load(this.#control, this.#at(sku, MARK)) === Atomics.load(this.#control, this.#at(sku, RETURNS)) + 1;
      if (!marked || Atomics.load(this.#control, this.#at(sku, HOLDS)) !== 0) return false;
    }
    return true;
  }
}
