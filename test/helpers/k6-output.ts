// k6 `--out json` lines as scenarios/k6/flash-sale.js makes k6 write them, generated without k6 (which
// cannot be installed here): Metric lines, flashsale_req_duration points tagged step/outcome/status
// (and the order on an acknowledged one), flashsale_buyers, k6's own http_reqs and dropped_iterations.
// Points come slightly out of order, as k6's output flushes do. Used by the import tests, the stand-in
// k6 binary and `npm run bench:k6-import`.

export interface FakeK6Options {
  /** Requests (one flashsale_req_duration point each). */
  requests: number;
  /** Units on sale: the first this many buyers succeed, the rest are sold out (a few fail). */
  stock: number;
  seed?: number;
  startEpochMs?: number;
  /** Spread of the sends, ms. */
  spanMs?: number;
  dropped?: number;
  /** User ids are `${userPrefix}${i}`. */
  userPrefix?: string;
}

export interface FakePoint {
  outcome: 'success' | 'sold_out' | 'rejected' | 'error';
  status: number;
  ms: number;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** k6's RFC 3339 time with nanoseconds and a zone, as its JSON output writes it. */
function k6Time(epochMs: number): string {
  const d = new Date(Math.floor(epochMs));
  const ns = String(Math.round((epochMs - Math.floor(epochMs)) * 1e6)).padStart(6, '0');
  return `${d.toISOString().slice(0, 23)}${ns}Z`;
}

const METRICS = ['http_reqs', 'http_req_duration', 'flashsale_req_duration', 'flashsale_buyers', 'dropped_iterations', 'iterations']
  .map((m) => JSON.stringify({ type: 'Metric', data: { name: m, type: m.includes('duration') ? 'trend' : 'counter', contains: m.includes('duration') ? 'time' : 'default', thresholds: [], submetrics: null }, metric: m }));

/** Yields the lines (without newlines) and calls `onPoint` with each request's raw value. */
export function* fakeK6Lines(o: FakeK6Options, onPoint?: (p: FakePoint) => void): Generator<string> {
  const rand = lcg(o.seed ?? 1);
  const start = o.startEpochMs ?? Date.UTC(2026, 0, 1, 12);
  const span = o.spanMs ?? 2000;
  const prefix = o.userPrefix ?? 'u';
  yield* METRICS;
  let window: string[] = [];
  let windowEnd = start + 1000;
  let sold = 0;
  for (let i = 0; i < o.requests; i++) {
    const sentAt = start + (i / o.requests) * span;
    const ms = 0.2 + -Math.log(1 - rand()) * 3 + (rand() < 0.01 ? 200 * rand() : 0);
    const r = rand();
    let outcome: FakePoint['outcome'];
    let status: number;
    if (r < 0.005) [outcome, status] = ['error', 0];
    else if (r < 0.01) [outcome, status] = ['error', 503];
    else if (r < 0.015) [outcome, status] = ['rejected', 403];
    else if (sold < o.stock) [outcome, status] = ['success', 201];
    else [outcome, status] = ['sold_out', 409];
    const tags: Record<string, string> = { step: 'checkout', outcome, status: String(status) };
    if (outcome === 'success') {
      sold++;
      Object.assign(tags, { order_id: `o-${o.seed ?? 1}-${i}`, user_id: `${prefix}${i}`, sku: 'phone', qty: '1' });
    }
    onPoint?.({ outcome, status, ms });
    const end = sentAt + ms;
    const time = k6Time(end);
    window.push(JSON.stringify({ metric: 'flashsale_req_duration', type: 'Point', data: { time, value: ms, tags } }));
    window.push(JSON.stringify({ metric: 'http_reqs', type: 'Point', data: { time, value: 1, tags: { method: 'POST', status: String(status), step: 'checkout' } } }));
    const ended = outcome === 'success' ? 'succeeded' : outcome === 'sold_out' ? 'soldOut' : outcome === 'rejected' ? 'rejected' : 'gaveUp';
    window.push(JSON.stringify({ metric: 'flashsale_buyers', type: 'Point', data: { time, value: 1, tags: { end: ended } } }));
    if (end >= windowEnd) {
      // k6 flushes about once a second, not in time order within a flush.
      for (let k = window.length - 1; k > 0; k--) {
        const j = Math.floor(rand() * (k + 1));
        [window[k], window[j]] = [window[j], window[k]];
      }
      yield* window;
      window = [];
      windowEnd += 1000;
    }
  }
  yield* window;
  for (let d = 0; d < (o.dropped ?? 0); d++) yield JSON.stringify({ metric: 'dropped_iterations', type: 'Point', data: { time: k6Time(start + span), value: 1, tags: { scenario: 'buyers' } } });
}
