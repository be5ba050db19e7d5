// `flashsale run --dashboard`: a small local HTTP server for the length of a run. GET / is the live
// page, /events its server-sent events (one per progress tick), /metrics the same figures in
// Prometheus text, /report the final report once the run is over. It listens on 127.0.0.1 unless told
// otherwise, reads nothing from its clients but the path, and closes when the run's command ends.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LiveSnapshot } from '../contract/live.ts';
import { buildLivePage, liveEvent } from '../report/index.ts';
import { UsageError } from '../errors.ts';

export interface Dashboard {
  url: string;
  /** A new snapshot: sent to every open page at once. */
  push(snapshot: LiveSnapshot): void;
  /** The run is over: the final snapshot and the report's HTML. */
  finish(snapshot: LiveSnapshot, reportHtml: string): void;
  /** Open event streams (browsers watching). */
  watchers(): number;
  close(): Promise<void>;
}

type Limits = Array<{ y: number; label: string }>;

/** The live figures in Prometheus' text format (version 0.0.4). */
export function prometheusText(s: LiveSnapshot): string {
  const last = s.points.at(-1);
  const lines: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[string, number | null | undefined]>) => {
    const present = samples.filter((x): x is [string, number] => x[1] !== null && x[1] !== undefined);
    if (!present.length) return;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of present) lines.push(`${name}${labels} ${v}`);
  };
  const t = s.totals;
  metric('flashsale_elapsed_seconds', 'gauge', 'Seconds since the load started.', [['', s.elapsedMs / 1000]]);
  metric('flashsale_requests_sent_total', 'counter', 'Requests sent, retries included.', [['', t.sent]]);
  metric('flashsale_requests_completed_total', 'counter', 'Requests ended with an answer or a failure.', [['', t.completed]]);
  metric('flashsale_answers_total', 'counter', 'Requests ended, by outcome.', [
    ['{outcome="success"}', t.successes], ['{outcome="sold_out"}', t.soldOuts], ['{outcome="rejected"}', t.rejected], ['{outcome="error"}', t.errors],
  ]);
  metric('flashsale_requests_in_flight', 'gauge', 'Requests sent and not yet ended.', [['', last?.inFlight ?? 0]]);
  metric('flashsale_generator_connections_open', 'gauge', 'TCP connections the generator holds open to the target.', [['', last?.connectionsOpen ?? t.connects - t.disconnects]]);
  metric('flashsale_generator_connects_total', 'counter', 'TCP connections the generator opened (the warm-up included).', [['', t.connects]]);
  metric('flashsale_generator_disconnects_total', 'counter', 'TCP connections that closed, by either side.', [['', t.disconnects]]);
  metric('flashsale_units_sold_total', 'counter', 'Units acknowledged as sold.', [['', t.unitsSold]]);
  metric('flashsale_units_sold_by_sku_total', 'counter', 'Units acknowledged as sold, per SKU (past 50 SKUs, the rest as one).', s.skus.map((sku, i): [string, number] => [`{sku="${promLabel(sku.id)}"}`, last?.soldBySku[i] ?? 0]));
  metric('flashsale_stock_remaining', 'gauge', 'Units not yet acknowledged as sold.', [['', t.stock === null ? null : Math.max(0, t.stock - t.unitsSold)]]);
  metric('flashsale_latency_ms', 'gauge', 'Corrected latency of the last tick, approximate (log bins).', [
    ['{quantile="0.5"}', last?.p50], ['{quantile="0.9"}', last?.p90], ['{quantile="0.99"}', last?.p99],
  ]);
  metric('flashsale_generator_lateness_ms', 'gauge', "The generator's send lateness in the last tick.", [['{quantile="0.99"}', last?.latenessP99], ['{quantile="1"}', last?.latenessMax]]);
  metric('flashsale_generator_lateness_limit_ms', 'gauge', 'Lateness above which the generator is behind its schedule.', [['', s.latenessLimitMs]]);
  metric('flashsale_generator_behind', 'gauge', '1 when the last tick was sent later than the limit.', [['', s.generatorBehind ? 1 : 0]]);
  metric('flashsale_run_done', 'gauge', '1 once the run is over.', [['', s.done ? 1 : 0]]);
  return `${lines.join('\n')}\n`;
}

/** A label value as Prometheus' text format writes it: backslash, double quote and newline escaped. */
function promLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

export async function startDashboard(options: { host: string; port: number; title: string; first: LiveSnapshot; limits?: Limits }): Promise<Dashboard> {
  let latest = options.first;
  let report: string | null = null;
  const limits = options.limits ?? [];
  const streams = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'GET only\n');
    if (path === '/') return send(res, 200, 'text/html; charset=utf-8', buildLivePage(latest, options.title, limits));
    if (path === '/metrics') return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', prometheusText(latest));
    if (path === '/report') {
      if (report === null) return send(res, 503, 'text/plain; charset=utf-8', 'The run is not over yet; the report comes when it is.\n');
      return send(res, 200, 'text/html; charset=utf-8', report);
    }
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`retry: 1000\ndata: ${liveEvent(latest, limits)}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    send(res, 404, 'text/plain; charset=utf-8', 'Not here: / (live page), /events, /metrics, /report.\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new UsageError(`--dashboard ${options.host}:${options.port}: cannot listen (${e.code ?? e.message}).`)));
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo; // listening on TCP: an AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const broadcast = () => {
    const data = `data: ${liveEvent(latest, limits)}\n\n`;
    for (const res of streams) res.write(data);
  };
  return {
    url: `http://${host}:${address.port}/`,
    push(snapshot) {
      latest = snapshot;
      broadcast();
    },
    finish(snapshot, html) {
      report = html;
      latest = snapshot;
      broadcast();
    },
    watchers: () => streams.size,
    async close() {
      for (const res of streams) res.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
