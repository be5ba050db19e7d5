// The hardware line of bench:service: what the machine can do for a checkout with nothing of the
// service's around it. `threads` worker threads, each a plain node:http server on the same port
// (reusePort, so the kernel spreads connections as it does for the service's HTTP threads), that read
// the same JSON body, parse it, take one unit with a compare-and-swap on a shared counter (never below
// zero, as the stock core's atomic strategy) and answer 201 with an order id. No idempotency, limits,
// ledger, metrics or durability: durable checkouts/s over this line is what all of those cost.
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

interface BareData {
  port: number;
  stock: SharedArrayBuffer;
  thread: number;
}

export interface BareService {
  url: string;
  close(): Promise<void>;
}

/** Starts the bare line on `threads` threads; resolves once every thread listens. */
export async function startBareService(threads: number): Promise<BareService> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo; // a TCP server's address is an AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const stock = new SharedArrayBuffer(4);
  new Int32Array(stock)[0] = 2 ** 31 - 1;
  const workers = await Promise.all(
    Array.from({ length: threads }, (_, thread) => {
      const data: BareData = { port, stock, thread };
      const w = new Worker(new URL(import.meta.url), { workerData: data });
      return new Promise<Worker>((resolve, reject) => {
        w.once('message', () => resolve(w));
        w.once('error', reject);
      });
    }),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** Compare-and-swap take of `qty` units, never below zero. */
function take(counter: Int32Array, qty: number): boolean {
  for (let left = Atomics.load(counter, 0); left >= qty; ) {
    const seen = Atomics.compareExchange(counter, 0, left, left - qty);
    if (seen === left) return true;
    left = seen;
  }
  return false;
}

if (!isMainThread && parentPort !== null) {
  const { port, stock, thread } = workerData as BareData; // what startBareService passed
  const counter = new Int32Array(stock);
  let next = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let qty: number;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { qty?: unknown }; // checked just below
        qty = typeof body.qty === 'number' ? body.qty : 0;
      } catch {
        qty = 0;
      }
      if (qty < 1) {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad_request"}');
        return;
      }
      if (!take(counter, qty)) {
        res.writeHead(409, { 'content-type': 'application/json' }).end('{"error":"sold_out"}');
        return;
      }
      const out = `{"orderId":"b${thread}-${++next}"}`;
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': out.length }).end(out);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen({ port, host: '127.0.0.1', reusePort: true }, () => parentPort!.postMessage('listening')); // checked non-null above
}
