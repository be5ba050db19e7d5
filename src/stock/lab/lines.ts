// The hardware lines the lab's designs are held against, measured in the same run with the servers' own
// tools: redis-benchmark running the same take script by EVALSHA (and PING, the floor of any command),
// and pgbench running the pg-row UPDATE from a custom script file with as many clients as the lab's pool.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { connectRedis, dropKeysUnder } from '../../stores/redis/link.ts';
import { TAKE } from '../../stores/redis/lua.ts';
import { skuKeys } from '../../stores/redis/keys.ts';
import { checkSchemaName } from '../../stores/postgres/schema.ts';
import { LabError } from '../../errors.ts';

const exec = promisify(execFile);

export interface Line { name: string; opsPerSec: number; p99Ms: number | null; command: string }

/** redis-benchmark: the take script (stock large enough never to run out; a fresh hold id per call) and PING. */
export async function redisLines(url: string, prefix: string, clients: number, requests: number): Promise<Line[]> {
  const u = new URL(url);
  const host = u.hostname;
  const port = u.port || '6379';
  const k = skuKeys(prefix, 1, 0, 'sku');
  const keys = [k.stock, k.users, k.keys, k.holds];
  const link = await connectRedis(url);
  try {
    await link.call(['DEL', ...keys]);
    await link.call(['HSET', k.stock, 'initial', 2e9, 'avail', 2e9, 'held', 0, 'sold', 0, 'epoch', 1]);
    await link.call(['SCRIPT', 'LOAD', TAKE.source]);
  } finally {
    await link.close();
  }
  // The arguments of one lab take: qty 1, a user, no limit, no key, a hold id made unique by -r.
  const take = ['EVALSHA', TAKE.sha, '4', ...keys, '1', '1', 'u__rand_int__', '0', '', '', 'h__rand_int__'];
  const base = ['-h', host, '-p', port, '-c', String(clients), '-n', String(requests), '--csv'];
  const evalsha = await redisBenchmark([...base, '-r', '1000000000000', ...take]);
  const ping = await redisBenchmark([...base, '-t', 'ping_mbulk']);
  await dropKeysUnder(url, prefix);
  return [
    { name: 'redis-benchmark EVALSHA take', ...evalsha, command: `redis-benchmark ${[...base, '-r', '1000000000000', 'EVALSHA', '<sha of the take script>', '4', '<4 keys>', '1', '1', 'u__rand_int__', '0', "''", "''", 'h__rand_int__'].join(' ')}` },
    { name: 'redis-benchmark PING', ...ping, command: `redis-benchmark ${[...base, '-t', 'ping_mbulk'].join(' ')}` },
  ];
}

async function redisBenchmark(args: string[]): Promise<{ opsPerSec: number; p99Ms: number | null }> {
  const { stdout } = await exec('redis-benchmark', args, { timeout: 120_000 });
  // CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const row = stdout.trim().split('\n').find((l) => !l.startsWith('"test"'));
  if (row === undefined) throw new LabError(`redis-benchmark printed no result: ${stdout.slice(0, 200)}`);
  const cells = row.split('","').map((c) => c.replace(/"/g, ''));
  return { opsPerSec: Number(cells[1]), p99Ms: cells[6] === undefined ? null : Number(cells[6]) };
}

export interface PgbenchShape {
  clients: number;
  /** Rows the clients update: 1 is the hot row; more spread the clients over rows (random per transaction). */
  rows: number;
  synchronousCommit: 'on' | 'off';
}

/**
 * pgbench of the stock UPDATE from a custom script file: -c clients, -j min(clients, 2), -M prepared,
 * -T seconds. The lab's line is the hot row with the lab's pool size and synchronous_commit on; the other
 * shapes explain the pg-row wall (docs/stores.md): one client, commits that do not wait for the disk, and
 * the same clients on separate rows.
 */
export async function pgbenchLine(url: string, name: string, shape: PgbenchShape, seconds: number): Promise<Line> {
  const schema = checkSchemaName(`${name.replace(/-/g, '_')}_line`);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const dir = await mkdtemp(join(tmpdir(), 'flashsale-pgbench-'));
  try {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}; DROP TABLE IF EXISTS ${schema}.stock; CREATE TABLE ${schema}.stock (sku text NOT NULL, shard int NOT NULL, available int NOT NULL CHECK (available >= 0), PRIMARY KEY (sku, shard))`);
    await admin.query(`INSERT INTO ${schema}.stock SELECT 'A', g, 2000000000 FROM generate_series(0, $1::int - 1) g`, [shape.rows]);
    const script = join(dir, 'stock-update.sql');
    const pick = shape.rows === 1 ? '' : `\\set r random(0, ${shape.rows - 1})\n`;
    await writeFile(script, `${pick}UPDATE ${schema}.stock SET available = available - 1 WHERE sku = 'A' AND shard = ${shape.rows === 1 ? '0' : ':r'} AND available >= 1;\n`);
    const u = new URL(url);
    const args = ['-n', '-M', 'prepared', '-f', script, '-c', String(shape.clients), '-j', String(Math.min(shape.clients, 2)), '-T', String(seconds), '-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username) || 'postgres', decodeURIComponent(u.pathname.slice(1))];
    const options = `-c synchronous_commit=${shape.synchronousCommit}`;
    const { stdout } = await exec('pgbench', args, { timeout: (seconds + 60) * 1000, env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password), PGOPTIONS: options } });
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
    if (tps === null) throw new LabError(`pgbench printed no tps: ${stdout.slice(-300)}`);
    const label = `pgbench ${shape.rows === 1 ? 'hot-row' : `${shape.rows}-row`} UPDATE -c ${shape.clients}${shape.synchronousCommit === 'off' ? ', synchronous_commit off' : ''}`;
    return { name: label, opsPerSec: Number(tps[1]), p99Ms: null, command: `PGOPTIONS='${options}' pgbench ${args.map((a) => (a === script ? '<stock-update.sql>' : a)).join(' ')}` };
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  }
}
