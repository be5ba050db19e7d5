// Scenario validation: every problem is reported, naming the field the way a person writes it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError, UsageError } from '../src/errors.ts';
import { loadScenario, parseScenarioText, presetNames, resolveScenarioPath, validateScenario } from '../src/scenario/index.ts';
import { formatPath } from '../src/common/issues.ts';

function minimal(): Record<string, any> {
  return {
    name: 'tiny',
    description: 'A tiny sale.',
    sale: { skus: [{ id: 'a', stock: 10 }], perUserLimit: 1 },
    buyers: { population: 100, arrival: { executor: 'constant-arrival-rate', rate: 50, duration: '2s' } },
  };
}

function problems(mutate: (s: Record<string, any>) => void): string[] {
  const s = minimal();
  mutate(s);
  try {
    validateScenario(s, 'test.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    expect((e as ScenarioError).exitCode).toBe(2);
    return [...(e as ScenarioError).issues];
  }
  return [];
}

describe('validateScenario', () => {
  it('accepts a minimal scenario and fills in the defaults', () => {
    const s = validateScenario(minimal(), 'test.json');
    expect(s.target).toBe('built-in');
    expect(s.load).toMatchObject({ workers: 1, connections: 64, maxDuration: '60s', stopOnSellOut: true });
    expect(s.buyers).toMatchObject({ journey: 'checkout', qty: 1, thinkTime: 0, bots: { share: 0 } });
    expect(s.sale.opensAt).toBe('now');
    expect(s.thresholds).toEqual({});
  });

  it('names the field and the problem, with k6-style paths', () => {
    expect(
      problems((s) => {
        s.buyers.arrival = { executor: 'ramping-arrival-rate', stages: [{ duration: '1s', target: 5 }, { duration: '1s', target: 5 }, { duration: '1s', target: -1 }] };
      }),
    ).toEqual(['buyers.arrival.stages[2].target: must be ≥ 0']);
    expect(problems((s) => (s.sale.perUserLimit = 1.5))).toEqual(['sale.perUserLimit: must be a whole number ≥ 1, or "none" for no per-user limit']);
    expect(problems((s) => (s.sale.skus[0].stock = '10'))).toEqual(['sale.skus[0].stock: must be a number, not "10"']);
    expect(problems((s) => delete s.buyers.population)).toEqual(['buyers.population: is required']);
    expect(problems((s) => (s.buyers.journey = 'buy'))).toEqual(['buyers.journey: must be one of "checkout", "reserve-pay"']);
    expect(problems((s) => (s.buyers.arrival.executor = 'shared-iterations'))[0]).toMatch(/^buyers\.arrival\.executor: must be one of "constant-arrival-rate", /);
    expect(problems((s) => (s.buyers.arrival.duration = '2 seconds'))).toEqual([
      'buyers.arrival.duration: must be a duration: milliseconds, or a string like "500ms", "11.9s", "2m"',
    ]);
    expect(problems((s) => (s.buyers.thinkTime = { min: '1s' }))).toEqual(['buyers.thinkTime.max: is required']);
    expect(problems((s) => (s.sale.opensAt = 'tomorrow'))[0]).toMatch(/^sale\.opensAt: must be "now", an ISO 8601 time/);
  });

  it('rejects unknown fields at any depth, one line each', () => {
    expect(
      problems((s) => {
        s.Name = 'x';
        s.buyers.arrival.rampUp = '1s';
        s.thresholds = { checks: [{ threshold: 'rate>0.9', abortOnfail: true }] };
      }),
    ).toEqual(['buyers.arrival.rampUp: unknown field', 'thresholds.checks[0].abortOnfail: unknown field', 'Name: unknown field']);
  });

  it('reports every schema problem at once', () => {
    expect(
      problems((s) => {
        s.sale.perUserLimit = 0;
        s.load = { workers: 0, maxDuration: -1 };
      }),
    ).toEqual(['sale.perUserLimit: must be a whole number ≥ 1, or "none" for no per-user limit', 'load.workers: must be > 0', 'load.maxDuration: must be ≥ 0']);
  });

  it('checks fields that must agree with each other', () => {
    expect(
      problems((s) => {
        s.sale.skus.push({ id: 'a', stock: 5 });
        s.buyers.skuWeights = [1];
        s.buyers.qty = 2;
        s.buyers.thinkTime = { min: '2s', max: '1s' };
      }),
    ).toEqual([
      'sale.skus[1].id: "a" is already sale.skus[0].id',
      'buyers.skuWeights: has 1 weight for 2 SKUs in sale.skus',
      'buyers.qty: 2 is above sale.perUserLimit (1): every buyer would be refused',
      'buyers.thinkTime.min: is above buyers.thinkTime.max',
    ]);
    expect(problems((s) => (s.buyers.arrival.duration = 0))).toEqual(['buyers.arrival.duration: must be > 0']);
    expect(problems((s) => (s.buyers.arrival = { executor: 'ramping-arrival-rate', stages: [{ duration: '1s', target: 5 }, { duration: 0, target: 9 }] }))).toEqual([
      'buyers.arrival.stages[1].duration: must be > 0',
    ]);
  });

  it('refuses what the built-in service would refuse later, naming the scenario field', () => {
    expect(problems((s) => (s.sale.reservationTtl = '600h'))).toEqual([
      'sale.reservationTtl: must be a whole number of milliseconds up to about 24.8 days',
    ]);
    expect(problems((s) => (s.buyers.userPrefix = 'u'.repeat(127)))).toEqual([
      'buyers.userPrefix: too long: user ids would exceed the 128 bytes the built-in service accepts',
    ]);
    expect(problems((s) => (s.buyers.userPrefix = 'u'.repeat(126)))).toEqual([]); // 126 + "99" = 128 bytes
  });

  it('checks thresholds: syntax, metric, tags, and steps the journey runs', () => {
    expect(
      problems((s) => {
        s.thresholds = {
          'http_req_duration{step:reserve}': ['p(99)<250'],
          checks: ['rate>>0.9'],
          http_req_latency: ['p(99)<1'],
          'http_req_duration{step:checkout}': [{ threshold: 'rate<1' }],
        };
      }),
    ).toEqual([
      'thresholds["http_req_duration{step:reserve}"][0]: step "reserve" never runs in a "checkout" journey (steps: checkout)',
      'thresholds.checks[0]: "rate>>0.9" is not a threshold expression (examples: p(99)<250, avg<200, rate>0.99, count==0)',
      'thresholds.http_req_latency[0]: unknown metric "http_req_latency" (known: http_req_duration, http_req_duration_uncorrected, http_req_failed, http_req_rejected, checks, http_reqs, orders, dropped_iterations, oversold, lost_orders, sellout_ms, sold_out_time)',
      'thresholds["http_req_duration{step:checkout}"][0].threshold: "rate<1": http_req_duration is a trend; it takes avg, min, max, med, p(N)',
    ]);
  });

  it('checks a foreign target: templates for each step, known placeholders, one body', () => {
    const tpl = { path: '/buy/${sku}', json: { user: '${userId}', n: '${qty}' }, success: { status: 200 }, soldOut: { jsonField: 'code', equals: 'SOLD_OUT' } };
    expect(problems((s) => (s.target = { url: 'https://shop.example', requests: { checkout: tpl } }))).toEqual([]);
    expect(
      problems((s) => {
        s.buyers.journey = 'reserve-pay';
        s.target = { url: 'https://shop.example', requests: { reserve: { ...tpl, path: '/r/${user}', form: { a: 'b' } } } };
      }),
    ).toEqual([
      'target.requests.pay: is required by buyers.journey "reserve-pay"',
      'target.requests.reserve: has both json and form; a request has one body',
      'target.requests.reserve.path: unknown placeholder ${user} (known: ${userId} ${sku} ${qty} ${idempotencyKey} ${reservationId})',
      'target.requests.reserve.captureId: is required for the reserve step: it says where the reservation id is in the answer',
    ]);
    expect(problems((s) => (s.target = { url: 'ftp://shop.example', requests: {} }))).toEqual(['target.url: must be an http:// or https:// URL']);
    expect(problems((s) => (s.target = { url: 'http://x', requests: { checkout: { ...tpl, soldOut: { jsonField: 'code' } } } }))).toEqual([
      'target.requests.checkout.soldOut.equals: is required',
    ]);
  });

  it('refuses CR, LF and other control characters where they would reach the wire, naming the field', () => {
    const tpl = { path: '/buy/${sku}', headers: { 'x-user': '${userId}' }, success: { status: 200 }, soldOut: { status: 409 } };
    const target = (t: Record<string, unknown>) => (s: Record<string, any>) => (s.target = { url: 'http://shop.example', requests: { checkout: { ...tpl, ...t } } });
    expect(problems(target({}))).toEqual([]);
    expect(problems(target({ path: '/buy/${sku}\r\nX-Injected: 1' }))).toEqual([
      'target.requests.checkout.path: must not contain spaces or control characters (CR, LF, tab…): it goes on the request line',
    ]);
    expect(problems(target({ path: '/buy now' }))[0]).toMatch(/^target\.requests\.checkout\.path: must not contain spaces/);
    expect(problems(target({ headers: { 'x-user': 'a\r\nSet-Cookie: x' } }))).toEqual([
      'target.requests.checkout.headers["x-user"]: must not contain control characters (CR, LF…): a header value is one line',
    ]);
    expect(problems(target({ headers: { 'x\nuser': 'a' } }))[0]).toMatch(/^target\.requests\.checkout\.headers\["x\\nuser"\]: is not a valid header name/);
    expect(problems(target({ headers: { 'bad header': 'a' } }))[0]).toMatch(/^target\.requests\.checkout\.headers\["bad header"\]: is not a valid header name/);
    expect(problems(target({ headers: { 'x-null': 'a\u0000b' } }))[0]).toMatch(/headers\["x-null"\]: must not contain control characters/);
  });

  it('refuses a name that cannot name the results folder (reports/<name>-<time>/), naming the field', () => {
    expect(problems((s) => (s.name = 'x'.repeat(100)))).toEqual([]);
    expect(problems((s) => (s.name = 'x'.repeat(300)))).toEqual(['name: must be at most 100 characters (it names the results folder, reports/<name>-<time>/)']);
    for (const bad of ['../up', 'a/b', 'a\\b', '.hidden', 'Caps', 'a b', 'a\nb', '']) {
      expect(problems((s) => (s.name = bad))[0], JSON.stringify(bad)).toMatch(/^name: must/);
    }
  });

  it('spells "no per-user limit" one way: "none"', () => {
    expect(problems((s) => (s.sale.perUserLimit = 'none'))).toEqual([]);
    expect(validateScenario({ ...minimal(), sale: { skus: [{ id: 'a', stock: 10 }], perUserLimit: 'none' } }, 't').sale.perUserLimit).toBe('none');
    for (const bad of [0, -1, null, 'unlimited']) {
      expect(problems((s) => (s.sale.perUserLimit = bad)), String(bad)).toEqual(['sale.perUserLimit: must be a whole number ≥ 1, or "none" for no per-user limit']);
    }
    // With no limit, any quantity fits.
    expect(problems((s) => ((s.sale.perUserLimit = 'none'), (s.buyers.qty = 5)))).toEqual([]);
  });

  it('checks that sources name fields the scenario has', () => {
    expect(
      problems((s) => {
        s.sources = {
          facts: [{ fact: 'f', source: 's', parameters: ['sale.skus[0].stock', 'sale.skus[3].stock'] }],
          assumptions: [{ assumption: 'a', parameters: ['buyers.bots'] }],
        };
      }),
    ).toEqual([
      'sources.facts[0].parameters[1]: "sale.skus[3].stock" is not a field of this scenario',
      'sources.assumptions[0].parameters[0]: "buyers.bots" is not a field of this scenario',
    ]);
  });
});

describe('formatPath', () => {
  it('writes paths as in JavaScript', () => {
    expect(formatPath(['buyers', 'arrival', 'stages', 2, 'target'])).toBe('buyers.arrival.stages[2].target');
    expect(formatPath(['thresholds', 'http_req_duration{step:pay}', 0])).toBe('thresholds["http_req_duration{step:pay}"][0]');
    expect(formatPath([])).toBe('(top level)');
  });
});

describe('loading scenario files and presets', () => {
  it('finds a preset by name and a file by path', () => {
    expect(presetNames()).toContain('redmi-1s-india-2014');
    expect(resolveScenarioPath('redmi-1s-india-2014')).toMatch(/scenarios\/redmi-1s-india-2014\.json$/);
    const dir = mkdtempSync(join(tmpdir(), 'flashsale-scenario-'));
    writeFileSync(join(dir, 'mine.json'), JSON.stringify(minimal()));
    expect(loadScenario('mine.json', dir).scenario.name).toBe('tiny');
  });

  it('says which presets exist when a name is unknown', () => {
    expect(() => resolveScenarioPath('redmi-2099')).toThrow(UsageError);
    expect(() => resolveScenarioPath('redmi-2099')).toThrow(/presets: .*redmi-1s-india-2014/);
    expect(() => resolveScenarioPath('./nope.json')).toThrow(/no scenario file at/);
  });

  it('reports invalid JSON as a scenario error', () => {
    expect(() => parseScenarioText('{"name": ', 'x.json')).toThrow(ScenarioError);
    expect(() => parseScenarioText('{"name": ', 'x.json')).toThrow(/invalid scenario x\.json:\n {2}not valid JSON/);
  });
});
