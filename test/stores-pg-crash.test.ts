// Every acknowledged order survives a SIGKILL of the process writing them: group commit acknowledges only
// after COMMIT returned (synchronous_commit on), so what the buyer was told is in PostgreSQL.
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PgLedger } from '../src/stores/postgres/ledger.ts';
import { dropPgSchema, postgresAvailable, POSTGRES_URL, requireOrSkip, uniqueName } from './helpers/servers.ts';

const postgres = await postgresAvailable();
requireOrSkip('PostgreSQL', postgres);

const WRITER = new URL('./fixtures/pg-ledger-writer.ts', import.meta.url).pathname;
const schema = uniqueName('fs_test_crash').toLowerCase();
afterAll(async () => {
  if (postgres.ok) await dropPgSchema(schema);
});

describe.skipIf(!postgres.ok)('PostgreSQL ledger, writer killed with SIGKILL mid-stream', () => {
  it('every order acknowledged before the kill is in the ledger', async () => {
    const ledger = await PgLedger.open(POSTGRES_URL, { schema });
    const sale = await ledger.newSale('{}');
    await ledger.close();
    const child = spawn(process.execPath, [WRITER, POSTGRES_URL, schema, String(sale), '200000', '40', '256'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writer acknowledged ${acked.length} orders in 30 s: ${err.slice(0, 500)}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        buffer += d.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) if (line !== 'ready') acked.push(line);
        if (acked.length >= 3000) {
          clearTimeout(timer);
          // Mid-stream: batches are in flight as it dies.
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`writer exited early: ${err.slice(0, 500)}`)));
    });
    expect(await exited).toBe('SIGKILL');
    // Lines that arrived before the kill are acknowledgements the writer really sent.
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      const r = await client.query(`SELECT order_id FROM ${schema}.orders WHERE order_id = ANY($1::text[])`, [acked]);
      const present = new Set(r.rows.map((row) => String(row.order_id)));
      const lost = acked.filter((id) => !present.has(id));
      expect(lost).toEqual([]);
      const total = Number((await client.query(`SELECT COUNT(*) AS n FROM ${schema}.orders`)).rows[0].n);
      expect(total).toBeGreaterThanOrEqual(acked.length);
    } finally {
      await client.end();
    }
  });
});
