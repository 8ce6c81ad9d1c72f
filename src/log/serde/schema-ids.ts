/**
 * Schema ids for the Confluent wire format. Without a schema registry, ids are derived
 * from each schema's canonical form, so every process (and every replay) agrees on them
 * without coordination. A registry client implements the same interface.
 *
 * The two kinds of ids do not overlap in practice: a registry counts its ids up from 1, a
 * local id is a 31-bit hash, and none of the local ids of schemas/ (history included) is
 * below REGISTRY_ID_LIMIT. That is how a process tells which kind of id a value carries
 * (registry-schema-ids.ts, src/cli/schema-id-check.ts).
 */
import { fileURLToPath } from 'node:url';
import type avro from 'avsc';
import { SerdeError } from './errors.js';
import { loadAllSchemas, loadHistoricSchemas, SCHEMA_DIR } from './schemas.js';

export interface SchemaIds {
  /** The id under which values written with `schema` are framed, registering it if needed. */
  idFor(subject: string, schema: avro.Type): Promise<number>;
  /** The writer schema of a framed value; rejects when the id is unknown. */
  typeFor(id: number): Promise<avro.Type>;
}

/**
 * Ids below this are taken for a schema registry's: registries number their schemas from
 * 1 up, and no local id of this version's schemas or their history is this small (the
 * schema tests check it; a local id is below it with a chance of 1 in 2048 per schema).
 */
export const REGISTRY_ID_LIMIT = 2 ** 20;

/**
 * First four bytes of the SHA-256 of the schema's Parsing Canonical Form, as a positive
 * 31-bit integer (Confluent ids are signed 32-bit). Docs, defaults and field order
 * attributes do not change it; any change to names, types or field order does.
 */
export function localSchemaId(type: avro.Type): number {
  return type.fingerprint('sha256').readUInt32BE(0) & 0x7fffffff;
}

function describe(type: avro.Type): string {
  return type.name ?? type.typeName;
}

/**
 * Fingerprint-derived ids. Knows every schema of its directory (default: schemas/, read on
 * the first unknown id) and the earlier versions kept in its history/ folder, plus any schema
 * it was asked an id for, so it decodes every id that any process running these or earlier
 * schemas produced.
 */
export class LocalSchemaIds implements SchemaIds {
  private readonly byId = new Map<number, avro.Type>();
  private readonly dir: URL;
  private loading: Promise<void> | undefined;

  constructor(options: { dir?: URL; types?: Iterable<avro.Type> } = {}) {
    this.dir = options.dir ?? SCHEMA_DIR;
    for (const type of options.types ?? []) this.remember(type);
  }

  /** The subject plays no part: the same schema has the same id under every subject. */
  async idFor(_subject: string, schema: avro.Type): Promise<number> {
    return this.remember(schema);
  }

  async typeFor(id: number): Promise<avro.Type> {
    const type = await this.find(id);
    if (type === null) {
      const known = [...this.byId].map(([knownId, t]) => `${knownId} (${describe(t)})`).join(', ');
      throw new SerdeError(
        `unknown schema id ${id}: no schema in ${fileURLToPath(this.dir)} has this fingerprint-derived id (known: ${known}). ` +
          (id < REGISTRY_ID_LIMIT
            ? 'An id this small is a schema registry\'s: the value was written through one. Set TRACEFOLD_SCHEMA_REGISTRY_URL to the registry the other processes of the deployment use.'
            : 'The value was written with a schema this version does not have, or through a schema registry: every process of a deployment must set the same TRACEFOLD_SCHEMA_REGISTRY_URL, or none.'),
      );
    }
    return type;
  }

  /** The schema with this id, reading the directory if needed; null when none has it. */
  async find(id: number): Promise<avro.Type | null> {
    if (!this.byId.has(id)) await this.loadDirectory();
    return this.byId.get(id) ?? null;
  }

  /** Every id this instance decodes: the directory's schemas, their history, and any other it was given. */
  async knownIds(): Promise<ReadonlySet<number>> {
    await this.loadDirectory();
    return new Set(this.byId.keys());
  }

  private loadDirectory(): Promise<void> {
    this.loading ??= Promise.all([loadAllSchemas(this.dir), loadHistoricSchemas(this.dir)]).then(
      ([types, historic]) => {
        for (const type of types.values()) this.remember(type);
        // Earlier versions, so values already written with them still decode.
        for (const type of historic) this.remember(type);
      },
      (err: unknown) => {
        this.loading = undefined;
        throw err;
      },
    );
    return this.loading;
  }

  private remember(type: avro.Type): number {
    const id = localSchemaId(type);
    const known = this.byId.get(id);
    if (known === undefined) this.byId.set(id, type);
    else if (!known.equals(type)) {
      // 2^-31 per pair of schemas; renaming or reordering a field would change the id.
      throw new SerdeError(`schema id collision: ${describe(type)} and ${describe(known)} both derive id ${id}`);
    }
    return id;
  }
}
