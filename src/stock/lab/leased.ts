// In-process leased (src/stock/leased.ts) in one thread, behind the same async take as the store designs:
// the floor of what the lab's buyer loop itself costs.
import { attachStock, createStockShared } from '../index.ts';
import type { StockCounter } from '../types.ts';
import type { LabDesign } from './types.ts';

export class LeasedLab implements LabDesign {
  readonly name = 'leased' as const;
  #stock: StockCounter | null = null;

  async setup(stock: number): Promise<void> {
    this.#stock = attachStock(createStockShared('leased', [{ initial: stock }], { maxThreads: 1 }), 0);
  }

  async take(): Promise<boolean> {
    return this.#stock!.tryTake(0, 1); // set in setup(), before any take
  }

  async snapshot(): Promise<{ sold: number; available: number }> {
    const s = this.#stock!.snapshot(0); // set in setup(), before any take
    return { sold: s.sold, available: s.available };
  }

  async close(): Promise<void> {}
}
