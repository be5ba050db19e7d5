// Small HTTP helpers for tests of the reference service: one request, its status, headers, text and
// JSON (null when the body is not JSON), and the inventory route.
import { request } from 'undici';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export async function call(base: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await request(base + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await r.body.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: json stays null and the test reads text
  }
  return { status: r.statusCode, headers: r.headers, text, json };
}

export interface Inventory { initial: number; available: number; reserved: number; sold: number }

export async function inventory(base: string, sku: string): Promise<Inventory> {
  return (await call(base, 'GET', `/api/v1/inventory/${encodeURIComponent(sku)}`)).json as Inventory;
}

/** Polls `check` every 20 ms until it returns true or `ms` pass; returns its last answer. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
