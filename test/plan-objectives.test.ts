// What a plan step must meet: --slo in k6's syntax, or the scenario's thresholds a step can answer;
// the rest listed as ignored; an error budget added when nothing else limits errors.
import { describe, expect, it } from 'vitest';
import { parseSlo, planObjectives } from '../src/plan/objectives.ts';
import { UsageError } from '../src/errors.ts';

describe('plan objectives', () => {
  it('reads --slo as corrected latency over all steps, or as "<metric> <expression>"', () => {
    expect(parseSlo('p(99)<200')).toEqual({ metric: 'http_req_duration', expression: 'p(99)<200', source: 'slo' });
    expect(parseSlo(' http_req_duration{step:pay}  p(99.9)<=300 ')).toEqual({ metric: 'http_req_duration{step:pay}', expression: 'p(99.9)<=300', source: 'slo' });
    expect(parseSlo('http_req_failed rate<0.001').metric).toBe('http_req_failed');
  });

  it('refuses a malformed --slo or one a step cannot answer, naming it (exit 2)', () => {
    expect(() => parseSlo('p(99)<<200')).toThrow(UsageError);
    expect(() => parseSlo('p(99)<<200')).toThrow(/--slo "p\(99\)<<200": .*not a threshold expression/);
    expect(() => parseSlo('sellout_ms value<11900')).toThrow(/cannot be judged on a plan step/);
    expect(() => parseSlo('bogus p(99)<1')).toThrow(/unknown metric "bogus"/);
  });

  it("takes the scenario's step-level thresholds and lists the others as ignored", () => {
    const o = planObjectives(
      {
        'http_req_duration{step:checkout}': ['p(99)<250'],
        http_req_failed: ['rate<0.01'],
        sellout_ms: ['value<=11900'],
        oversold: ['count==0'],
      },
      [],
    );
    expect(o.list).toEqual([
      { metric: 'http_req_duration{step:checkout}', expression: 'p(99)<250', source: 'scenario' },
      { metric: 'http_req_failed', expression: 'rate<0.01', source: 'scenario' },
    ]);
    expect(o.ignored.map((i) => i.metric)).toEqual(['sellout_ms', 'oversold']);
    expect(o.spec).toEqual({ 'http_req_duration{step:checkout}': ['p(99)<250'], http_req_failed: ['rate<0.01'] });
  });

  it('--slo replaces the scenario thresholds; an error budget is added when none is named', () => {
    const o = planObjectives({ http_req_failed: ['rate<0.05'], 'http_req_duration': ['p(90)<10'] }, ['p(99)<200']);
    expect(o.list).toEqual([
      { metric: 'http_req_duration', expression: 'p(99)<200', source: 'slo' },
      { metric: 'http_req_failed', expression: 'rate<0.01', source: 'default' },
    ]);
    expect(planObjectives({}, ['p(99)<200', 'http_req_failed rate<0.1']).list.map((x) => x.source)).toEqual(['slo', 'slo']);
  });
});
