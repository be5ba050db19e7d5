// Serialising requests for the raw transport: the bytes undici would write, and undici's refusals.
import { errors, type Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { RequestSerializer } from '../src/load/transport/request.ts';

const HOST = 'host: 127.0.0.1:8080\r\n';

function serialize(opts: Partial<Dispatcher.DispatchOptions>, serializer = new RequestSerializer(HOST)) {
  return { ...serializer.serialize({ path: '/api/v1/checkout', method: 'POST', ...opts } as Dispatcher.DispatchOptions) };
}

describe('RequestSerializer', () => {
  it('writes request line, host, keep-alive, the headers in order, content-length and an ASCII body as one string', () => {
    const r = serialize({ headers: ['content-type', 'application/json', 'idempotency-key', 'k-1'], body: '{"qty":1}' });
    expect(r.head).toBe(
      'POST /api/v1/checkout HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nconnection: keep-alive\r\ncontent-type: application/json\r\nidempotency-key: k-1\r\ncontent-length: 9\r\n\r\n{"qty":1}',
    );
    expect(r.body).toBeNull();
    expect(r.reset).toBe(false);
  });

  it('a body with multi-byte characters goes after the head as UTF-8, its length in bytes', () => {
    const r = serialize({ body: '{"name":"Åsa ☃"}' });
    expect(r.head).toMatch(/content-length: 19\r\n\r\n$/);
    expect(r.body).toEqual(Buffer.from('{"name":"Åsa ☃"}', 'utf8'));
  });

  it('a Buffer body, and header values as objects or numbers', () => {
    const r = serialize({ headers: { 'x-n': 7 as unknown as string, 'x-list': ['a', 'b'] }, body: Buffer.from('abc') });
    expect(r.head).toBe('POST /api/v1/checkout HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nconnection: keep-alive\r\nx-n: 7\r\nx-list: a\r\nx-list: b\r\ncontent-length: 3\r\n\r\n');
    expect(r.body).toEqual(Buffer.from('abc'));
  });

  it('GET without a body sends no content-length; POST without one sends 0 (as undici)', () => {
    expect(serialize({ method: 'GET', body: null }).head).toBe('GET /api/v1/checkout HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nconnection: keep-alive\r\n\r\n');
    expect(serialize({ body: null }).head).toMatch(/\r\ncontent-length: 0\r\n\r\n$/);
  });

  it('HEAD and a Connection: close header close the connection after the answer; a host header replaces the default', () => {
    expect(serialize({ method: 'HEAD', body: null })).toMatchObject({ reset: true });
    expect(serialize({ method: 'HEAD', body: null }).head).toContain('\r\nconnection: close\r\n');
    const r = serialize({ headers: ['Connection', 'close', 'Host', 'shop.example'] });
    expect(r.reset).toBe(true);
    expect(r.head).toBe('POST /api/v1/checkout HTTP/1.1\r\nhost: shop.example\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });

  it('refuses what undici refuses, with undici’s errors', () => {
    expect(() => serialize({ headers: ['x-evil', 'a\r\nx-injected: 1'] })).toThrow(errors.InvalidArgumentError);
    expect(() => serialize({ headers: ['bad name', 'v'] })).toThrow('invalid header key');
    expect(() => serialize({ headers: ['transfer-encoding', 'chunked'] })).toThrow('invalid transfer-encoding header');
    expect(() => serialize({ headers: ['expect', '100-continue'] })).toThrow(errors.NotSupportedError);
    expect(() => serialize({ headers: ['content-length', '3'], body: 'abcd' })).toThrow(errors.RequestContentLengthMismatchError);
    expect(() => serialize({ path: 'no-slash' })).toThrow('path must be an absolute URL or start with a slash');
    expect(() => serialize({ path: '/a b' })).toThrow('invalid request path');
    expect(() => serialize({ method: 'PO ST' as Dispatcher.HttpMethod })).toThrow('invalid request method');
    expect(() => serialize({ headers: ['a'] })).toThrow('headers array must be even');
  });

  it('refuses clearly what the raw transport does not do', () => {
    expect(() => serialize({ body: (async function* () {})() as unknown as string })).toThrow(/raw transport: the body must be a string, a Buffer or null/);
    expect(() => serialize({ method: 'CONNECT' })).toThrow(/CONNECT is not supported/);
    expect(() => serialize({ upgrade: 'websocket' })).toThrow(/upgrade is not supported/);
  });

  it('re-validates a value that changed since the last request, even after it was valid at that position', () => {
    const check = new RequestSerializer(HOST);
    const headers = ['content-type', 'application/json', 'idempotency-key', 'k-1'];
    expect(serialize({ headers }, check).head).toContain('idempotency-key: k-1\r\n');
    headers[3] = 'k-2\r\nx-injected: 1';
    expect(() => serialize({ headers }, check)).toThrow('invalid idempotency-key header');
    headers[3] = 'k-3';
    headers[0] = 'content type';
    expect(() => serialize({ headers }, check)).toThrow('invalid header key');
  });
});
