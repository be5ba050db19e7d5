// The generator's own judgement, both ways, on real load against an instant loopback server:
// quiet runs are never flagged (several of them, on whatever else this machine is doing), and a
// generator starved of its event loop (blocked for part of every period, in its own thread) is always
// flagged, and its run is inconclusive, not failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../src/load/index.ts';
import { runLoadInline } from '../src/load/inline.ts';
import type { LoadPlan } from '../src/load/plan.ts';
import { judge } from '../src/result/judge.ts';
import type { LoadResult } from '../src/result/types.ts';
import { instantServer, type Hostile } from './fixtures/hostile-servers.ts';
import { testPlan } from './fixtures/load-plan.ts';

let target: Hostile;
beforeAll(async () => {
  target = await instantServer();
});
afterAll(() => target.close());

/** 2,000 buyers/s for 1.5 s: steady work for one load worker, far below what it can send. */
function steady(): LoadPlan {
  return testPlan(target.url, { arrival: { type: 'constant-arrival-rate', rate: 2000, timeUnitMs: 1000, durationMs: 1500 }, connections: 16 });
}

/** What `flashsale run` would conclude, with a scenario that has only the defaults, or one latency threshold. */
function verdictOf(load: LoadResult, thresholds: Record<string, string[]> = {}) {
  return judge({
    load,
    initialUnits: 1_000_000,
    audit: { merged: null, inventory: [], ledgerUnits: null },
    thresholds,
  });
}

describe('a quiet generator', () => {
  it('is never flagged: three runs against an instant server', async () => {
    for (let run = 0; run < 3; run++) {
      const load = await runLoad(steady());
      const judged = verdictOf(load);
      expect(load.counts.byOutcome.success, `run ${run}`).toBe(3000);
      expect(judged.generator.generatorBound, `run ${run}: ${judged.generator.reason}`).toBe(false);
      expect(judged.verdict.status).toBe('passed');
      expect(judged.generator.limits).toMatchObject({ scaleMs: 1000, latenessMs: 100 });
    }
  });
});

describe('a starved generator', () => {
  /** Blocks this thread's event loop (where the inline engine runs) for stallMs of every periodMs. */
  async function starved(stallMs: number, periodMs: number): Promise<LoadResult> {
    const timer = setInterval(() => {
      const until = performance.now() + stallMs;
      while (performance.now() < until) {
        // the generator's thread can do nothing else
      }
    }, periodMs);
    try {
      return await runLoadInline(steady());
    } finally {
      clearInterval(timer);
    }
  }

  it('is always flagged, and its run is inconclusive (exit 4), never passed or failed', async () => {
    for (let run = 0; run < 2; run++) {
      const load = await starved(150, 200);
      const judged = verdictOf(load);
      expect(judged.generator.generatorBound, `run ${run}`).toBe(true);
      expect(judged.generator.lateShare).toBeGreaterThan(0.05);
      expect(judged.generator.reason).toMatch(/could not keep the arrival rate|event loop stalled/);
      expect(judged.verdict).toMatchObject({ status: 'inconclusive', exitCode: 4 });
    }
  });

  it('a latency threshold it crossed by its own lateness is inconclusive, not the target’s failure', async () => {
    const load = await starved(150, 200);
    const judged = verdictOf(load, { http_req_duration: ['p(99)<100'] });
    const t = judged.thresholds.find((x) => x.metric === 'http_req_duration')!;
    // The instant server answers in well under a millisecond; the p99 is the generator's own lateness.
    expect(t.actual).toBeGreaterThan(100);
    expect(t).toMatchObject({ pass: false, status: 'inconclusive' });
    expect(t.note).toMatch(/the generator itself sent requests [\d.]+ ms late at the same p\(99\)/);
    expect(judged.verdict.status).toBe('inconclusive');
  });
});
