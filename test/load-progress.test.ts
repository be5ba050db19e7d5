import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressReporter } from '../src/cli/progress.ts';
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
  it('redraws one bar line on a TTY with rate and stock left', () => {
    const { stream, chunks } = fakeStream(true);
    const r = createProgressReporter({ stream, totalStock: 1000 });
    r.update(at(1000, 500, 100));
    r.update(at(1500, 1500, 500));
    r.done();
    expect(chunks[0]).toBe('\r1.0s  500 req/s  100 ok  [##------------------] stock left 900/1,000\x1b[K');
    expect(chunks[1]).toContain('2,000 req/s');
    expect(chunks[1]).toContain('[##########----------] stock left 500/1,000');
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
});
