// How one measured step is judged: the generator's own limit and a cut step are inconclusive whatever
// the figures say; then the objectives and the keep-up rule. And the achieved rate of a target that
// keeps up, and of one that falls behind.
import { describe, expect, it } from 'vitest';
import { achievedRate, judgeStep } from '../src/plan/judge.ts';
import { planObjectives } from '../src/plan/objectives.ts';
import { createLatencyHistogram, encodeHistogram } from '../src/common/histogram.ts';
import { emptyCounts } from '../src/measure/merge.ts';
import type { LoadResult } from '../src/contract/result.ts';

interface Shape {
  answered: number;
  latencyMs: number[];
  durationMs: number;
  firstSendMs?: number;
  errors?: number;
  generatorBound?: boolean;
  stopReason?: LoadResult['stopReason'];
}

function load(s: Shape): LoadResult {
  const h = createLatencyHistogram();
  for (const ms of s.latencyMs) h.recordValue(Math.round(ms * 1000));
  const enc = encodeHistogram(h);
  // A generator that could not keep up sent most requests 40 ms late; the judge reads that itself.
  const late = createLatencyHistogram();
  if (s.generatorBound) for (let i = 0; i < s.answered; i++) late.recordValue(40_000);
  const counts = emptyCounts();
  const errors = s.errors ?? 0;
  counts.requestsSent = s.answered + errors;
  counts.requestsAnswered = s.answered;
  counts.byOutcome.success = s.answered;
  counts.byOutcome.error = errors;
  counts.buyers = { started: s.answered + errors, succeeded: s.answered, soldOut: 0, rejected: 0, gaveUp: errors, dropped: 0 };
  return {
    t0EpochMs: 0,
    durationMs: s.durationMs,
    firstSendMs: s.firstSendMs ?? 0,
    lastAckMs: s.durationMs,
    stopReason: s.stopReason ?? 'completed',
    counts,
    latency: { checkout: { all: { corrected: enc, uncorrected: enc }, byOutcome: { success: { corrected: enc, uncorrected: enc } } } },
    intervals: { periodMs: 100, sent: [], completed: [], successes: [], soldOuts: [], errors: [], stockTaken: [], latency: [] },
    generator: {
      lateness: encodeHistogram(late),
      eventLoopDelayMs: { p50: 0, p99: 0, max: 0 },
      generatorBound: false, // the one judge decides, from the lateness
      reason: null,
    },
    orders: [],
  };
}

const objectives = planObjectives({}, ['p(99)<50']).spec;
const judge = (s: Shape, offeredRate = 1000, stepMs = 2000) => judgeStep({ load: load(s), offeredRate, stepMs, thinkMaxMs: 0, objectives });
const fast = Array.from({ length: 2000 }, (_, i) => 2 + (i % 10) / 10);

describe('judging a step', () => {
  it('passes a step that met the objectives and kept up', () => {
    const j = judge({ answered: 2000, latencyMs: fast, durationMs: 2003 });
    expect(j.verdict).toBe('pass');
    expect(j.reasons).toEqual([]);
    expect(j.achievedRate).toBeCloseTo(1000, 0);
    expect(j.latency.corrected!.p99).toBeCloseTo(2.9, 1);
  });

  it('fails a step whose p99 crossed the objective, saying which', () => {
    const slow = fast.map((v, i) => (i % 20 === 0 ? 80 : v));
    const j = judge({ answered: 2000, latencyMs: slow, durationMs: 2080 });
    expect(j.verdict).toBe('fail');
    expect(j.reasons.join()).toMatch(/http_req_duration p\(99\)<50: observed 80/);
  });

  it('fails a step that did not keep up, even with no latency objective crossed', () => {
    // 2,000 buyers answered over 3 s of a 2 s step: the target ran at about 670/s of 1,000 offered.
    const j = judge({ answered: 2000, latencyMs: fast, durationMs: 3000 });
    expect(j.verdict).toBe('fail');
    expect(j.achievedRate).toBeLessThan(700);
    expect(j.reasons.join()).toMatch(/did not keep up/);
  });

  it('fails on errors through the default error budget', () => {
    const j = judge({ answered: 1900, errors: 100, latencyMs: fast, durationMs: 2003 });
    expect(j.verdict).toBe('fail');
    expect(j.reasons.join()).toMatch(/http_req_failed rate<0.01/);
  });

  it('never holds the generator against the target: a generator-bound step is inconclusive, whatever its latency', () => {
    const j = judge({ answered: 1200, latencyMs: fast.map((v) => v * 100), durationMs: 4000, generatorBound: true });
    expect(j.verdict).toBe('inconclusive');
    expect(j.generatorBound).toBe(true);
    expect(j.reasons[0]).toMatch(/^the generator could not keep the schedule: 100% of requests left more than 10 ms behind schedule/);
  });

  it('a step cut by the request cap is inconclusive and says so', () => {
    const j = judge({ answered: 500, latencyMs: fast.slice(0, 500), durationMs: 600, stopReason: 'max_requests' });
    expect(j.verdict).toBe('inconclusive');
    expect(j.cutByRequestCap).toBe(true);
  });

  it('a step whose time ran out with requests unanswered fails', () => {
    const j = judge({ answered: 2000, latencyMs: fast, durationMs: 2003, stopReason: 'max_duration' });
    expect(j.verdict).toBe('fail');
    expect(j.reasons.join()).toMatch(/time ran out/);
  });
});

describe('achieved rate', () => {
  const run = (answered: number, durationMs: number, firstSendMs = 0) => load({ answered, latencyMs: [1], durationMs, firstSendMs });
  it('is the offered rate for a target that keeps up, whatever its latency', () => {
    // 3 s at 500/s, every answer 400 ms after its request: the last comes at 3.4 s.
    expect(achievedRate(run(1500, 3400), 3000, 0, 400)).toBeCloseTo(500, 6);
  });
  it('is the capacity for a target that falls behind', () => {
    // 1,500 buyers offered over 3 s to a target doing 300/s: the last answer at 5 s.
    expect(achievedRate(run(1500, 5000), 3000, 0, 1)).toBeCloseTo(1500 / 4.999, 3);
  });
  it('leaves out think time between the steps of a journey, and counts nothing before the first send', () => {
    // Reserve (100 ms), think up to 2 s, pay (100 ms): the last of 3 s of buyers from 100 ms is done at 5.3 s.
    expect(achievedRate(run(1500, 5300, 100), 3000, 2000, 200)).toBeCloseTo(500, 6);
    expect(achievedRate(run(0, 3000), 3000, 0, 0)).toBe(0);
  });
});
