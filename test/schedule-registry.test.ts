// Every registered arrival shape round-trips through everything a shape provides, from its example as a
// person writes it: the scenario schema (through a whole scenario) → the plan spec → the schedule →
// the description → the k6 scenario. A new shape file, once listed in src/schedule/index.ts, is held
// to all of it without touching this test.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { arrivalShape, ARRIVAL_TYPES, createArrivals, SHAPES, shapeOf, toArrivalSpec, type ArrivalInput } from '../src/schedule/index.ts';
import { validateScenario } from '../src/scenario/index.ts';

describe('the arrival shape registry', () => {
  it('lists each shape once, under the word the scenario and the plan both use', () => {
    expect(new Set(ARRIVAL_TYPES).size).toBe(SHAPES.length);
    for (const shape of SHAPES) {
      expect(shape.example.executor).toBe(shape.type);
      expect(arrivalShape({ type: shape.type })).toBe(shape);
    }
  });

  for (const listed of SHAPES) {
    it(`round-trips ${listed.type}: schema → plan → schedule → description → k6`, () => {
      // The registry's lookup gives the shape with its general signature, as the rest of flashsale uses it.
      const shape = arrivalShape({ type: listed.type });
      // The schema, alone and inside a whole scenario (defaults applied, nothing else needed).
      const parsed = shape.schema(z).parse(shape.example);
      const scenario = validateScenario(
        { name: `shape-${shape.type}`, description: 'x', sale: { skus: [{ id: 'a', stock: 100 }], perUserLimit: 1 }, buyers: { population: 1000, arrival: shape.example } },
        'test',
      );
      const arrival = scenario.buyers.arrival as ArrivalInput;
      expect(arrival).toEqual(parsed);
      expect(shapeOf(arrival)).toBe(shape);
      expect(shape.check(arrival, (...p) => p.join('.'))).toEqual([]);
      // The k6 script fills in the same defaults without zod.
      expect(shape.withDefaults(shape.example)).toEqual(parsed);

      // The plan spec, which the engine's own checks accept.
      const spec = toArrivalSpec(arrival);
      expect(spec.type).toBe(shape.type);
      expect(arrivalShape(spec).validate(spec)).toEqual([]);

      // The schedule: ascending, finite, as many as the shape expects, the same for the same seed.
      const times: number[] = [];
      const stream = createArrivals(spec, 7);
      for (let t = stream.next(); t !== Infinity && times.length < 100_000; t = stream.next()) times.push(t);
      expect(times.length).toBeGreaterThan(0);
      expect(times.every((t, i) => Number.isFinite(t) && (i === 0 || t >= times[i - 1]))).toBe(true);
      // Exact for the even shapes; a random one (Poisson) is within a few standard deviations of it.
      const expected = shape.expectedArrivals(spec);
      expect(Math.abs(times.length - expected)).toBeLessThanOrEqual(5 * Math.sqrt(expected));
      const again = createArrivals(spec, 7);
      expect(times.slice(0, 10).map(() => again.next())).toEqual(times.slice(0, 10));

      // The description, and the k6 scenario it maps to.
      expect(shape.describe(arrival)).toMatch(new RegExp(`^${shape.type}: `));
      const k6 = shape.toK6(arrival, { maxDurationMs: 60_000, gracefulStop: '5000ms', preAllocatedVUs: 8, vusFor: () => 8 });
      expect(['constant-arrival-rate', 'ramping-arrival-rate', 'constant-vus']).toContain(k6.executor);
      expect(k6.exec).toBe('buyer');
    });
  }
});
