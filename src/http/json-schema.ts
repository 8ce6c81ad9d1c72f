/**
 * JSON Schema (draft 2020-12, which OpenAPI 3.1 uses) from zod schemas, by zod's own
 * conversion: `input` is what a request schema accepts (defaults optional, the input side of
 * transforms), `output` is what an answer holds.
 *
 * Schemas given an id (`.meta({ id: 'Detection' })`) become named definitions. Standing alone
 * they stay under the schema's `$defs`; for the OpenAPI document, `components` collects them
 * and references point to `#/components/schemas/<id>` (a `$defs` reference would not resolve
 * inside the document).
 */
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;
export type SchemaIo = 'input' | 'output';

function convert(schema: z.ZodType, io: SchemaIo): JsonSchema {
  // Refinements have no JSON Schema form and are left out: zod still enforces them.
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any', reused: 'inline', cycles: 'ref' }) as JsonSchema;
  return json;
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, key === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/') ? `#/components/schemas/${v.slice('#/$defs/'.length)}` : rewriteRefs(v)]),
  );
}

/**
 * The JSON Schema of `schema`. With `components`, its named definitions move there (the same
 * name twice must be the same schema) and the result refers to them.
 */
export function jsonSchemaOf(schema: z.ZodType, io: SchemaIo, components?: Record<string, JsonSchema>): JsonSchema {
  const json = convert(schema, io);
  if (components === undefined) return json;
  const { $defs, ...rest } = json as JsonSchema & { $defs?: Record<string, JsonSchema> };
  for (const [name, def] of Object.entries($defs ?? {})) {
    const moved = rewriteRefs(def) as JsonSchema;
    const known = components[name];
    if (known !== undefined && JSON.stringify(known) !== JSON.stringify(moved)) throw new Error(`two different schemas are named ${name}`);
    components[name] = moved;
  }
  return rewriteRefs(rest) as JsonSchema;
}
