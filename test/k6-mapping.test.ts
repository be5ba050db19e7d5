// The pure part of the k6 script (scenarios/k6/mapping.js), tested here because k6 is not installed.
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetNames, resolveScenarioPath, validateScenario } from '../src/scenario/index.ts';
import { builtInRequests } from '../src/scenario/builtin-target.ts';

type Json = Record<string, any>;
// mapping.js is plain JS (k6 runs it); the main tsconfig does not read JS, so describe what we call.
interface Mapping {
  withDefaults(s: Json): Json;
  toK6Options(s: Json, o?: { maxVUs?: number }): { options: Json; dropped: string[] };
  toK6Thresholds(t: Json): { thresholds: Json; dropped: string[] };
  flashCrowdStages(spec: Json, maxDurationMs: number): { startRate: number; stages: Array<{ duration: string; target: number }>; peakPerSec: number };
  flashCrowdArrivedBy(spec: Json, t: number): number;
  builtInTemplates(qty: number): Json;
  buildRequest(s: Json, base: string, step: string, vars: Json): { method: string; url: string; body: string | null; headers: Record<string, string> };
  classify(s: Json, baseUrl: string, step: string, status: number, json: unknown): string;
  buyerFor(s: Json, n: number): { bot: boolean; userId(a: number): string; sku: string; accounts: number; retries: number };
  durationMs(v: string | number): number;
}
let m: Mapping;
beforeAll(async () => {
  m = (await import(String(new URL('../scenarios/k6/mapping.js', import.meta.url)))) as Mapping;
});

const preset = (name: string): Json => JSON.parse(readFileSync(resolveScenarioPath(name), 'utf8'));
function minimal(arrival: Json, extra: Json = {}): Json {
  return { name: 'k6-test', description: 'x', sale: { skus: [{ id: 'a', stock: 10 }], perUserLimit: 1 }, buyers: { population: 100, arrival }, ...extra };
}

/** Buyers a ramping-arrival-rate scenario starts: k6 ramps linearly from one target to the next. */
function arrivals(sc: Json): number {
  let rate = sc.startRate;
  let total = 0;
  for (const st of sc.stages) {
    total += ((rate + st.target) / 2) * (m.durationMs(st.duration) / 1000);
    rate = st.target;
  }
  return total;
}

describe('k6 mapping', () => {
  it('fills in the same defaults as the zod schema', () => {
    const files = [...presetNames().map(preset), minimal({ executor: 'constant-arrival-rate', rate: 5, duration: '1s' }), minimal({ executor: 'flash-crowd', registered: 5, reaction: { median: '1s', sigma: 1 } })];
    for (const file of files) {
      const ours = m.withDefaults(file);
      const zod = validateScenario(file, file.name);
      expect(ours.buyers).toEqual(zod.buyers);
      expect(ours.load).toEqual(zod.load);
      expect(ours.target).toEqual(zod.target);
    }
  });

  it('maps arrival shapes to k6 executors', () => {
    const opts = (a: Json) => Object.values(m.toK6Options(minimal(a)).options.scenarios)[0] as Json;
    expect(opts({ executor: 'constant-arrival-rate', rate: 50, timeUnit: '100ms', duration: '30s' })).toMatchObject({
      executor: 'constant-arrival-rate', rate: 50, timeUnit: '100ms', duration: '30000ms', preAllocatedVUs: 64, exec: 'buyer', gracefulStop: '5000ms',
    });
    expect(opts({ executor: 'poisson', rate: 200.4, duration: '10s' })).toMatchObject({ executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: '10000ms' });
    expect(opts({ executor: 'ramping-arrival-rate', stages: [{ duration: '5s', target: 1000 }, { duration: 2000, target: 0 }] })).toMatchObject({
      executor: 'ramping-arrival-rate', startRate: 0, stages: [{ duration: '5000ms', target: 1000 }, { duration: '2000ms', target: 0 }],
    });
    expect(opts({ executor: 'constant-vus', vus: 20, duration: '2m' })).toEqual({ executor: 'constant-vus', vus: 20, duration: '60000ms', exec: 'buyer', gracefulStop: '5000ms' });
  });

  it('sizes VUs from the peak rate, or takes MAX_VUS', () => {
    const a = { executor: 'constant-arrival-rate', rate: 10_000, duration: '10s' };
    expect((Object.values(m.toK6Options(minimal(a)).options.scenarios)[0] as Json).maxVUs).toBe(2500);
    expect((Object.values(m.toK6Options(minimal(a), { maxVUs: 300 }).options.scenarios)[0] as Json).maxVUs).toBe(300);
  });

  it('approximates a flash crowd with stages that carry the expected arrivals', () => {
    const crowd = { executor: 'flash-crowd', registered: 50_000, reaction: { median: '2s', sigma: 0.6 }, latecomers: { count: 10_000, decay: '10s' } };
    const sc = Object.values(m.toK6Options(minimal(crowd, { load: { maxDuration: '10m' } })).options.scenarios)[0] as Json;
    expect(sc.executor).toBe('ramping-arrival-rate');
    expect(sc.stages.length).toBeLessThanOrEqual(80);
    expect(arrivals(sc) / 60_000).toBeGreaterThan(0.97);
    expect(arrivals(sc) / 60_000).toBeLessThan(1.03);
    // The peak sits near the mode of the reaction time, median·e^(−σ²) ≈ 1.4 s.
    const peakAt = sc.stages.reduce((best: Json, st: Json, i: number) => (st.target > best.target ? { target: st.target, i } : best), { target: -1, i: -1 });
    const elapsed = sc.stages.slice(0, peakAt.i + 1).reduce((t: number, st: Json) => t + m.durationMs(st.duration), 0);
    expect(elapsed).toBeGreaterThan(800);
    expect(elapsed).toBeLessThan(2500);
  });

  it('stops a flash crowd at load.maxDuration', () => {
    const s = preset('redmi-1s-india-2014');
    const sc = Object.values(m.toK6Options(s).options.scenarios)[0] as Json;
    const total = sc.stages.reduce((t: number, st: Json) => t + m.durationMs(st.duration), 0);
    expect(total).toBeLessThanOrEqual(60_000);
    const c = { type: 'flash-crowd', registered: 300_000, reaction: { medianMs: 16_000, sigma: 1.1 }, latecomers: { count: 0, decayMs: 30_000 } };
    expect(arrivals(sc) / m.flashCrowdArrivedBy(c, total)).toBeCloseTo(1, 1);
  });

  it('keeps every flash-crowd preset within a few percent of its expected arrivals', () => {
    for (const name of presetNames()) {
      const s = preset(name);
      const a = s.buyers.arrival;
      if (a.executor !== 'flash-crowd') continue;
      const sc = Object.values(m.toK6Options(s).options.scenarios)[0] as Json;
      const total = sc.stages.reduce((t: number, st: Json) => t + m.durationMs(st.duration), 0);
      const c = { type: 'flash-crowd', registered: a.registered, reaction: { medianMs: m.durationMs(a.reaction.median), sigma: a.reaction.sigma }, latecomers: { count: a.latecomers?.count ?? 0, decayMs: m.durationMs(a.latecomers?.decay ?? '30s') } };
      expect(arrivals(sc) / m.flashCrowdArrivedBy(c, total), name).toBeGreaterThan(0.95);
      expect(arrivals(sc) / m.flashCrowdArrivedBy(c, total), name).toBeLessThan(1.05);
    }
  });

  it('passes thresholds through, renaming and leaving out what k6 cannot measure', () => {
    const { thresholds, dropped } = m.toK6Thresholds({
      'http_req_duration{step:reserve}': ['p(99)<250'],
      'http_req_duration_uncorrected{step:reserve}': ['p(50)<20'],
      'http_req_duration{step:pay,outcome:success}': [{ threshold: 'p(99)<900', abortOnFail: true, delayAbortEval: '10s' }],
      checks: ['rate>0.99'],
      http_req_failed: ['rate<0.01'],
      sellout_ms: ['value<11900'],
      oversold: ['count==0'],
    });
    expect(thresholds).toEqual({
      'http_req_duration{step:reserve}': ['p(99)<250', 'p(50)<20'],
      'flashsale_req_duration{step:pay,outcome:success}': [{ threshold: 'p(99)<900', abortOnFail: true, delayAbortEval: '10000ms' }],
      checks: ['rate>0.99'],
      http_req_failed: ['rate<0.01'],
    });
    expect(dropped).toEqual(['sellout_ms: needs the native engine’s sell-out clock', 'oversold: needs the audit (flashsale run)']);
  });

  it('uses the same built-in API templates as the native engine', () => {
    const ours = m.builtInTemplates(2);
    for (const [step, t] of Object.entries(builtInRequests(2))) {
      expect({ method: ours[step].method, path: ours[step].path, headers: ours[step].headers, json: ours[step].json, success: ours[step].success, soldOut: ours[step].soldOut, captureId: ours[step].captureId }).toEqual({
        method: t.method,
        path: t.path,
        headers: t.headers,
        json: t.body && 'json' in t.body ? t.body.json : undefined,
        success: t.success,
        soldOut: t.soldOut,
        captureId: t.captureId,
      });
    }
  });

  it('builds requests: placeholders, JSON numbers, form bodies, foreign targets', () => {
    const s = m.withDefaults(minimal({ executor: 'poisson', rate: 1, duration: '1s' }, { buyers: { population: 9, qty: 2, arrival: { executor: 'poisson', rate: 1, duration: '1s' } } }));
    const r = m.buildRequest(s, 'http://h:1/', 'checkout', { userId: 'u1', sku: 'a', idempotencyKey: 'k' });
    expect(r).toMatchObject({ method: 'POST', url: 'http://h:1/api/v1/checkout', headers: { 'content-type': 'application/json', 'idempotency-key': 'k' } });
    expect(JSON.parse(r.body!)).toEqual({ sku: 'a', userId: 'u1', qty: 2 });
    const foreign = m.withDefaults({
      ...s,
      target: { url: 'http://x', requests: { checkout: { path: '/buy/${sku}', form: { user: '${userId}', n: '${qty}' }, success: { status: 200 }, soldOut: { jsonField: 'e.code', equals: 'GONE' } } } },
    });
    const f = m.buildRequest(foreign, 'http://x', 'checkout', { userId: 'u 1', sku: 'a' });
    expect(f).toMatchObject({ url: 'http://x/buy/a', body: 'user=u%201&n=2', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  });

  it('classifies answers as the native engine does', () => {
    const t = { path: '/buy', success: { status: [201] }, soldOut: { jsonField: 'error', equals: 'sold_out' } };
    const s = m.withDefaults(minimal({ executor: 'poisson', rate: 1, duration: '1s' }, { target: { url: 'http://x', requests: { checkout: t } } }));
    const classify = (status: number, json: unknown) => m.classify(s, 'http://x', 'checkout', status, json);
    expect(classify(201, null)).toBe('success');
    expect(classify(409, { error: 'sold_out' })).toBe('sold_out');
    expect(classify(429, { error: 'limit_exceeded' })).toBe('rejected');
    expect(classify(503, null)).toBe('error');
    expect(classify(0, null)).toBe('error');
    // The engine's own readPath: a field the answer does not have itself is not found on its prototype.
    expect(classify(409, { error: 'x', constructor: undefined })).toBe('rejected');
  });

  it('derives buyers from the seed: distinct accounts, bot share, weighted SKUs', () => {
    const s = m.withDefaults(minimal({ executor: 'poisson', rate: 1, duration: '1s' }, {
      sale: { skus: [{ id: 'a', stock: 10 }, { id: 'b', stock: 30 }], perUserLimit: 1 },
      buyers: { population: 1000, arrival: { executor: 'poisson', rate: 1, duration: '1s' }, bots: { share: 0.25, accounts: 3 } },
    }));
    const buyers = Array.from({ length: 1000 }, (_, n) => m.buyerFor(s, n));
    expect(new Set(buyers.map((b) => b.userId(0))).size).toBe(1000);
    expect(buyers.filter((b) => b.bot).length / 1000).toBeCloseTo(0.25, 1);
    expect(buyers.filter((b) => b.sku === 'b').length / 1000).toBeCloseTo(0.75, 1);
    expect(m.buyerFor(s, 7)).toMatchObject({ bot: buyers[7].bot, sku: buyers[7].sku });
    expect(buyers.find((b) => b.bot)!.accounts).toBe(3);
  });
});

describe('the modules the k6 script shares with the native engine', () => {
  // k6 resolves only relative paths (no node_modules) and has no node:* modules: every module the
  // script loads at run time, through every import that is not type-only, must import nothing else.
  it('load at run time only relative modules, none of node:* or npm', () => {
    const seen = new Set<string>();
    const bad: string[] = [];
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      const runtime = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^;'"]*?\sfrom\s+)?'([^']+)'/gm)].map((m) => m[1]);
      for (const spec of runtime) {
        if (!spec.startsWith('.')) bad.push(`${file.slice(file.indexOf('/scenarios/') >= 0 ? file.indexOf('/scenarios/') + 1 : file.indexOf('/src/') + 1)} imports ${spec}`);
        else visit(fileURLToPath(new URL(spec, pathToFileURL(file))));
      }
    };
    visit(fileURLToPath(new URL('../scenarios/k6/mapping.js', import.meta.url)));
    expect(bad).toEqual([]);
    // And it does share them: the arrival shapes, the templates, the classifier, the waits.
    for (const shared of ['src/schedule/index.ts', 'src/load/template.ts', 'src/load/classify.ts', 'src/load/waits.ts', 'src/scenario/defaults.ts', 'src/common/duration.ts']) {
      expect([...seen].some((f) => f.endsWith(shared)), shared).toBe(true);
    }
  });
});

