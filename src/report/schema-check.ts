// A small validator for the subset of JSON Schema that schemas/result.schema.json uses (type, const,
// enum, minimum, exclusiveMinimum, required, properties, additionalProperties, items, local $ref).
// It lets readResult check a file against the shipped schema itself, with no extra dependency, and
// name the field that is wrong.
import { readFileSync } from 'node:fs';

/** Every keyword this checker applies (annotations aside); the tests hold the shipped schema to it. */
export const SUPPORTED_KEYWORDS = ['$ref', 'type', 'const', 'enum', 'minimum', 'exclusiveMinimum', 'required', 'properties', 'additionalProperties', 'items', '$defs'] as const;
export const ANNOTATIONS = ['$schema', '$id', 'title', 'description'] as const;

export interface Schema {
  $ref?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  exclusiveMinimum?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  $defs?: Record<string, Schema>;
}

export interface SchemaIssue {
  /** Dotted path from the document root, e.g. 'counts.byOutcome.success' or 'intervals.sent[3]'. */
  path: string;
  message: string;
}

const SCHEMA_URL = new URL('../../schemas/result.schema.json', import.meta.url);
let resultSchema: Schema | undefined;

export function loadResultSchema(): Schema {
  resultSchema ??= JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Schema;
  return resultSchema;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  if (type === 'integer') return Number.isInteger(value);
  if (type === 'number') return typeof value === 'number' && Number.isFinite(value);
  return typeOf(value) === type;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function resolve(root: Schema, ref: string): Schema {
  const m = /^#\/\$defs\/(.+)$/.exec(ref);
  const target = m ? root.$defs?.[m[1]] : undefined;
  if (!target) throw new TypeError(`schema: unresolvable $ref ${ref}`);
  return target;
}

function check(value: unknown, schema: Schema, root: Schema, path: string, issues: SchemaIssue[], limit: number): void {
  if (issues.length >= limit) return;
  if (schema.$ref) {
    check(value, resolve(root, schema.$ref), root, path, issues, limit);
  }
  const at = path || '(root)';
  if ('const' in schema && value !== schema.const) {
    issues.push({ path: at, message: `must be ${JSON.stringify(schema.const)}, found ${JSON.stringify(value)}` });
    return;
  }
  if (schema.enum && !schema.enum.includes(value as never)) {
    issues.push({ path: at, message: `must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, found ${JSON.stringify(value)}` });
    return;
  }
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => hasType(value, t))) {
      issues.push({ path: at, message: `must be ${types.join(' or ')}, found ${value === undefined ? 'nothing' : typeOf(value)}` });
      return;
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) issues.push({ path: at, message: `must be ≥ ${schema.minimum}, found ${value}` });
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) issues.push({ path: at, message: `must be > ${schema.exclusiveMinimum}, found ${value}` });
  }
  if (Array.isArray(value) && schema.items) {
    for (let i = 0; i < value.length && issues.length < limit; i++) check(value[i], schema.items, root, join(path, i), issues, limit);
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (!(key in obj)) issues.push({ path: join(path, key), message: 'is missing' });
    }
    for (const [key, v] of Object.entries(obj)) {
      const sub = schema.properties?.[key];
      if (sub) check(v, sub, root, join(path, key), issues, limit);
      else if (schema.additionalProperties === false) issues.push({ path: join(path, key), message: 'is not a known field' });
      else if (typeof schema.additionalProperties === 'object') check(v, schema.additionalProperties, root, join(path, key), issues, limit);
    }
  }
}

/** Checks `value` against `schema` (default: the result.json schema); returns at most `limit` issues. */
export function validate(value: unknown, schema: Schema = loadResultSchema(), limit = 20): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  check(value, schema, schema, '', issues, limit);
  return issues;
}
