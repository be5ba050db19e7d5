// npm run bench:service [-- --json] [-- --duration 10 --connections 64]
// Durable checkouts per second through the whole service (HTTP threads → stock core → ledger thread →
// SQLite commit → 201), measured by autocannon, for 1 and 2 HTTP threads with the ledger in memory and
// on disk (synchronous=FULL, in a temp dir). Stock never sells out and the per-user limit is off, so
// every request is a full checkout. With --json the last line is one JSON object.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startService } from '../src/service/index.ts';

interface AutocannonResult {
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  latency: { p50: number; p99: number; max: number };
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
  },
});
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const connections = Number(values.connections);
for (const [name, v] of [['duration', duration], ['warmup', warmup], ['connections', connections]] as const) {
  if (!Number.isFinite(v) || v < 0 || (name !== 'warmup' && v <= 0)) {
    console.error(`bench:service: --${name} ${v} is not a positive number`);
    process.exit(2);
  }
}

interface Row { threads: number; ledger: 'memory' | 'disk'; checkoutsPerSec: number; p50Ms: number; p99Ms: number; non2xx: number; errors: number }

const BODY = JSON.stringify({ sku: 'bench', userId: 'bench-user', qty: 1 });

async function measure(threads: number, ledger: 'memory' | 'disk'): Promise<Row> {
  const dir = ledger === 'disk' ? mkdtempSync(join(tmpdir(), 'flashsale-bench-')) : null;
  const service = await startService({
    sale: { skus: [{ id: 'bench', stock: 2 ** 31 - 1 }], perUserLimit: 0, reservationTtlMs: 60_000, opensAtEpochMs: null, payment: { declineRate: 0, latencyMs: 0 } },
    threads,
    ledgerPath: dir ? join(dir, 'ledger.sqlite') : ':memory:',
    maxInFlightPerThread: connections * 4, // measure throughput, not shedding
    expectedUsers: 1024,
  });
  const request = { url: `${service.url}/api/v1/checkout`, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections };
  try {
    if (warmup > 0) await autocannon({ ...request, duration: warmup });
    const r = await autocannon({ ...request, duration });
    return {
      threads,
      ledger,
      checkoutsPerSec: Math.round(r['2xx'] / r.duration),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
    };
  } finally {
    await service.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const threads of [1, 2]) {
  for (const ledger of ['memory', 'disk'] as const) {
    if (!values.json) process.stderr.write(`measuring ${threads} thread(s), ledger ${ledger} (${warmup}s warm-up + ${duration}s)...\n`);
    rows.push(await measure(threads, ledger));
  }
}
const ratio = (threads: number) => {
  const mem = rows.find((r) => r.threads === threads && r.ledger === 'memory')!;
  const disk = rows.find((r) => r.threads === threads && r.ledger === 'disk')!;
  return mem.checkoutsPerSec > 0 ? Number((disk.checkoutsPerSec / mem.checkoutsPerSec).toFixed(3)) : 0;
};
const summary = {
  bench: 'service',
  node: process.version,
  cpus: availableParallelism(),
  cpuModel: cpus()[0]?.model ?? 'unknown',
  durationSec: duration,
  connections,
  rows,
  durableToMemoryRatio: { threads1: ratio(1), threads2: ratio(2) },
};

if (values.json) {
  console.log(JSON.stringify(summary));
} else {
  console.log(`\nflashsale reference service, checkouts through autocannon (${connections} connections, ${duration}s each, ${summary.cpus} cpus)\n`);
  console.log('threads  ledger   checkouts/s   p50 ms   p99 ms   non-2xx  errors');
  for (const r of rows) {
    console.log(
      `${String(r.threads).padStart(7)}  ${r.ledger.padEnd(6)} ${String(r.checkoutsPerSec).padStart(13)} ${String(r.p50Ms).padStart(8)} ${String(r.p99Ms).padStart(8)} ${String(r.non2xx).padStart(9)} ${String(r.errors).padStart(7)}`,
    );
  }
  console.log(`\ndurable (disk, synchronous=FULL) / in-memory: 1 thread ${summary.durableToMemoryRatio.threads1}, 2 threads ${summary.durableToMemoryRatio.threads2}`);
}
