// npm run bench:k6-import [-- --reps N] [-- --sizes 200000,2000000]
//
// How fast `flashsale import k6` reads k6's raw JSON output, and how little memory it keeps: for each
// size (data points: every line k6 writes, here flashsale_req_duration, http_reqs and flashsale_buyers
// for each request, points slightly out of order as k6 flushes them), a gzip file is generated once
// (test/helpers/k6-output.ts), then read --reps times (alternating sizes). Reported: points/s (median
// and range) and the peak heap while reading (sampled every 20 ms, after a GC before each read).
// The reader streams: its heap must stay under HEAP_CAP_MB whatever the size (the orders and the
// interval buckets grow with the sale, not with the points); exits 1 if it does not.
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { readK6Output } from '../src/measure/k6-output.ts';
import { fakeK6Lines } from '../test/helpers/k6-output.ts';

const HEAP_CAP_MB = 192;
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const reps = Number(arg('--reps', '3'));
const sizes = arg('--sizes', '200000,2000000').split(',').map(Number);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.error('note: run with node --expose-gc for a clean heap baseline (npm run bench:k6-import does)');

async function generate(path: string, points: number): Promise<void> {
  const gz = createGzip();
  const file = createWriteStream(path);
  gz.pipe(file);
  // Three points per request, and a stock of 1% of the requests (the orders are kept: they are audited).
  const requests = Math.round(points / 3);
  for (const line of fakeK6Lines({ requests, stock: Math.round(requests / 100), spanMs: Math.max(2000, requests / 20), seed: 7 })) {
    if (!gz.write(`${line}\n`)) await once(gz, 'drain');
  }
  gz.end();
  await once(file, 'close');
}

async function measure(path: string): Promise<{ points: number; seconds: number; peakHeapMb: number }> {
  gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
  const t = performance.now();
  const r = await readK6Output([path]);
  const seconds = (performance.now() - t) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  return { points: r.points, seconds, peakHeapMb: (peak - base) / 2 ** 20 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dir = mkdtempSync(join(tmpdir(), 'flashsale-bench-k6-'));
try {
  const files = new Map<number, string>();
  for (const n of sizes) {
    const path = join(dir, `k6-${n}.json.gz`);
    await generate(path, n);
    files.set(n, path);
    console.log(`generated ${n.toLocaleString('en-US')} points: ${(statSync(path).size / 2 ** 20).toFixed(1)} MB gzip`);
  }
  const runs = new Map<number, Array<{ points: number; seconds: number; peakHeapMb: number }>>(sizes.map((n) => [n, []]));
  for (let r = 0; r < reps; r++) for (const n of sizes) runs.get(n)!.push(await measure(files.get(n)!));
  let over = false;
  for (const n of sizes) {
    const rs = runs.get(n)!;
    const rates = rs.map((x) => x.points / x.seconds);
    const heaps = rs.map((x) => x.peakHeapMb);
    const maxHeap = Math.max(...heaps);
    over ||= maxHeap > HEAP_CAP_MB;
    console.log(
      `${rs[0].points.toLocaleString('en-US')} points: ${Math.round(median(rates)).toLocaleString('en-US')} points/s (range ${Math.round(Math.min(...rates)).toLocaleString('en-US')}–${Math.round(Math.max(...rates)).toLocaleString('en-US')}, ${reps} reps), peak heap +${median(heaps).toFixed(0)} MB (max ${maxHeap.toFixed(0)} MB, cap ${HEAP_CAP_MB} MB)`,
    );
  }
  if (over) {
    console.error(`FAIL: the reader's heap went over ${HEAP_CAP_MB} MB`);
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
