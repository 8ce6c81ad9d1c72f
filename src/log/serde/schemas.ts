/**
 * Loading the Avro schemas of schemas/.
 *
 * Topic value schemas may embed named types defined in a shared file (the canonical span
 * is embedded by both raw-event and trace-record), so a shared file is parsed first and
 * its types are referenced by name. The parsed type of a topic schema is complete:
 * `type.schema()` inlines every shared definition, and its fingerprint covers them.
 */
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { Schema } from 'avsc';
import { SerdeError } from './errors.js';
import { bigintLongType } from './long.js';

/** schemas/ at the package root; the same relative path holds from src/ (tsx, vitest) and dist/. */
export const SCHEMA_DIR: URL = new URL('../../../schemas/', import.meta.url);

export const SCHEMA_NAMESPACE = 'dev.tracefold.v1';

/** Files defining named types that other schemas embed; they are not topic values themselves. */
export const SHARED_SCHEMAS: readonly string[] = ['canonical-span'];

/** The topic value schemas, by file name without `.avsc`. */
export const VALUE_SCHEMAS = [
  'raw-event',
  'trace-record',
  'detection',
  'trace-metrics',
  'feedback',
  'tenant-event',
  'session-record',
  'tenant-stage-event',
  'audit-record',
  'calibration',
  'baseline',
] as const;
export type ValueSchemaName = (typeof VALUE_SCHEMAS)[number];

const SCHEMA_NAME = /^[a-z0-9][a-z0-9-]*$/;

function isLongSchema(schema: Schema): boolean {
  if (schema === 'long') return true;
  // Object form ({"type": "long", ...}) bypasses avsc's registry, so it is matched here too.
  return typeof schema === 'object' && !Array.isArray(schema) && !avro.Type.isType(schema) && 'type' in schema && schema.type === 'long';
}

/**
 * Parses an Avro schema the way every tracefold codec reads and writes it: longs are
 * bigints (see long.ts), unions of null and one type are plain nullable values, other
 * unions are wrapped ({branchName: value}). Named types already in `registry` can be
 * referenced; new ones are added to it.
 */
export function parseSchema(schema: Schema, registry: Record<string, avro.Type> = {}): avro.Type {
  return avro.Type.forSchema(schema, {
    registry,
    wrapUnions: 'auto',
    typeHook: (s) => (isLongSchema(s) ? bigintLongType : undefined),
  });
}

function fileOf(name: string, dir: URL): URL {
  if (!SCHEMA_NAME.test(name)) throw new SerdeError(`invalid schema name "${name}": expected lowercase letters, digits and dashes`);
  return new URL(`${name}.avsc`, dir);
}

async function readSchemaFile(name: string, dir: URL): Promise<Schema> {
  const file = fileOf(name, dir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SerdeError(`schema "${name}": cannot read ${fileURLToPath(file)}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as Schema;
  } catch (err) {
    throw new SerdeError(`schema "${name}": ${fileURLToPath(file)} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

function parseFile(name: string, schema: Schema, dir: URL, registry: Record<string, avro.Type>): avro.Type {
  try {
    return parseSchema(schema, registry);
  } catch (err) {
    const file = fileURLToPath(fileOf(name, dir));
    throw new SerdeError(`schema "${name}": ${file} is not a valid Avro schema: ${(err as Error).message}`, { cause: err });
  }
}

/** Loads `<dir>/<name>.avsc` (default: schemas/), with the shared types it may embed. */
export async function loadSchema(name: string, dir: URL = SCHEMA_DIR): Promise<avro.Type> {
  const registry: Record<string, avro.Type> = {};
  for (const shared of SHARED_SCHEMAS) {
    if (shared !== name) parseFile(shared, await readSchemaFile(shared, dir), dir, registry);
  }
  return parseFile(name, await readSchemaFile(name, dir), dir, registry);
}

/** Every `.avsc` file of `dir` (default: schemas/), by name without the extension, in name order. */
export async function loadAllSchemas(dir: URL = SCHEMA_DIR): Promise<Map<string, avro.Type>> {
  const names = (await readdir(dir))
    .filter((file) => file.endsWith('.avsc'))
    .map((file) => file.slice(0, -'.avsc'.length))
    .sort();
  const types = new Map<string, avro.Type>();
  for (const name of names) types.set(name, await loadSchema(name, dir));
  return types;
}

/**
 * The schema as JSON, every shared type inlined, docs and defaults kept: what a registry
 * holds and what history files keep. avsc's own export leaves out enum defaults (it reads
 * them, but does not print them); they are put back, since a reader pinned to this schema
 * needs them to read a symbol added later.
 */
export function exportSchema(type: avro.Type): Schema {
  const defaults = new Map<string, string>();
  const seen = new Set<avro.Type>();
  const collect = (t: avro.Type): void => {
    if (seen.has(t)) return;
    seen.add(t);
    const node = t as unknown as { typeName: string; name?: string; default?: string; fields?: { type: avro.Type }[]; types?: avro.Type[]; itemsType?: avro.Type; valuesType?: avro.Type };
    if (node.typeName === 'enum' && node.name !== undefined && node.default !== undefined) defaults.set(node.name, node.default);
    for (const field of node.fields ?? []) collect(field.type);
    for (const branch of node.types ?? []) collect(branch);
    if (node.itemsType !== undefined) collect(node.itemsType);
    if (node.valuesType !== undefined) collect(node.valuesType);
  };
  collect(type);
  const restore = (node: unknown): void => {
    if (Array.isArray(node)) for (const item of node) restore(item);
    else if (typeof node === 'object' && node !== null) {
      const def = node as Record<string, unknown>;
      if (def.type === 'enum' && typeof def.name === 'string' && defaults.has(def.name)) def.default = defaults.get(def.name);
      for (const value of Object.values(def)) restore(value);
    }
  };
  const schema = type.schema({ exportAttrs: true });
  restore(schema);
  return schema;
}

/**
 * Earlier versions of the value schemas, kept so that values written with them (in the
 * embedded log, or replayed from tracefold.raw.v1) stay readable after a schema changes:
 * `<dir>/history/<name>.<local id>.avsc`, each a complete composed schema (shared types
 * inlined), as `exportSchema(type)` prints it. A reader resolves such a
 * value against the current schema (Avro schema resolution), so a change must stay
 * resolvable (add enum symbols and defaulted fields; never rename or retype).
 */
export const HISTORY_DIR = 'history/';

const HISTORY_FILE = /^([a-z0-9][a-z0-9-]*)\.(\d+)\.avsc$/;

/** Every historic schema of `dir` (default: schemas/), checked against the id in its file name. */
export async function loadHistoricSchemas(dir: URL = SCHEMA_DIR): Promise<avro.Type[]> {
  const historyDir = new URL(HISTORY_DIR, dir);
  let files: string[];
  try {
    files = await readdir(historyDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const types: avro.Type[] = [];
  for (const file of files.sort()) {
    const m = HISTORY_FILE.exec(file);
    if (m === null) continue;
    const url = new URL(file, historyDir);
    let type: avro.Type;
    try {
      type = parseSchema(JSON.parse(await readFile(url, 'utf8')) as Schema);
    } catch (err) {
      throw new SerdeError(`historic schema ${fileURLToPath(url)} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    const id = type.fingerprint('sha256').readUInt32BE(0) & 0x7fffffff;
    if (String(id) !== m[2]) throw new SerdeError(`historic schema ${fileURLToPath(url)} derives id ${id}, not the ${m[2]} its name says`);
    types.push(type);
  }
  return types;
}
