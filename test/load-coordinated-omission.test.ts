// Coordinated omission, the classic way: a server that stalls once for 1 s during a constant-rate
// run. Requests that were due during the stall waited for it; measured from their intended start
// (corrected) the stall shows in p99, measured from when they finally left (uncorrected) it does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../src/load/index.ts';
import { percentilesMs } from '../src/common/histogram.ts';
import type { LoadResult } from '../src/contract/result.ts';
import { testPlan } from './fixtures/load-plan.ts';
import { startTestServer, type TestServer } from './fixtures/load-server.ts';

const STALL_AT_MS = 1000;
const STALL_MS = 1000;

describe('coordinated omission', () => {
  let server: TestServer;
  let result: LoadResult;

  beforeAll(async () => {
    let stallEnd = -1;
    server = await startTestServer((r) => {
      if (stallEnd < 0 && r.atMs >= STALL_AT_MS) stallEnd = r.atMs + STALL_MS;
      return { status: 201, json: { orderId: `o${r.key}` }, delayMs: r.atMs < stallEnd ? stallEnd - r.atMs : 0 };
    });
    // 200/s for 3 s on 2 connections: ~200 requests fall in the stall, only 2 are in flight when it starts.
    result = await runLoad(
      testPlan(server.url, { arrival: { type: 'constant-arrival-rate', rate: 200, timeUnitMs: 1000, durationMs: 3000 }, connections: 2 }),
    );
  });
  afterAll(() => server.close());

  it('shows the stall in the corrected p99 and not in the uncorrected one', () => {
    expect(result.counts.requestsSent).toBe(600);
    expect(result.counts.byOutcome.success).toBe(600);
    const corrected = percentilesMs(result.latency.checkout!.all.corrected);
    const uncorrected = percentilesMs(result.latency.checkout!.all.uncorrected);
    expect(corrected.count).toBe(600);
    expect(corrected.p99).toBeGreaterThanOrEqual(500);
    expect(corrected.max).toBeGreaterThanOrEqual(900);
    expect(uncorrected.p99).toBeLessThan(300);
    // The two in flight when the stall began did take the whole stall as service time.
    expect(uncorrected.max).toBeGreaterThanOrEqual(900);
    // The rest waited in the generator for one of the 2 connections, and the result says so.
    expect(percentilesMs(result.generator.connectionWait!).max).toBeGreaterThanOrEqual(500);
  });

  it('keeps the interval series consistent with the counts', () => {
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    expect(sum(result.intervals.sent)).toBe(600);
    expect(sum(result.intervals.completed)).toBe(600);
    expect(sum(result.intervals.stockTaken)).toBe(600);
    expect(result.orders).toHaveLength(600);
    // Nothing completes during the stall, then the ~200-request backlog completes within 300 ms (three
    // buckets, so a busy machine spreading it over a bucket boundary does not matter).
    const c = result.intervals.completed;
    const burst = c.map((_, i) => c[i] + (c[i + 1] ?? 0) + (c[i + 2] ?? 0));
    const release = burst.indexOf(Math.max(...burst));
    expect(burst[release]).toBeGreaterThan(150);
    expect(c.slice(0, release).filter((n) => n <= 2).length).toBeGreaterThanOrEqual(8);
  });
});
