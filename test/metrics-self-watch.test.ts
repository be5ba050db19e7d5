import { describe, expect, it } from 'vitest';
import { createLatencyHistogram } from '../src/metrics/histogram.ts';
import { judgeGenerator } from '../src/metrics/self-watch.ts';

describe('generator self-watch', () => {
  it('blames the generator only for its own lateness or a stalled event loop', () => {
    const late = createLatencyHistogram();
    for (let i = 0; i < 1000; i++) late.recordValue(i < 980 ? 200 : 40_000); // p99 40 ms late
    const onTime = createLatencyHistogram();
    for (let i = 0; i < 1000; i++) onTime.recordValue(2_000); // 2 ms: timer jitter
    const calm = { p99: 3, max: 12 };
    expect(judgeGenerator({ lateness: onTime, meanGapMs: 1, eventLoopDelayMs: calm })).toEqual({ generatorBound: false, reason: null });
    const v = judgeGenerator({ lateness: late, meanGapMs: 1, eventLoopDelayMs: calm });
    expect(v.generatorBound).toBe(true);
    expect(v.reason).toMatch(/^requests left late: p99 40\.\d ms behind schedule/);
    // With 2 s between arrivals, 40 ms late is within 5 % of the gap: not the generator's limit.
    expect(judgeGenerator({ lateness: late, meanGapMs: 2000, eventLoopDelayMs: calm }).generatorBound).toBe(false);
    expect(judgeGenerator({ lateness: onTime, meanGapMs: 1, eventLoopDelayMs: { p99: 120, max: 300 } }).reason).toMatch(/event loop stalled: p99 delay 120\.0 ms/);
  });
});
