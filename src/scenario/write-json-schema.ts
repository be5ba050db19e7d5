// Regenerates scenarios/scenario.schema.json: node src/scenario/write-json-schema.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JSON_SCHEMA_PATH, scenarioJsonSchemaText } from './json-schema.ts';

writeFileSync(JSON_SCHEMA_PATH, scenarioJsonSchemaText());
console.log(`wrote ${fileURLToPath(JSON_SCHEMA_PATH)}`);
