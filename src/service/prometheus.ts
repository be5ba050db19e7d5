// Request counters and in-flight gauges, one block per HTTP thread in a SharedArrayBuffer, so
// whichever thread serves GET /metrics can sum them all. Each thread writes only its own block.
import { renderCommitStats } from '../ledger/commit-stats.ts';

// The buying routes come first: app.ts refuses `route <= ROUTE.release` (the ones that change stock or
// holds) while a recovery counts them.
export const ROUTES = [
  'reserve', 'pay', 'checkout', 'release', 'inventory', 'healthz', 'metrics', 'admin_sale', 'admin_orders', 'unmatched',
] as const;
export type Route = (typeof ROUTES)[number];
export const ROUTE: { readonly [K in Route]: number } = Object.fromEntries(ROUTES.map((r, i) => [r, i])) as { [K in Route]: number }; // fromEntries loses the key type; the keys are the routes

export const STATUSES = [200, 201, 204, 400, 401, 402, 403, 404, 405, 409, 410, 413, 415, 422, 429, 500, 503] as const;
const STATUS_INDEX = new Int8Array(600).fill(-1);
STATUSES.forEach((s, i) => (STATUS_INDEX[s] = i));

const IN_FLIGHT = 0;
const SHED = 1;
const DROPPED = 2;
const COUNTS_AT = 3;
const BLOCK = COUNTS_AT + ROUTES.length * STATUSES.length;

export function createRequestCounters(threads: number): SharedArrayBuffer {
  return new SharedArrayBuffer(threads * BLOCK * 8);
}

export class ThreadCounters {
  private readonly v: Float64Array;
  constructor(sab: SharedArrayBuffer, threadIndex: number) {
    this.v = new Float64Array(sab, threadIndex * BLOCK * 8, BLOCK);
  }
  count(route: number, status: number): void {
    const s = STATUS_INDEX[status];
    if (s >= 0) this.v[COUNTS_AT + route * STATUSES.length + s]++;
  }
  set inFlight(n: number) {
    this.v[IN_FLIGHT] = n;
  }
  shed(): void {
    this.v[SHED]++;
  }
  dropped(): void {
    this.v[DROPPED]++;
  }
}

/** One route's answers summed over the process's threads: all, 2xx, 503 (a process's health answer, health-messages.ts). */
export function routeTotals(sab: SharedArrayBuffer, threads: number, route: number): { answered: number; ok: number; unavailable: number } {
  const v = new Float64Array(sab);
  let answered = 0;
  let ok = 0;
  let unavailable = 0;
  for (let t = 0; t < threads; t++) {
    for (let s = 0; s < STATUSES.length; s++) {
      const n = v[t * BLOCK + COUNTS_AT + route * STATUSES.length + s];
      answered += n;
      if (STATUSES[s] >= 200 && STATUSES[s] < 300) ok += n;
      else if (STATUSES[s] === 503) unavailable += n;
    }
  }
  return { answered, ok, unavailable };
}

export interface StockLine { sku: string; initial: number; available: number; reserved: number; sold: number }

/** The whole /metrics page in Prometheus text exposition format. */
export function renderPrometheus(sab: SharedArrayBuffer, threads: number, stock: StockLine[], ledger: SharedArrayBuffer, saleId: number): string {
  const v = new Float64Array(sab);
  let out = '# HELP flashsale_http_requests_total HTTP requests answered, by route and status.\n# TYPE flashsale_http_requests_total counter\n';
  for (let r = 0; r < ROUTES.length; r++) {
    for (let s = 0; s < STATUSES.length; s++) {
      let n = 0;
      for (let t = 0; t < threads; t++) n += v[t * BLOCK + COUNTS_AT + r * STATUSES.length + s];
      if (n > 0) out += `flashsale_http_requests_total{route="${ROUTES[r]}",status="${STATUSES[s]}"} ${n}\n`;
    }
  }
  out += '# HELP flashsale_http_in_flight Requests being served, per HTTP thread.\n# TYPE flashsale_http_in_flight gauge\n';
  for (let t = 0; t < threads; t++) out += `flashsale_http_in_flight{thread="${t}"} ${v[t * BLOCK + IN_FLIGHT]}\n`;
  out += '# HELP flashsale_http_shed_total Requests refused with 503 by load shedding.\n# TYPE flashsale_http_shed_total counter\n';
  let shed = 0;
  for (let t = 0; t < threads; t++) shed += v[t * BLOCK + SHED];
  out += `flashsale_http_shed_total ${shed}\n`;
  let dropped = 0;
  for (let t = 0; t < threads; t++) dropped += v[t * BLOCK + DROPPED];
  out += `# HELP flashsale_http_connections_dropped_total Connections closed on arrival: the thread had its maximum open.\n# TYPE flashsale_http_connections_dropped_total counter\nflashsale_http_connections_dropped_total ${dropped}\n`;
  out += `# HELP flashsale_sale_id Ledger id of the sale being served.\n# TYPE flashsale_sale_id gauge\nflashsale_sale_id ${saleId}\n`;
  for (const [field, help] of [
    ['initial', 'Units the sale started with.'],
    ['available', 'Units not taken.'],
    ['reserved', 'Units held by reservations or orders not yet durable.'],
    ['sold', 'Units in durable orders.'],
  ] as const) {
    out += `# HELP flashsale_stock_${field} ${help}\n# TYPE flashsale_stock_${field} gauge\n`;
    for (const line of stock) out += `flashsale_stock_${field}{sku="${line.sku}"} ${line[field]}\n`;
  }
  return out + renderCommitStats(ledger);
}
