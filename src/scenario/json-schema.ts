// The JSON Schema shipped as scenarios/scenario.schema.json, generated from the zod schema so the
// two never disagree. It describes the file as written (defaults optional), hence io: 'input'.
import { z } from 'zod';
import { ScenarioSchema } from './schema.ts';

export const JSON_SCHEMA_PATH = new URL('../../scenarios/scenario.schema.json', import.meta.url);

export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ScenarioSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>; // a JSON Schema object, written out as JSON
}

/** The file's exact text: stable key order, two-space indent, trailing newline. */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
