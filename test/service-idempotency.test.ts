import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { createIdempotencyTable, fingerprint, IdempotencyTable, MAX_STORED_BODY, UNVERIFIABLE } from '../src/service/idempotency.ts';

describe('IdempotencyTable', () => {
  it('lets the first request run and answers later ones with its response', () => {
    const shared = createIdempotencyTable(16);
    const a = new IdempotencyTable(shared);
    const b = new IdempotencyTable(shared); // another thread's view
    const first = a.begin('key-1');
    expect(first.kind).toBe('run');
    expect(b.begin('key-1').kind).toBe('wait');
    expect(b.begin('key-2').kind).toBe('run');
    a.complete((first as { slot: number }).slot, 201, '{"orderId":"o1"}');
    const again = b.begin('key-1');
    expect(again.kind).toBe('answered');
    if (again.kind === 'answered') expect([again.status, again.body.toString()]).toEqual([201, '{"orderId":"o1"}']);
  });

  it('wakes a waiting retry when the first completes', async () => {
    const t = new IdempotencyTable(createIdempotencyTable(16));
    const first = t.begin('k') as { kind: 'run'; slot: number };
    const second = t.begin('k') as { kind: 'wait'; slot: number };
    const woke = t.waitFor(second.slot, 5000);
    setTimeout(() => t.complete(first.slot, 409, '{"error":"sold_out"}'), 10);
    await woke;
    expect(t.begin('k')).toMatchObject({ kind: 'answered', status: 409 });
  });

  it('wakes a retry in another thread when the first answers', async () => {
    const shared = createIdempotencyTable(16);
    const worker = new Worker(new URL('./fixtures/service-idempotency-worker.ts', import.meta.url), { workerData: { shared, key: 'cross' } });
    try {
      await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      const t = new IdempotencyTable(shared);
      const b = t.begin('cross');
      expect(b.kind).toBe('wait');
      await t.waitFor((b as { slot: number }).slot, 5000);
      const answered = t.begin('cross');
      expect(answered.kind === 'answered' && answered.body.toString()).toBe('{"orderId":"from-worker"}');
    } finally {
      await worker.terminate();
    }
  });

  it('makes a key retryable after a 5xx or an answer too long to store', () => {
    const t = new IdempotencyTable(createIdempotencyTable(16));
    const a = t.begin('a') as { slot: number };
    t.complete(a.slot, 500, '{"error":"ledger_error"}');
    expect(t.begin('a').kind).toBe('run');
    const b = t.begin('b') as { slot: number };
    t.complete(b.slot, 201, 'x'.repeat(MAX_STORED_BODY + 1));
    expect(t.begin('b').kind).toBe('run');
  });

  it('refuses a key reused with a different request, restored keys included', () => {
    const t = new IdempotencyTable(createIdempotencyTable(16));
    const a = t.begin('k', fingerprint(0, '{"qty":1}')) as { slot: number };
    expect(t.begin('k', fingerprint(0, '{"qty":2}')).kind).toBe('mismatch');
    expect(t.begin('k', fingerprint(1, '{"qty":1}')).kind).toBe('mismatch'); // same body, other route
    t.complete(a.slot, 201, '{}');
    expect(t.begin('k', fingerprint(0, '{"qty":1}')).kind).toBe('answered');
    // A restored key keeps its request's fingerprint (it matched any request when restored as 0).
    t.restore('r', fingerprint(2, '{"u":"alice"}'), 201, '{"orderId":"o"}');
    expect(t.begin('r', fingerprint(2, '{"u":"alice"}')).kind).toBe('answered');
    expect(t.begin('r', fingerprint(2, '{"u":"bob"}')).kind).toBe('mismatch');
    // Keys from a ledger written before fingerprints were kept answer no request.
    t.restore('old', UNVERIFIABLE, 201, '{"orderId":"o2"}');
    expect(t.begin('old', fingerprint(2, '{"u":"alice"}')).kind).toBe('mismatch');
  });

  it('says full instead of forgetting a key', () => {
    const shared = createIdempotencyTable(1);
    const t = new IdempotencyTable(shared);
    for (let i = 0; i < shared.capacity; i++) expect(t.begin(`k${i}`).kind).toBe('run');
    expect(t.begin('one-more').kind).toBe('full');
    expect(t.restore('k0', 0, 201, '{}')).toBe(false);
  });
});
