// The generator's own health, judged at the scenario's scale on the share of late requests: a short
// burst of lateness never flips it; lateness that is a real part of the scale always does.
import { describe, expect, it } from 'vitest';
import { createLatencyHistogram } from '../src/common/histogram.ts';
import { DEFAULT_SCALE_MS, generatorLimits, judgeGenerator, shareAbove } from '../src/measure/self-watch.ts';

function lateness(values: Array<[ms: number, count: number]>) {
  const h = createLatencyHistogram();
  for (const [ms, n] of values) h.recordValueWithCount(Math.round(ms * 1000), n);
  return h;
}

const calm = { p99: 3, max: 12 };

describe('generator self-watch', () => {
  it('scales its limits with the tightest latency threshold, with a floor and a default', () => {
    expect(generatorLimits(null)).toMatchObject({ scaleMs: DEFAULT_SCALE_MS, latenessMs: 100, lateShare: 0.05, eventLoopMs: 100 });
    expect(generatorLimits(2000, 'p(99)<2000')).toMatchObject({ scaleMs: 2000, scaleFrom: 'p(99)<2000', latenessMs: 200, eventLoopMs: 200 });
    expect(generatorLimits(50)).toMatchObject({ latenessMs: 10, eventLoopMs: 50 }); // floors
  });

  it('measures the share of requests above a lateness', () => {
    expect(shareAbove(lateness([[1, 900], [40, 100]]), 20_000)).toBeCloseTo(0.1, 3);
    expect(shareAbove(lateness([[1, 1000]]), 20_000)).toBe(0);
    expect(shareAbove(createLatencyHistogram(), 1)).toBe(0);
  });

  it('does not flip on a short burst: 2 % of requests 60 ms late against a 250 ms threshold', () => {
    const burst = lateness([[0.5, 980], [60, 20]]); // p99 is 60 ms, over the 25 ms limit; the share is not
    const v = judgeGenerator({ lateness: burst, eventLoopDelayMs: calm, limits: generatorLimits(250) });
    expect(v).toMatchObject({ generatorBound: false, reason: null });
    expect(v.lateShare).toBeCloseTo(0.02, 3);
  });

  it('is bound when more than 5 % of requests left late at the scenario’s scale', () => {
    const late = lateness([[1, 900], [40, 100]]); // 10 % left 40 ms late
    const v = judgeGenerator({ lateness: late, eventLoopDelayMs: calm, limits: generatorLimits(250, 'the threshold http_req_duration p(99)<250') });
    expect(v.generatorBound).toBe(true);
    expect(v.reason).toMatch(/^10(\.0)?% of requests left more than 25 ms behind schedule \(limit 5\.0%; p99 40\.\d ms/);
    expect(v.reason).toMatch(/judged against 250 ms, the threshold http_req_duration p\(99\)<250/);
    // The same lateness is nothing for a sale judged in seconds.
    expect(judgeGenerator({ lateness: late, eventLoopDelayMs: calm, limits: generatorLimits(2000) }).generatorBound).toBe(false);
  });

  it('is bound when the workers’ event loops stalled past the limit', () => {
    const v = judgeGenerator({ lateness: lateness([[1, 100]]), eventLoopDelayMs: { p99: 120, max: 300 } });
    expect(v.reason).toMatch(/event loop stalled: p99 delay 120\.0 ms \(limit 100 ms\)/);
  });
});
