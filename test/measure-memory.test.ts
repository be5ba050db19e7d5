// Recording keeps no per-request state: the heap after 1,000,000 answers is the heap after 100,000
// (same run length, so the same number of 100 ms buckets). The engine side is shown by
// `npm run bench:load`, which samples the heap of a real run.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { LoadRecorder } from '../src/measure/recorder.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfter(answers: number): { heap: number; recorder: LoadRecorder } {
  const recorder = new LoadRecorder();
  const runMs = 10_000;
  for (let i = 0; i < answers; i++) {
    const at = (i / answers) * runMs;
    recorder.intervals.sent(at);
    recorder.recordLateness(i % 5000);
    recorder.recordAnswer(i % 3, i % 4, 1000 + (i % 100_000), 500 + (i % 50_000), at, 1);
  }
  gc();
  gc();
  return { heap: process.memoryUsage().heapUsed, recorder };
}

describe('recording memory', () => {
  it('does not grow with the number of requests', () => {
    heapAfter(10_000); // warm up code and histogram sizes
    const small = heapAfter(100_000);
    const large = heapAfter(1_000_000);
    const growthMB = (large.heap - small.heap) / 2 ** 20;
    expect(growthMB).toBeLessThan(2);
    expect(large.recorder.intervals.series.sent.length).toBe(small.recorder.intervals.series.sent.length);
  });
});
