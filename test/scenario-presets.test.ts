// Every shipped preset validates, says where its figures come from, and becomes a plan.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validatePlan } from '../src/load/validate.ts';
import { parseSale } from '../src/service/index.ts';
import { loadScenario, presetNames, toLoadPlan, toSaleDefinition } from '../src/scenario/index.ts';
import { JSON_SCHEMA_PATH, scenarioJsonSchemaText } from '../src/scenario/json-schema.ts';

describe('presets', () => {
  it('ships the required presets', () => {
    expect(presetNames()).toEqual(expect.arrayContaining(['redmi-1s-india-2014', 'redmi-1s-sep-2014', 'doorbuster-many-sku', 'sneaker-drop', 'ticket-onsale']));
  });

  for (const name of presetNames()) {
    it(`${name}: validates, cites its sources, and maps to a plan and a sale`, () => {
      const { scenario, raw } = loadScenario(name);
      expect(scenario.name).toBe(name);
      expect((raw as { $schema?: string }).$schema).toBe('./scenario.schema.json');
      expect(scenario.sources?.facts.length).toBeGreaterThan(0);
      expect(scenario.sources?.assumptions.length).toBeGreaterThan(0);
      const plan = toLoadPlan(scenario, { targetUrl: 'http://127.0.0.1:1' });
      expect(plan.skus.ids).toEqual(scenario.sale.skus.map((s) => s.id));
      expect(() => validatePlan(plan)).not.toThrow();
      const sale = toSaleDefinition(scenario, null);
      expect(sale.skus.length).toBe(scenario.sale.skus.length);
      expect(() => parseSale(sale)).not.toThrow();
    });
  }
});

describe('scenarios/scenario.schema.json', () => {
  it('is up to date with the zod schema (regenerate: node src/scenario/write-json-schema.ts)', () => {
    expect(readFileSync(JSON_SCHEMA_PATH, 'utf8')).toBe(scenarioJsonSchemaText());
  });

  it('is strict about unknown fields and describes durations', () => {
    const schema = JSON.parse(scenarioJsonSchemaText());
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['name', 'description', 'sale', 'buyers']);
    expect(JSON.stringify(schema.properties.load.properties.maxDuration)).toMatch(/ms\|s\|m\|h/);
  });
});
