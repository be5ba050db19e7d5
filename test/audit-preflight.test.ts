// The pre-flight check before load goes to a foreign target: a target holding another sale (a SKU it
// does not sell, another initial stock) is refused before the first request with each SKU named,
// since the audit would otherwise blame the service; units already sold before the load are a
// warning; a target without the inventory route, or nothing listening, is left to the run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTargetSale } from '../src/audit/index.ts';
import { EXIT, TargetSaleMismatchError } from '../src/errors.ts';
import { toSaleDefinition, validateScenario } from '../src/scenario/index.ts';
import { startService, type RunningService } from '../src/service/index.ts';
import { refusedPort } from './fixtures/hostile-servers.ts';
import { flashsaleWith } from './helpers/cli.ts';
import { call } from './helpers/http.ts';

let service: RunningService;
const dir = mkdtempSync(join(tmpdir(), 'flashsale-preflight-'));

beforeAll(async () => {
  const held = validateScenario(
    {
      name: 'held-sale',
      description: 'The sale the target holds.',
      sale: { skus: [{ id: 'size-8', stock: 100 }, { id: 'size-9', stock: 50 }], perUserLimit: 1 },
      buyers: { population: 100, arrival: { executor: 'constant-arrival-rate', rate: 10, duration: '1s' } },
    },
    'held-sale',
  );
  service = await startService({ sale: toSaleDefinition(held, null), threads: 1, expectedUsers: 100 });
});
afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the pre-flight check of a foreign target', () => {
  it("passes silently when the target holds the scenario's sale, untouched", async () => {
    expect(await checkTargetSale(service.url, new Map([['size-8', 100], ['size-9', 50]]))).toEqual([]);
  });

  it('refuses, naming each SKU, a sale with a SKU the target does not sell or another stock', async () => {
    const err = await checkTargetSale(service.url, new Map([['size-8', 100], ['size-10', 30], ['size-9', 60]])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetSaleMismatchError);
    const e = err as TargetSaleMismatchError;
    expect(e.exitCode).toBe(EXIT.usage);
    expect(e.mismatches).toHaveLength(2);
    expect(e.mismatches[0]).toMatch(/^SKU "size-10": the target does not sell it \(GET \/api\/v1\/inventory\/size-10 answered 404/);
    expect(e.mismatches[1]).toBe('SKU "size-9": the target started its sale with 50 units, the scenario says 60');
    expect(e.message).toContain(service.url);
  });

  it('warns, and goes on, when units were sold before the load', async () => {
    const sold = await call(service.url, 'POST', '/api/v1/checkout', { sku: 'size-9', userId: 'early-bird', qty: 1 });
    expect(sold.status).toBe(201);
    const warnings = await checkTargetSale(service.url, new Map([['size-8', 100], ['size-9', 50]]));
    expect(warnings).toEqual([expect.stringMatching(/^pre-flight: SKU "size-9" had 1 sold and 0 reserved before this run's load/)]);
  });

  it('leaves a target it cannot read to the run (nothing listening)', async () => {
    const dead = await refusedPort();
    try {
      expect(await checkTargetSale(dead.url, new Map([['size-8', 100]]), 500)).toEqual([]);
    } finally {
      await dead.close();
    }
  });

  it('makes `run --target` exit 2 before any load, with the SKUs named and no stack', async () => {
    const path = join(dir, 'mismatch.json');
    writeFileSync(
      path,
      JSON.stringify({
        name: 'mismatch',
        description: 'a sale the target does not hold',
        sale: { skus: [{ id: 'size-8', stock: 10 }], perUserLimit: 1 },
        buyers: { population: 100, arrival: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '0.5s' } },
        load: { workers: 1, maxDuration: '5s' },
      }),
    );
    const before = await call(service.url, 'GET', '/api/v1/inventory/size-8');
    const r = await flashsaleWith({}, 'run', path, '--target', service.url, '--out', join(dir, 'out'));
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('SKU "size-8": the target started its sale with 100 units, the scenario says 10');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // Refused before load: the target sold nothing more.
    expect((await call(service.url, 'GET', '/api/v1/inventory/size-8')).json).toEqual(before.json);
  });
});
