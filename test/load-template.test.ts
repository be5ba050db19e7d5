import { describe, expect, it } from 'vitest';
import { errorKind } from '../src/load/answers.ts';
import { compileClassifier, readPath } from '../src/load/classify.ts';
import type { RequestTemplate } from '../src/contract/load-plan.ts';
import { compileTemplate, isPlain, PLACEHOLDERS, type Vars } from '../src/load/template.ts';
import { ERROR, REJECTED, SOLD_OUT, SUCCESS } from '../src/contract/vocabulary.ts';

const vars: Vars = { userId: 'u "7"', sku: 'a/b', qty: 2, idempotencyKey: 'k-1', reservationId: 'r 1' };

const base: RequestTemplate = {
  method: 'POST',
  path: '/shop/${sku}/buy?u=${userId}',
  headers: { authorization: 'Bearer ${userId}', 'x-static': 'yes', 'Idempotency-Key': 'ignored' },
  body: { json: { sku: '${sku}', user: '${userId}', qty: '${qty}', note: 'qty=${qty}', nested: { r: '${reservationId}' } } },
  success: { status: [200, 201] },
  soldOut: { jsonField: 'error.code', equals: 'sold_out' },
  captureId: 'data.orderId',
};

describe('request templates', () => {
  it('substitutes placeholders, escaped for path, JSON and headers, and always sends the Idempotency-Key', () => {
    const t = compileTemplate(base, 'target.requests.checkout');
    expect(t.path(vars)).toBe('/shop/a%2Fb/buy?u=u%20%227%22');
    expect(JSON.parse(t.body(vars)!)).toEqual({ sku: 'a/b', user: 'u "7"', qty: 2, note: 'qty=2', nested: { r: 'r 1' } });
    expect(t.headers(vars, [])).toEqual([
      'authorization', 'Bearer u "7"', 'x-static', 'yes', 'content-type', 'application/json', 'idempotency-key', 'k-1',
    ]);
  });

  it('encodes form bodies and names unknown placeholders with where they are', () => {
    const t = compileTemplate({ ...base, body: { form: { user: '${userId}', n: '${qty}' } } }, 'x');
    expect(t.body(vars)).toBe('user=u%20%227%22&n=2');
    expect(() => compileTemplate({ ...base, path: '/${orderId}' }, 'target.requests.pay')).toThrow(/target.requests.pay.path: unknown placeholder \$\{orderId\}/);
  });
});

describe('plain placeholders', () => {
  it('render the same with and without escaping when their values are plain', () => {
    const plainVars: Vars = { userId: 'u-17', sku: 'SKU_1.a~', qty: 3, idempotencyKey: 'fs-1-17-checkout', reservationId: 'r 1' };
    const plain = new Set(PLACEHOLDERS.filter((p) => p !== 'reservationId'));
    for (const body of [base.body, { form: { user: '${userId}', n: '${qty}', r: '${reservationId}' } }] as const) {
      const escaped = compileTemplate({ ...base, body }, 'x');
      const skipped = compileTemplate({ ...base, body }, 'x', plain);
      expect(skipped.path(plainVars)).toBe(escaped.path(plainVars));
      expect(skipped.body(plainVars)).toBe(escaped.body(plainVars));
      expect(skipped.headers(plainVars, [])).toEqual(escaped.headers(plainVars, []));
    }
    // reservationId was not vouched for, so it is still escaped.
    expect(compileTemplate(base, 'x', plain).path({ ...plainVars, sku: 'a' })).toBe('/shop/a/buy?u=u-17');
    expect(JSON.parse(compileTemplate(base, 'x', plain).body({ ...plainVars, reservationId: 'r"1' })!).nested.r).toBe('r"1');
  });

  it('isPlain accepts only what no escape changes', () => {
    expect(isPlain('u-1_2.3~')).toBe(true);
    for (const v of ['a b', 'a"b', 'a\\b', 'a/b', 'a%b', 'ü', 'a\nb']) expect(isPlain(v)).toBe(false);
  });

  it('refreshHeaders rewrites only the per-buyer values of an array headers() filled', () => {
    const t = compileTemplate(base, 'x');
    const into = t.headers(vars, []);
    const other: Vars = { ...vars, userId: 'u2', idempotencyKey: 'k-2' };
    expect(t.refreshHeaders(other, into)).toEqual(t.headers(other, []));
  });
});

describe('classifying answers', () => {
  const c = compileClassifier(base, 'target.requests.checkout');

  it('uses the success and sold-out matchers, then the status class', () => {
    expect(c.needsBody).toBe(true);
    expect(c.classify(201, {})).toBe(SUCCESS);
    expect(c.classify(409, { error: { code: 'sold_out' } })).toBe(SOLD_OUT);
    expect(c.classify(409, { error: { code: 'other' } })).toBe(REJECTED);
    expect(c.classify(429, undefined)).toBe(REJECTED);
    expect(c.classify(503, undefined)).toBe(ERROR);
    expect(readPath({ data: { orderId: 'o1' } }, 'data.orderId')).toBe('o1');
    expect(readPath({ data: 1 }, 'data.orderId')).toBeUndefined();
    // Own fields only: a target's answer never yields Object.prototype's members.
    expect(readPath({ data: {} }, 'data.constructor')).toBeUndefined();
    expect(readPath(JSON.parse('{"__proto__": {"id": "x"}}'), '__proto__.id')).toBe('x');
    expect(readPath({}, 'toString')).toBeUndefined();
  });

  it('does not read bodies when no matcher needs them', () => {
    expect(compileClassifier({ ...base, soldOut: { status: [409] }, captureId: null }, 'x').needsBody).toBe(false);
    expect(() => compileClassifier({ ...base, success: {} as unknown as never }, 'target.requests.reserve')).toThrow(/target.requests.reserve.success/);
  });

  it('names failures without an answer', () => {
    expect(errorKind(Object.assign(new Error('t'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))).toBe('timeout');
    expect(errorKind(Object.assign(new Error('r'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(errorKind(Object.assign(new Error('s'), { code: 'UND_ERR_SOCKET' }))).toBe('socket');
  });
});
