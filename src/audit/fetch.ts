// Reads what the audit needs from the target after a run: the inventory of each SKU and, with an
// admin token, the order ledger. A target without those routes (a foreign checkout API) gives null
// plus the reason, so the audit marks those checks skipped instead of passing them.
import { request } from 'undici';
import type { AckedOrder, InventoryState } from '../result/types.ts';

export interface AuditInputs {
  inventory: InventoryState[] | null;
  ledgerOrders: AckedOrder[] | null;
  unavailable: { inventory?: string; ledger?: string };
}

const TIMEOUT_MS = 30_000;

function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await request(url, { method: 'GET', headers, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  return { status: res.statusCode, text: await res.body.text() };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

async function fetchInventory(targetUrl: string, skus: readonly string[]): Promise<InventoryState[] | string> {
  const out: InventoryState[] = [];
  for (const sku of skus) {
    const path = `/api/v1/inventory/${encodeURIComponent(sku)}`;
    let res: { status: number; text: string };
    try {
      res = await get(join(targetUrl, path));
    } catch (e) {
      return `GET ${path} failed: ${(e as Error).message}`;
    }
    if (res.status !== 200) return `GET ${path} answered ${res.status}: the target has no inventory route the audit can read`;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      return `GET ${path} did not answer JSON`;
    }
    const { initial, available, reserved, sold } = body;
    if (!isCount(initial) || !isCount(available) || !isCount(reserved) || !isCount(sold)) {
      return `GET ${path} did not answer {initial, available, reserved, sold} as whole numbers`;
    }
    out.push({ sku, initial, available, reserved, sold });
  }
  return out;
}

/** Parses GET /admin/orders' NDJSON; a malformed line is an error, never skipped. */
export function parseLedgerNdjson(text: string): AckedOrder[] {
  const orders: AckedOrder[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new TypeError(`line ${i + 1} is not JSON`);
    }
    const { orderId, sku, userId, qty } = o;
    if (typeof orderId !== 'string' || typeof sku !== 'string' || typeof userId !== 'string' || !isCount(qty)) {
      throw new TypeError(`line ${i + 1} is not {orderId, sku, userId, qty}`);
    }
    orders.push({ orderId, sku, userId, qty });
  }
  return orders;
}

async function fetchLedger(targetUrl: string, adminToken: string): Promise<AckedOrder[] | string> {
  let res: { status: number; text: string };
  try {
    res = await get(join(targetUrl, '/admin/orders'), { authorization: `Bearer ${adminToken}` });
  } catch (e) {
    return `GET /admin/orders failed: ${(e as Error).message}`;
  }
  if (res.status !== 200) return `GET /admin/orders answered ${res.status}`;
  try {
    return parseLedgerNdjson(res.text);
  } catch (e) {
    return `GET /admin/orders: ${(e as Error).message}`;
  }
}

/** `adminToken`: without one the ledger is not read, and the checks that need it are skipped. */
export async function fetchAuditInputs(targetUrl: string, skus: readonly string[], adminToken?: string): Promise<AuditInputs> {
  const unavailable: AuditInputs['unavailable'] = {};
  const inv = await fetchInventory(targetUrl, skus);
  const inventory = typeof inv === 'string' ? null : inv;
  if (typeof inv === 'string') unavailable.inventory = inv;
  let ledgerOrders: AckedOrder[] | null = null;
  if (adminToken === undefined) {
    unavailable.ledger = 'no admin token, so the order ledger (GET /admin/orders) was not read';
  } else {
    const ledger = await fetchLedger(targetUrl, adminToken);
    if (typeof ledger === 'string') unavailable.ledger = ledger;
    else ledgerOrders = ledger;
  }
  return { inventory, ledgerOrders, unavailable };
}
