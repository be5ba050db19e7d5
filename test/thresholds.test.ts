import { describe, expect, it } from 'vitest';
import { parseExpression, parseMetricKey, parseThreshold } from '../src/thresholds/index.ts';
import { ThresholdSyntaxError } from '../src/errors.ts';

describe('threshold syntax (k6)', () => {
  it('parses metric keys with tag filters and aliases', () => {
    expect(parseMetricKey('http_req_duration{step:reserve}')).toMatchObject({ name: 'http_req_duration', tags: { step: 'reserve' } });
    expect(parseMetricKey('http_req_duration{ step:pay , outcome:success }').tags).toEqual({ step: 'pay', outcome: 'success' });
    expect(parseMetricKey('sold_out_time').name).toBe('sellout_ms');
    expect(parseMetricKey('checks').tags).toEqual({});
  });

  it('knows only its own metrics: names of Object.prototype members are unknown metrics', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(() => parseMetricKey(name), name).toThrow(/unknown metric/);
    }
  });

  it('parses every aggregation k6 has', () => {
    expect(parseExpression('p(99)<250')).toMatchObject({ aggregation: { kind: 'percentile', p: 99 }, operator: '<', value: 250 });
    expect(parseExpression('p(99.9) <= 1000')).toMatchObject({ aggregation: { kind: 'percentile', p: 99.9 }, operator: '<=', value: 1000 });
    for (const agg of ['avg', 'min', 'max', 'med', 'count', 'rate', 'value']) expect(parseExpression(`${agg}>=1`).aggregation.kind).toBe(agg);
    expect(parseExpression('rate>0.99').value).toBe(0.99);
    expect(parseExpression('count==0').operator).toBe('==');
    expect(parseExpression('count!=3').operator).toBe('!=');
  });

  it('rejects what it does not understand, saying what', () => {
    expect(() => parseExpression('p(99)<<250')).toThrow(/is not a threshold expression/);
    expect(() => parseExpression('p(101)<1')).toThrow(/not between 0 and 100/);
    expect(() => parseMetricKey('http_req_latency')).toThrow(/unknown metric "http_req_latency"/);
    expect(() => parseMetricKey('http_req_duration{step:reserv}')).toThrow(/step "reserv".*checkout, reserve, pay/);
    expect(() => parseMetricKey('http_reqs{step:pay}')).toThrow(/takes no tags/);
    expect(() => parseMetricKey('http_req_duration{method:POST}')).toThrow(/no tag "method"/);
    expect(() => parseMetricKey('http_req_duration{step:pay,step:reserve}')).toThrow(/tag "step" is given twice/);
    expect(() => parseThreshold('checks', 'p(99)<1')).toThrow(/checks is a rate; it takes rate/);
    expect(() => parseThreshold('http_req_duration', 'rate<1')).toThrow(ThresholdSyntaxError);
  });
});
