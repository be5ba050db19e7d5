// Several buyer processes (test/fixtures/stores-taker.ts) racing one sale on a shared store, and the
// checks every such race must pass: nothing oversold, the store's counters equal the buyers' receipts,
// per-user limits and idempotency keys held across processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { connectRedis } from '../../src/stores/redis/link.ts';
import { RedisLuaStock } from '../../src/stores/redis/lua-store.ts';
import { RedisLeasedStock } from '../../src/stores/redis/leased-store.ts';
import type { KeyLayout } from '../../src/stores/redis/keys.ts';
import type { StockStore } from '../../src/stores/stock-store.ts';
import type { Outcome, TakerConfig } from '../fixtures/stores-taker.ts';
import { REDIS_URL } from './servers.ts';

const TAKER = new URL('../fixtures/stores-taker.ts', import.meta.url).pathname;

export async function openStore(design: TakerConfig['design'], prefix: string, skuCount: number, options: { layout?: KeyLayout; perUserLimit?: number; owner?: string; url?: string } = {}): Promise<StockStore> {
  const link = await connectRedis(options.url ?? REDIS_URL);
  return design === 'redis-lua'
    ? new RedisLuaStock(link, { prefix, saleId: 1, skuCount, layout: options.layout ?? 'sku', perUserLimit: options.perUserLimit ?? 0 })
    : new RedisLeasedStock(link, { prefix, saleId: 1, skuCount, owner: options.owner ?? 'checker', owners: 1 });
}

/** A fresh sale at epoch 1: the stock per SKU, nothing sold. */
export async function loadSale(design: TakerConfig['design'], prefix: string, stock: number[], options: { layout?: KeyLayout; url?: string; epoch?: number } = {}): Promise<void> {
  const store = await openStore(design, prefix, stock.length, options);
  expect(await store.load({ epoch: options.epoch ?? 1, skus: stock.map((initial) => ({ initial, sold: 0, held: 0 })), users: [], keys: [] })).toBe(true);
  await store.close();
}

/** One child process per config; resolves with every outcome once all exit (each is bounded in takes). */
export function raceProcesses(n: number, config: (i: number) => TakerConfig, started?: (children: ChildProcess[]) => void): Promise<Outcome[][]> {
  const children = Array.from({ length: n }, (_, i) => spawn(process.execPath, [TAKER, JSON.stringify(config(i))], { stdio: ['ignore', 'pipe', 'pipe'] }));
  started?.(children);
  return Promise.all(
    children.map(
      (child) =>
        new Promise<Outcome[]>((resolve, reject) => {
          let out = '';
          let err = '';
          child.stdout!.on('data', (d) => (out += d));
          child.stderr!.on('data', (d) => (err += d));
          const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
          child.on('exit', (code, signal) => {
            clearTimeout(timer);
            if (signal === 'SIGKILL') return resolve([]);
            if (code !== 0) return reject(new Error(`taker exited ${code}: ${err.slice(0, 2000)}`));
            resolve(JSON.parse(out) as Outcome[]);
          });
        }),
    ),
  );
}

export interface RaceTotals { confirmedBySku: number[]; soldOut: boolean[] }

export async function checkRace(
  design: TakerConfig['design'],
  prefix: string,
  stock: number[],
  perProcess: Outcome[][],
  options: { perUserLimit: number; layout?: KeyLayout },
): Promise<RaceTotals> {
  const outcomes = perProcess.flat();
  expect(outcomes.filter((o) => o.kind === 'error' || o.kind === 'missing')).toEqual([]);
  const confirmedBySku = stock.map(() => 0);
  const soldOut = stock.map(() => false);
  const perUser = new Map<string, number>();
  const perKey = new Map<string, number>();
  for (const o of outcomes) {
    if (o.kind === 'sold_out') soldOut[o.sku] = true;
    if (o.settled !== 'confirmed') continue;
    confirmedBySku[o.sku] += o.qty;
    const userKey = options.layout === 'sku' && design === 'redis-lua' ? `${o.sku}/${o.userId}` : o.userId;
    perUser.set(userKey, (perUser.get(userKey) ?? 0) + o.qty);
    if (o.key !== null) perKey.set(o.key, (perKey.get(o.key) ?? 0) + 1);
  }
  stock.forEach((initial, sku) => expect(confirmedBySku[sku], `SKU ${sku} oversold`).toBeLessThanOrEqual(initial));
  if (options.perUserLimit > 0) for (const [user, units] of perUser) expect(units, `user ${user} over the limit`).toBeLessThanOrEqual(options.perUserLimit);
  for (const [key, n] of perKey) expect(n, `key ${key} made ${n} orders`).toBe(1);
  // A replay names an order that some process really took with that key.
  const holdsByKey = new Map(outcomes.filter((o) => o.kind === 'taken' && o.key !== null).map((o) => [o.holdId, o.key]));
  expect(outcomes.filter((o) => o.kind === 'replay').length).toBeGreaterThan(0);
  const store = await openStore(design, prefix, stock.length, { layout: options.layout, owner: 'checker' });
  for (let sku = 0; sku < stock.length; sku++) {
    const snap = await store.snapshot(sku);
    expect(snap, `SKU ${sku} snapshot`).not.toBeNull();
    expect({ sku, sold: snap!.sold, held: snap!.held, available: snap!.available }).toEqual({ sku, sold: confirmedBySku[sku], held: 0, available: stock[sku] - confirmedBySku[sku] });
  }
  await store.close();
  expect(holdsByKey.size).toBeGreaterThan(0);
  return { confirmedBySku, soldOut };
}
