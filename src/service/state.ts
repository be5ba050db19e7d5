// Everything one sale shares between threads: stock core, per-user table, confirmed-order counters,
// reservations and idempotency answers. Created in the main thread (from the ledger's recovery data),
// attached in each HTTP thread. Plain data + SharedArrayBuffers, so it travels in workerData.
import { attachStock, createStockShared, type StockCounter, type StockShared, type StrategyName } from '../stock/index.ts';
import { attachUserLimits, createUserLimits, userLimitsBytes, type UserLimits, type UserLimitsShared } from '../stock/user-limits.ts';
import type { Recovery } from '../ledger/store.ts';
import type { SaleDefinition } from './sale.ts';
import { createReservationTable, ReservationTable, reservationTableBytes, type ReservationTableShared } from './reservations.ts';
import { createIdempotencyTable, IdempotencyTable, idempotencyTableBytes, UNVERIFIABLE, type IdempotencyShared } from './idempotency.ts';
import { FlashsaleError } from '../errors.ts';
import { checkSharedMemory } from '../stock/memory.ts';

const CONFIRMED_STRIDE = 32; // Int32 words: one 128-byte line per SKU, as the stock core
// Words of a SKU's line: units in durable orders, and units held (taken, not yet durable or given back).
const SOLD_WORD = 0;
const HELD_WORD = 1;

export interface SaleShared {
  saleId: number;
  /** Random per sale: reservation ids of an earlier sale or process are recognised as unknown. */
  nonce: string;
  sale: SaleDefinition;
  stock: StockShared;
  users: UserLimitsShared | null;
  /** Units in durable orders per SKU (the core's `sold` also counts units merely reserved). */
  confirmed: SharedArrayBuffer;
  reservations: ReservationTableShared;
  idempotency: IdempotencyShared;
}

export interface Capacity {
  threads: number;
  expectedUsers: number;
  /** Memory the shared tables are checked against (default: this machine's). */
  machineBytes?: number;
}

const EMPTY_RECOVERY: Recovery = { soldBySku: new Map(), orders: 0, users: [], keys: [] };

/**
 * A new sale. Its shared state is built first, because that can be refused (tables too big), and only
 * then is the sale recorded in the ledger: a refused sale must leave no row that a restart would take for
 * the latest sale (and so start afresh, forgetting the orders of the sale that was really running).
 */
export async function startNewSale(ledger: { newSale(definition: string): Promise<number> }, sale: SaleDefinition, strategy: StrategyName, capacity: Capacity): Promise<SaleShared> {
  const shared = createSaleShared(0, sale, strategy, EMPTY_RECOVERY, capacity);
  shared.saleId = await ledger.newSale(JSON.stringify(sale));
  return shared;
}

export function createSaleShared(
  saleId: number,
  sale: SaleDefinition,
  strategy: StrategyName,
  recovery: Recovery,
  capacity: Capacity,
): SaleShared {
  const sold = soldByIndex(sale, recovery.soldBySku);
  const expected = Math.max(capacity.expectedUsers, recovery.users.length, 1);
  // Live holds never outnumber units on sale (each holds ≥ 1), so stock bounds the table too.
  const units = sale.skus.reduce((n, s) => n + s.stock, 0);
  const reservationSlots = Math.min(units, Math.max(expected, 65_536)) + 1024;
  const idempotencyKeys = Math.max(expected, recovery.keys.length);
  const limited = sale.perUserLimit > 0;
  checkTableMemory(expected, (limited ? userLimitsBytes(expected) : 0) + reservationTableBytes(reservationSlots) + idempotencyTableBytes(idempotencyKeys), capacity.machineBytes);
  const { stock, confirmed } = counters(sale, strategy, capacity, sold, sold.map(() => 0));
  const users = userTable(sale, expected, recovery.users);
  const reservations = createReservationTable(reservationSlots);
  const idempotency = createIdempotencyTable(idempotencyKeys);
  const keys = new IdempotencyTable(idempotency);
  for (const [key, orderId, fingerprint] of recovery.keys) keys.restore(key, fingerprint ?? UNVERIFIABLE, 201, JSON.stringify({ orderId }));
  const nonce = Math.floor(Math.random() * 36 ** 6).toString(36);
  return { saleId, nonce, sale, stock, users, confirmed, reservations, idempotency };
}

/** What a recovery after an HTTP thread crash found and put right. */
export interface RebuildReport {
  /** Units back on sale: taken by purchases the dead thread never finished. */
  unitsReleased: number;
  /** Units the ledger holds in orders the dead thread committed but never confirmed. */
  unitsFoundSold: number;
  /** Reservations caught mid-payment or mid-write by the dead thread, freed. */
  holdsFreed: number;
  /** Idempotency keys the dead thread had in flight: answered from the ledger, or released for a retry. */
  keysReplayed: number;
  keysReleased: number;
}

/**
 * The sale's shared state rebuilt after an HTTP thread crashed, with every live thread paused (no purchase
 * in progress anywhere but in the dead thread). Units sold and per-user purchases come from the ledger
 * (which has committed everything the dead thread handed over), units held from the live holds in the
 * reservation table; the stock core, per-user table and counters are new, the reservation and idempotency
 * tables are kept (clients' reservation ids and stored answers stay valid) with the dead thread's
 * half-done entries settled. What the dead thread held and never finished thus goes back on sale.
 */
export function rebuildSaleShared(previous: SaleShared, recovery: Recovery, strategy: StrategyName, capacity: Capacity): { shared: SaleShared; report: RebuildReport } {
  const sale = previous.sale;
  const before = saleActivity(previous);
  const holds = new ReservationTable(previous.reservations, -1, 1);
  const holdsFreed = holds.freeOrphans();
  const held = sale.skus.map(() => 0);
  const holders: Array<[string, number]> = [];
  holds.forEachHeld((sku, qty, userId) => {
    held[sku] += qty;
    holders.push([userId, qty]);
  });
  const sold = soldByIndex(sale, recovery.soldBySku);
  sale.skus.forEach((s, i) => {
    if (sold[i] + held[i] > s.stock) throw new FlashsaleError(`recovery found ${sold[i]} units sold and ${held[i]} held of SKU "${s.id}", over its stock of ${s.stock}`);
  });
  const { stock, confirmed } = counters(sale, strategy, capacity, sold, held);
  const users = userTable(sale, Math.max(capacity.expectedUsers, recovery.users.length + holders.length, 1), [...recovery.users, ...holders]);
  const keys = new IdempotencyTable(previous.idempotency).settleOrphans(recovery.keys);
  const soldNow = sold.reduce((a, b) => a + b, 0);
  const heldNow = held.reduce((a, b) => a + b, 0);
  return {
    shared: { ...previous, stock, users, confirmed },
    report: {
      unitsReleased: before.sold + before.held - soldNow - heldNow,
      unitsFoundSold: soldNow - before.sold,
      holdsFreed,
      keysReplayed: keys.replayed,
      keysReleased: keys.released,
    },
  };
}

/** Units sold per SKU index, from the ledger's per-SKU sums (checked against the sale). */
function soldByIndex(sale: SaleDefinition, soldBySku: ReadonlyMap<string, number>): number[] {
  for (const [sku, n] of soldBySku) {
    const def = sale.skus.find((s) => s.id === sku);
    if (!def) throw new FlashsaleError(`the ledger holds orders for SKU "${sku}", which this sale does not define`);
    if (n > def.stock) throw new FlashsaleError(`the ledger holds ${n} units sold of SKU "${sku}" but its stock is ${def.stock}`);
  }
  return sale.skus.map((s) => soldBySku.get(s.id) ?? 0);
}

/** The stock core (sold and held units taken) and the confirmed/held counters. */
function counters(sale: SaleDefinition, strategy: StrategyName, capacity: Capacity, sold: number[], held: number[]): { stock: StockShared; confirmed: SharedArrayBuffer } {
  const stock = createStockShared(
    strategy,
    sale.skus.map((s, i) => ({ initial: s.stock, sold: sold[i] + held[i] })),
    { maxThreads: Math.max(1, capacity.threads) },
  );
  const confirmed = new SharedArrayBuffer(Math.max(1, sale.skus.length) * CONFIRMED_STRIDE * 4);
  const words = new Int32Array(confirmed);
  sale.skus.forEach((_, i) => {
    words[i * CONFIRMED_STRIDE + SOLD_WORD] = sold[i];
    words[i * CONFIRMED_STRIDE + HELD_WORD] = held[i];
  });
  return { stock, confirmed };
}

/** The per-user table (null when the sale has no limit), holding the given purchases. */
function userTable(sale: SaleDefinition, expected: number, purchases: Iterable<readonly [string, number]>): UserLimitsShared | null {
  if (sale.perUserLimit === 0) return null;
  const users = createUserLimits(expected);
  const limits = attachUserLimits(users);
  // Restored purchases may exceed a lowered limit; they were legal when made.
  for (const [userId, qty] of purchases) limits.tryAcquire(userId, qty, 2 ** 31 - 1);
  return users;
}

/** One thread's view of a sale. */
export class SaleState {
  readonly shared: SaleShared;
  readonly saleId: number;
  readonly sale: SaleDefinition;
  readonly skuIndex: Map<string, number>;
  readonly stock: StockCounter;
  readonly users: UserLimits | null;
  readonly reservations: ReservationTable;
  readonly idempotency: IdempotencyTable;
  private readonly confirmed: Int32Array;

  constructor(shared: SaleShared, threadIndex: number, threads: number) {
    this.shared = shared;
    this.saleId = shared.saleId;
    this.sale = shared.sale;
    this.skuIndex = new Map(shared.sale.skus.map((s, i) => [s.id, i]));
    this.stock = attachStock(shared.stock, threadIndex);
    this.users = shared.users ? attachUserLimits(shared.users) : null;
    this.reservations = new ReservationTable(shared.reservations, threadIndex, threads);
    this.idempotency = new IdempotencyTable(shared.idempotency);
    this.confirmed = new Int32Array(shared.confirmed);
  }

  /** Units just taken from stock for a reservation or a checkout: held until durable or given back. */
  hold(sku: number, qty: number): void {
    Atomics.add(this.confirmed, sku * CONFIRMED_STRIDE + HELD_WORD, qty);
  }

  /** Held units became a durable order. */
  confirm(sku: number, qty: number): void {
    Atomics.sub(this.confirmed, sku * CONFIRMED_STRIDE + HELD_WORD, qty);
    Atomics.add(this.confirmed, sku * CONFIRMED_STRIDE + SOLD_WORD, qty);
  }

  /** Held units back to stock and to the user's allowance (expired, released, declined or not durable). */
  giveBack(sku: number, qty: number, userId: string): void {
    Atomics.sub(this.confirmed, sku * CONFIRMED_STRIDE + HELD_WORD, qty);
    this.stock.release(sku, qty);
    this.users?.release(userId, qty);
  }

  /**
   * available comes from the stock core, reserved and sold from the service's own bookkeeping, so
   * `available + reserved + sold = initial` is a real cross-check (the audit's), not true by construction.
   */
  inventory(sku: number): { initial: number; available: number; reserved: number; sold: number } {
    const snap = this.stock.snapshot(sku);
    const base = sku * CONFIRMED_STRIDE;
    return { initial: snap.initial, available: snap.available, reserved: Atomics.load(this.confirmed, base + HELD_WORD), sold: Atomics.load(this.confirmed, base + SOLD_WORD) };
  }
}

/** Units in durable orders and units held, over every SKU: a sale with either is under way. */
export function saleActivity(shared: SaleShared): { sold: number; held: number } {
  const words = new Int32Array(shared.confirmed);
  let sold = 0;
  let held = 0;
  for (let i = 0; i < shared.sale.skus.length; i++) {
    sold += Atomics.load(words, i * CONFIRMED_STRIDE + SOLD_WORD);
    held += Atomics.load(words, i * CONFIRMED_STRIDE + HELD_WORD);
  }
  return { sold, held };
}

/** The service's three shared tables against the machine's memory (see checkSharedMemory). */
export function checkTableMemory(expectedUsers: number, bytes: number, machineBytes?: number): void {
  checkSharedMemory(
    bytes,
    `${expectedUsers.toLocaleString('en-US')} expected users`,
    "the per-user, reservation and idempotency tables are sized from them: lower the expected users (flashsale serve --expected-users, or the scenario's buyers.population)",
    machineBytes,
  );
}
