// Regenerates schemas/result.schema.json from the zod schema: node src/contract/write-result-schema.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resultJsonSchemaText } from './result.ts';

const path = fileURLToPath(new URL('../../schemas/result.schema.json', import.meta.url));
writeFileSync(path, resultJsonSchemaText());
console.log(`wrote ${path}`);
