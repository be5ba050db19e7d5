import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import { LedgerStore, MAX_ROWS_PER_INSERT, ORDER_STRIDE } from '../src/ledger/store.ts';
import { GroupCommitter } from '../src/ledger/committer.ts';
import { createCommitStats, renderCommitStats } from '../src/ledger/commit-stats.ts';
import type { AckMsg } from '../src/ledger/protocol.ts';

const dirs: string[] = [];
function tempLedger(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flashsale-ledger-'));
  dirs.push(dir);
  return join(dir, 'ledger.sqlite');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('LedgerStore', () => {
  it('commits a batch, rejects duplicate order ids and idempotency keys row by row, and recovers', () => {
    const path = tempLedger();
    const store = new LedgerStore(path);
    const sale = store.newSale('{"skus":[]}');
    const failed = store.appendBatch(sale, [
      'o1', 'phone', 'alice', 1, 1000, 'k1', 12345,
      'o2', 'phone', 'bob', 2, 1001, null, null,
      'o1', 'phone', 'carol', 1, 1002, null, null, // duplicate order id
      'o3', 'case', 'alice', 3, 1003, 'k1', 777, // duplicate key in the same sale
      'o4', 'case', 'dave', 1, 1004, null, null,
    ]);
    expect(failed.map(([i]) => i)).toEqual([2, 3]);
    expect(failed[0][1]).toMatch(/UNIQUE/);
    store.close();

    const reopened = new LedgerStore(path);
    expect(reopened.latestSale()).toEqual({ id: sale, definition: '{"skus":[]}' });
    const r = reopened.recover(sale);
    expect(r.soldBySku).toEqual(new Map([['phone', 3], ['case', 1]]));
    expect(new Map(r.users)).toEqual(new Map([['alice', 1], ['bob', 2], ['dave', 1]]));
    expect(r.keys).toEqual([['k1', 'o1', 12345]]); // the key keeps its request's fingerprint
    expect(r.orders).toBe(3);
    reopened.close();
  });

  it('keeps sales apart and pages a sale\'s orders as NDJSON in commit order', () => {
    const store = new LedgerStore(':memory:');
    const a = store.newSale('a');
    const b = store.newSale('b');
    store.appendBatch(a, ['x1', 's', 'u', 1, 1, 'same-key', 1]);
    store.appendBatch(b, ['y1', 's', 'u', 1, 2, 'same-key', 1, 'y2', 's', 'v', 2, 3, null, null, 'y3', 's', 'w', 1, 4, null, null]);
    expect(store.recover(a).soldBySku).toEqual(new Map([['s', 1]]));
    const p1 = store.pageNdjson(b, 0, 2);
    expect(p1.count).toBe(2);
    expect(p1.ndjson.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { orderId: 'y1', sku: 's', userId: 'u', qty: 1, createdAt: 2 },
      { orderId: 'y2', sku: 's', userId: 'v', qty: 2, createdAt: 3 },
    ]);
    const p2 = store.pageNdjson(b, p1.lastRowid, 2);
    expect([p2.count, JSON.parse(p2.ndjson).orderId]).toEqual([1, 'y3']);
    expect(store.pageNdjson(b, p2.lastRowid, 2).count).toBe(0);
    store.close();
  });

  it('writes batches larger than one INSERT and isolates a bad row inside any chunk', () => {
    const store = new LedgerStore(':memory:');
    const sale = store.newSale('s');
    const n = MAX_ROWS_PER_INSERT * 2 + 5;
    const flat: Array<string | number | null> = [];
    for (let i = 0; i < n; i++) flat.push(`o${i}`, 's', `u${i}`, 1, i, i % 3 === 0 ? `k${i}` : null, i % 3 === 0 ? i : null);
    const bad = MAX_ROWS_PER_INSERT + 7; // in the second chunk: repeats order 0's key
    flat[bad * ORDER_STRIDE + 5] = 'k0';
    const failed = store.appendBatch(sale, flat);
    expect(failed.map(([i]) => i)).toEqual([bad]);
    expect(failed[0][1]).toMatch(/UNIQUE/);
    const r = store.recover(sale);
    expect(r.soldBySku).toEqual(new Map([['s', n - 1]]));
    expect(r.keys.length).toBe(Math.ceil(n / 3));
    let count = 0;
    for (let after = 0, page; (page = store.pageNdjson(sale, after, 100)).count > 0; after = page.lastRowid) count += page.count;
    expect(count).toBe(n - 1);
    store.close();
  });

  it('keeps using a ledger file made with the table-level UNIQUE (sale_id, idempotency_key)', () => {
    const path = tempLedger();
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE sales (id INTEGER PRIMARY KEY, definition TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE orders (order_id TEXT PRIMARY KEY, sale_id INTEGER NOT NULL, sku TEXT NOT NULL, user_id TEXT NOT NULL,
        qty INTEGER NOT NULL CHECK (qty > 0), created_at INTEGER NOT NULL, idempotency_key TEXT, UNIQUE (sale_id, idempotency_key));`);
    old.exec(`INSERT INTO sales VALUES (1, 's0', 0); INSERT INTO orders VALUES ('z', 1, 's', 'u', 1, 0, 'old-key');`);
    old.close();
    const store = new LedgerStore(path);
    expect(store.recover(1).keys).toEqual([['old-key', 'z', null]]); // no fingerprint: restored as unverifiable
    const sale = store.newSale('s');
    const failed = store.appendBatch(sale, ['a', 's', 'u', 1, 1, 'k', 5, 'b', 's', 'v', 1, 2, null, null, 'c', 's', 'w', 1, 3, 'k', 7]);
    expect(failed.map(([i]) => i)).toEqual([2]);
    expect(store.recover(sale).keys).toEqual([['k', 'a', 5]]);
    store.close();
  });

  it('lets one writer hold a ledger file at a time', () => {
    const path = tempLedger();
    const first = new LedgerStore(path);
    expect(() => new LedgerStore(path)).toThrow(/cannot open ledger .*locked/);
    first.close();
    new LedgerStore(path).close();
  });

  it('reports a ledger that cannot be opened, naming the path', () => {
    expect(() => new LedgerStore('/nonexistent-dir/x/ledger.sqlite')).toThrow(/cannot open ledger \/nonexistent-dir\/x\/ledger.sqlite/);
  });
});

describe('GroupCommitter', () => {
  it('commits appends that arrive together in one transaction and acks each batch with its failures', async () => {
    const store = new LedgerStore(':memory:');
    const sale = store.newSale('s');
    const metrics = createCommitStats();
    const committer = new GroupCommitter(store, metrics);
    const ch1 = new MessageChannel();
    const ch2 = new MessageChannel();
    committer.attach(ch1.port1);
    committer.attach(ch2.port1);
    const ack = (port: MessagePort) => new Promise<AckMsg>((resolve) => port.once('message', resolve));
    const acks = Promise.all([ack(ch1.port2), ack(ch2.port2)]);
    ch1.port2.postMessage({ t: 'a', b: 7, s: sale, o: ['o1', 's', 'u1', 1, 1, null, null, 'o2', 's', 'u2', 1, 1, null, null] });
    ch2.port2.postMessage({ t: 'a', b: 9, s: sale, o: ['o3', 's', 'u3', 1, 1, null, null, 'o1', 's', 'u4', 1, 1, null, null] });
    const [a1, a2] = await acks;
    expect(a1).toEqual({ t: 'k', b: [7], f: null });
    expect(a2.b).toEqual([9]);
    expect(a2.f!.map(([b, i]) => [b, i])).toEqual([[9, 1]]); // index within its own batch
    const text = renderCommitStats(metrics);
    expect(text).toMatch(/^flashsale_ledger_batch_size_count 1$/m); // both messages, one commit
    expect(text).toMatch(/^flashsale_ledger_batch_size_sum 4$/m);
    expect(text).toMatch(/^flashsale_ledger_batch_size_bucket\{le="4"\} 1$/m);
    ch1.port2.close();
    ch2.port2.close();
    committer.close();
  });

  it('acks every batch a port had in one commit with one message, failures named by batch', async () => {
    const store = new LedgerStore(':memory:');
    const sale = store.newSale('s');
    const committer = new GroupCommitter(store, createCommitStats());
    const ch = new MessageChannel();
    committer.attach(ch.port1);
    const got: AckMsg[] = [];
    ch.port2.on('message', (m: AckMsg) => got.push(m));
    // Three messages in one turn: one commit; the second batch's order o1 repeats the first's id.
    ch.port2.postMessage({ t: 'a', b: 1, s: sale, o: ['o1', 's', 'u1', 1, 1, null, null] });
    ch.port2.postMessage({ t: 'a', b: 2, s: sale, o: ['o2', 's', 'u2', 1, 1, null, null, 'o1', 's', 'u3', 1, 1, null, null] });
    ch.port2.postMessage({ t: 'a', b: 3, s: sale, o: ['o3', 's', 'u4', 1, 1, null, null] });
    const deadline = Date.now() + 5_000;
    while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50)); // a second ack, were there one, would be here by now
    expect(got).toHaveLength(1);
    expect(got[0].b).toEqual([1, 2, 3]);
    expect(got[0].f?.map(([b, i]) => [b, i])).toEqual([[2, 1]]);
    ch.port2.close();
    committer.close();
  });
});
