import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressReporter } from '../src/cli/progress.ts';
import { LiveAggregator, LiveBins } from '../src/measure/live.ts';
import { SUCCESS } from '../src/contract/vocabulary.ts';
import type { LoadProgress } from '../src/load/index.ts';

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  (stream as { isTTY?: boolean }).isTTY = isTTY;
  return { stream, chunks };
}

const at = (elapsedMs: number, sent: number, units: number): LoadProgress => ({
  elapsedMs,
  sent,
  completed: sent,
  successes: units,
  unitsAcknowledged: units,
  errors: 0,
  soldOuts: 0,
});

describe('progress reporter', () => {
  it('redraws one bar line on a TTY with rate and units sold, the bar filling as they sell', () => {
    const { stream, chunks } = fakeStream(true);
    const r = createProgressReporter({ stream, totalStock: 1000 });
    r.update(at(1000, 500, 100));
    r.update(at(1500, 1500, 500));
    r.done();
    expect(chunks[0]).toBe('\r1.0s  500 req/s  100 ok  [##------------------] sold 100/1,000\x1b[K');
    expect(chunks[1]).toContain('2,000 req/s');
    expect(chunks[1]).toContain('[##########----------] sold 500/1,000');
    expect(chunks.at(-1)).toBe('\n');
  });

  it('prints a plain line at most every second when not a TTY, and nothing when quiet', () => {
    const { stream, chunks } = fakeStream(false);
    const r = createProgressReporter({ stream, totalStock: null });
    for (let t = 100; t <= 2500; t += 100) r.update(at(t, t, 0));
    r.done();
    expect(chunks).toEqual(['0.1s  1,000 req/s  0 ok\n', '1.1s  1,000 req/s  0 ok\n', '2.1s  1,000 req/s  0 ok\n']);
    const q = fakeStream(true);
    const quiet = createProgressReporter({ stream: q.stream, totalStock: 5, quiet: true });
    quiet.update(at(100, 1, 1));
    quiet.done();
    expect(q.chunks).toEqual([]);
  });

  it('shows time left and live p99, and warns once, on its own line, when the generator falls behind', () => {
    const { stream, chunks } = fakeStream(false);
    const r = createProgressReporter({ stream, totalStock: 1000 });
    const agg = new LiveAggregator({ stock: 1000, latenessLimitMs: 10, capMs: 10_000 });
    const bins = new LiveBins();
    const tick = (t: number, lateUs: number) => {
      for (let i = 0; i < 100; i++) {
        bins.answer(SUCCESS, 20_000, 201);
        bins.lateness(lateUs);
      }
      const p = { ...at(t, t, t / 10), live: Float64Array.from(bins.values) };
      r.update(p, agg.sample(p));
    };
    tick(1000, 100);
    tick(2000, 50_000);
    tick(3000, 60_000);
    expect(chunks[0]).toMatch(/^1\.0s, ~9\.00 s left {2}.* p99 2\d\.\d ms\n$/);
    expect(chunks[1]).toMatch(/^WARNING: GENERATOR BEHIND its schedule at 2\.0 s: sends 5\d\.\d ms late at p99, limit 10\.0 ms/);
    expect(chunks[2]).toContain('GENERATOR BEHIND\n');
    expect(chunks.filter((c) => c.startsWith('WARNING'))).toHaveLength(1);
  });
});
