// `flashsale scenarios`: lists presets, validates one file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInProcess as cli } from './helpers/cli.ts';

describe('flashsale scenarios', () => {
  it('lists every preset with its units and arrival shape', async () => {
    const r = await cli('scenarios');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^name\s+units\s+arrival\s+description/);
    expect(r.out).toMatch(/redmi-1s-india-2014\s+90,000\s+flash-crowd: 300,000 waiting/);
    expect(r.out).toMatch(/doorbuster-many-sku\s+7,150\s+ramping-arrival-rate/);
  });

  it('lists presets as JSON', async () => {
    const r = await cli('scenarios', '--json');
    const rows = JSON.parse(r.out) as Array<{ name: string; units: number; executor: string; description: string }>;
    expect(rows.find((x) => x.name === 'redmi-1s-india-2014')).toMatchObject({ units: 90_000, executor: 'flash-crowd', perUserLimit: 1 });
    expect(rows.every((x) => x.description.length > 0)).toBe(true);
  });

  it('validates a file and exits 2 naming every problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flashsale-scn-'));
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'bad',
        description: 'x',
        sale: { skus: [{ id: 'a', stock: 5 }], perUserLimit: 1 },
        buyers: { population: 5, arrival: { executor: 'ramping-arrival-rate', stages: [{ duration: '1s', target: -1 }] }, botShare: 0.5 },
      }),
    );
    const r = await cli('scenarios', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain('buyers.arrival.stages[0].target: must be ≥ 0');
    expect(r.err).toContain('buyers.botShare: unknown field');
  });

  it('shows a valid scenario', async () => {
    const r = await cli('scenarios', 'ticket-onsale');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ticket-onsale: valid/);
    expect(r.out).toMatch(/20,000 units over 3 SKUs, 4 per user/);
  });
});
