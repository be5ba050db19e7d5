// A damaged ledger is refused at start, not served from: SQLite stops replaying a write-ahead log at
// the first bad frame and drops every commit after it without a word (acknowledged orders lost, their
// units sold again). The check reads the log with SQLite's own rules before SQLite opens the file.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkWal } from '../src/ledger/integrity.ts';
import { LedgerStore } from '../src/ledger/store.ts';
import { LedgerDamagedError } from '../src/errors.ts';
import { startService, type SaleDefinition } from '../src/service/index.ts';
import { corruptDbPage, corruptWalFrame, corruptWalHeader, snapshotLedger, walFrames } from './helpers/faults.ts';
import { call } from './helpers/http.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flashsale-integrity-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const SALE: SaleDefinition = { skus: [{ id: 'phone', stock: 100 }], perUserLimit: 1, reservationTtlMs: 60_000, opensAtEpochMs: null, payment: { declineRate: 0, latencyMs: 0 } };

/** A ledger as a kill -9 leaves it: `commits` one-order commits still in the log. Returns the copy's path. */
function crashedLedger(commits: number): string {
  const dir = tempDir();
  const live = join(dir, 'live.sqlite');
  const store = new LedgerStore(live);
  const sale = store.newSale(JSON.stringify(SALE));
  for (let i = 0; i < commits; i++) store.appendBatch(sale, [`o${i}`, 'phone', `u${i}`, 1, i, null, null]);
  const copy = join(dir, 'ledger.sqlite');
  snapshotLedger(live, copy);
  store.close();
  return copy;
}

describe('checkWal', () => {
  it('passes the log a crash leaves, and a torn tail with no commit of its own', () => {
    const path = crashedLedger(6);
    const clean = checkWal(`${path}-wal`);
    expect(clean.ok && clean.commits).toBeGreaterThanOrEqual(8); // schema, sale, 6 orders
    const { frames, pageSize } = walFrames(`${path}-wal`);
    truncateSync(`${path}-wal`, 32 + (frames - 1) * (24 + pageSize) + 100); // last frame half-written
    expect(checkWal(`${path}-wal`).ok).toBe(true);
    expect(checkWal(join(tempDir(), 'absent-wal'))).toEqual({ ok: true, frames: 0, commits: 0 });
  });

  it('finds a flipped byte in a frame, in a salt, in a checksum and in the header', () => {
    for (const damage of [
      (wal: string) => corruptWalFrame(wal, 3),
      (wal: string) => corruptWalFrame(wal, 3, 8), // salt-1
      (wal: string) => corruptWalFrame(wal, walFrames(wal).frames - 1, 16), // the last commit's checksum
      (wal: string) => corruptWalHeader(wal),
    ]) {
      const path = crashedLedger(6);
      damage(`${path}-wal`);
      const r = checkWal(`${path}-wal`);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problem).toMatch(/SQLite would (stop replaying|ignore all)/);
    }
  });
});

describe('LedgerStore on a damaged file', () => {
  it('refuses a damaged log before SQLite touches it, and starts on it only when the loss is accepted', () => {
    const path = crashedLedger(6);
    corruptWalFrame(`${path}-wal`, 3);
    const before = readFileSync(`${path}-wal`);
    expect(() => new LedgerStore(path)).toThrow(LedgerDamagedError);
    expect(() => new LedgerStore(path)).toThrow(/write-ahead log .*-wal is damaged: frame 4 of \d+ .*drop \d+ committed transaction.*--accept-lost-orders/);
    expect(readFileSync(`${path}-wal`).equals(before)).toBe(true); // the evidence is kept as it was

    const accepted = new LedgerStore(path, 'FULL', { acceptLostOrders: true });
    expect(accepted.warnings).toEqual([expect.stringMatching(/^--accept-lost-orders: .*damaged.*copied to/)]);
    accepted.close();
    const copies = readdirSync(join(path, '..')).filter((f) => f.includes('.damaged-'));
    expect(copies).toHaveLength(2);
  });

  it('refuses a file whose pages fail PRAGMA quick_check', () => {
    const path = crashedLedger(50);
    new LedgerStore(path).close(); // checkpointed into the database file
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(statSync(path).size).toBeGreaterThan(2 * 4096);
    corruptDbPage(path, 3);
    expect(() => new LedgerStore(path)).toThrow(/fails PRAGMA quick_check.*--accept-lost-orders/);
  });
});

describe('the service on a damaged ledger', () => {
  it('does not start (naming the risk and the flag) and, told to, starts with what is left', async () => {
    const path = crashedLedger(6);
    corruptWalFrame(`${path}-wal`, 3);
    await expect(startService({ sale: SALE, threads: 1, ledgerPath: path })).rejects.toThrow(LedgerDamagedError);
    const lines: string[] = [];
    const svc = await startService({ sale: SALE, threads: 1, ledgerPath: path, acceptLostOrders: true, log: (level, m) => void lines.push(`${level}: ${m}`) });
    try {
      expect(lines[0]).toMatch(/^warn: --accept-lost-orders: the ledger's write-ahead log .* is damaged/);
      expect((await call(svc.url, 'GET', '/api/v1/inventory/phone')).status).toBe(200);
    } finally {
      await svc.close();
    }
  });
});
