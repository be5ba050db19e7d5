// redis-lua (one EVALSHA per take, or batched per SKU) and redis-leased (two owners, as two service
// processes would be) through the shared-store implementations in src/stores.
import { connectRedis, dropKeysUnder } from '../../stores/redis/link.ts';
import { RedisLuaStock } from '../../stores/redis/lua-store.ts';
import { RedisLeasedStock } from '../../stores/redis/leased-store.ts';
import type { StockStore } from '../../stores/stock-store.ts';
import type { LabDesign, LabEnv } from './types.ts';
import { LabError } from '../../errors.ts';

abstract class StoreLab implements LabDesign {
  abstract readonly name: LabDesign['name'];
  protected readonly env: LabEnv;
  protected stores: StockStore[] = [];
  #epoch = 0;
  #seq = 0;

  constructor(env: LabEnv) {
    this.env = env;
  }

  protected abstract open(): Promise<StockStore[]>;

  async setup(stock: number): Promise<void> {
    await this.close();
    await dropKeysUnder(this.env.redisUrl, this.env.name);
    this.stores = await this.open();
    this.#epoch++;
    if (!(await this.stores[0].load({ epoch: this.#epoch, skus: [{ initial: stock, sold: 0, held: 0 }], users: [], keys: [] }))) throw new LabError('lab: stock load refused');
  }

  async take(buyer: number): Promise<boolean> {
    const store = this.stores[buyer % this.stores.length];
    const r = await store.take({ sku: 0, qty: 1, userId: `u${buyer}`, limit: 0, key: null, fingerprint: 0, holdId: `h${this.#seq++}` });
    if (r.kind === 'taken') return true;
    if (r.kind === 'sold_out') return false;
    throw new LabError(`lab: ${this.name} take answered ${r.kind}`);
  }

  async snapshot(): Promise<{ sold: number; available: number }> {
    const s = (await this.stores[0].snapshot(0))!; // the lab loaded SKU 0 in setup()
    // redis-lua counts taken units as held until confirmed; the lab never confirms, so held is sold.
    return { sold: s.sold + s.held, available: s.available };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.stores.map((s) => s.close()));
    this.stores = [];
  }
}

export class RedisLuaLab extends StoreLab {
  readonly name: 'redis-lua' | 'redis-lua-batched';
  readonly #batch: boolean;

  constructor(env: LabEnv, batch: boolean) {
    super(env);
    this.#batch = batch;
    this.name = batch ? 'redis-lua-batched' : 'redis-lua';
  }

  protected async open(): Promise<StockStore[]> {
    return [new RedisLuaStock(await connectRedis(this.env.redisUrl), { prefix: this.env.name, saleId: 1, skuCount: 1, layout: 'sku', perUserLimit: 0, batch: this.#batch })];
  }
}

export class RedisLeasedLab extends StoreLab {
  readonly name = 'redis-leased' as const;

  protected async open(): Promise<StockStore[]> {
    return Promise.all(
      ['a', 'b'].map(async (owner) => new RedisLeasedStock(await connectRedis(this.env.redisUrl), { prefix: this.env.name, saleId: 1, skuCount: 1, owner, owners: 2 })),
    );
  }

  override async snapshot(): Promise<{ sold: number; available: number }> {
    // Unsold leased units go back first, so the pool and the leases' sold count are final.
    await this.close();
    this.stores = await this.open();
    const s = (await this.stores[0].snapshot(0))!; // the lab loaded SKU 0 in setup()
    return { sold: s.sold, available: s.available };
  }
}
