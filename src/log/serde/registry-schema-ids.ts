/**
 * Schema ids from a Confluent-compatible schema registry (Confluent Schema Registry, or
 * Apicurio Registry's `/apis/ccompat/v7`), through @kafkajs/confluent-schema-registry.
 *
 * The wire format does not change: magic byte 0, the registry's 4-byte schema id, the Avro
 * body. Values written with these ids are readable by any consumer with a Confluent Avro
 * deserializer pointed at the same registry. Writer schemas fetched by id are parsed with
 * the same parseSchema as local ids (bigint longs, unions of null and one type unwrapped),
 * so a value decodes to the same JavaScript value whichever SchemaIds wrote it.
 *
 * Values framed with locally derived ids (written by a process without a registry, e.g.
 * before the registry was introduced) decode too: an id the registry does not have (404)
 * that is the local id of one of this version's schemas or their history resolves to that
 * schema. The registry is asked first and wins: its ids count up from 1, local ids are
 * 31-bit hashes none of which is below REGISTRY_ID_LIMIT (2^20), so the two meet only in
 * a registry holding over a million schemas.
 */
import avro from 'avsc';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { SerdeError } from './errors.js';
import { LocalSchemaIds, REGISTRY_ID_LIMIT, type SchemaIds } from './schema-ids.js';
import { exportSchema, parseSchema } from './schemas.js';

export interface RegistrySchemaIdsOptions {
  /**
   * Compatibility level set on a subject when this client registers its first schema;
   * registering under a subject already set to another level fails. Default BACKWARD.
   */
  compatibility?: COMPATIBILITY;
  /** Sent as the client id (User-Agent) of every request. */
  clientId?: string;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number') return err.status;
  return undefined;
}

function nameOf(type: avro.Type): string {
  return type.name ?? type.typeName;
}

/** The schema as registered: every shared named type inlined, docs and defaults kept. */
function schemaText(type: avro.Type): string {
  return JSON.stringify(exportSchema(type));
}

/**
 * Registers each (subject, schema) once and remembers the id; fetches each writer schema by
 * id once and remembers it. A failed request is not remembered, so it is tried again.
 */
export class RegistrySchemaIds implements SchemaIds {
  /** The registry's base URL, e.g. http://127.0.0.1:8080/apis/ccompat/v7. */
  readonly url: string;
  private readonly registry: SchemaRegistry;
  private readonly compatibility: COMPATIBILITY;
  private readonly ids = new Map<string, Promise<number>>();
  private readonly types = new Map<number, Promise<avro.Type>>();
  /** Locally derived ids, for values written without a registry. */
  private readonly local = new LocalSchemaIds();

  constructor(url: string, options: RegistrySchemaIdsOptions = {}) {
    this.url = url.replace(/\/+$/, '');
    this.registry = new SchemaRegistry({ host: this.url, ...(options.clientId === undefined ? {} : { clientId: options.clientId }) });
    this.compatibility = options.compatibility ?? COMPATIBILITY.BACKWARD;
  }

  idFor(subject: string, schema: avro.Type): Promise<number> {
    const key = `${subject}\u0000${schema.fingerprint('sha256').toString('hex')}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.register(subject, schema);
      id.catch(() => this.ids.delete(key));
      this.ids.set(key, id);
    }
    return id;
  }

  typeFor(id: number): Promise<avro.Type> {
    let type = this.types.get(id);
    if (type === undefined) {
      type = this.fetch(id);
      type.catch(() => this.types.delete(id));
      this.types.set(id, type);
    }
    return type;
  }

  private async register(subject: string, schema: avro.Type): Promise<number> {
    const confluentSchema = { type: SchemaType.AVRO, schema: schemaText(schema) } as const;
    let id: number;
    try {
      // A schema already under the subject is only looked up: registering checks (and on a
      // new subject sets) the subject's compatibility level, which needs write access.
      id = await this.registry.getRegistryIdBySchema(subject, confluentSchema);
    } catch (lookupError) {
      // The library turns the registry's 404 (no such subject or schema) into a plain
      // ConfluentSchemaRegistryError and rethrows everything else (network errors, 5xx, 401)
      // as it came, with its HTTP status if any.
      if (!isNotFound(lookupError)) {
        throw new Error(`schema registry ${this.url}: cannot look up ${nameOf(schema)} under ${subject}: ${messageOf(lookupError)}`, {
          cause: lookupError,
        });
      }
      try {
        ({ id } = await this.registry.register(confluentSchema, { subject, compatibility: this.compatibility }));
      } catch (err) {
        // Processes starting together race to register the same schema; the loser finds
        // the subject (and its compatibility rule) already there. Look again before failing.
        const registered = await this.registry.getRegistryIdBySchema(subject, confluentSchema).catch(() => null);
        if (registered === null) {
          throw new Error(`schema registry ${this.url}: cannot register ${nameOf(schema)} under ${subject}: ${messageOf(err)}`, { cause: err });
        }
        id = registered;
      }
    }
    // The registry answers with the type this process already has: no need to fetch it back.
    if (!this.types.has(id)) this.types.set(id, Promise.resolve(schema));
    return id;
  }

  private async fetch(id: number): Promise<avro.Type> {
    let fetched: unknown;
    try {
      fetched = await this.registry.getSchema(id);
    } catch (err) {
      if (statusOf(err) === 404) {
        // Written by a process without a registry: a locally derived id.
        const local = await this.local.find(id);
        if (local !== null) return local;
        const hint =
          id < REGISTRY_ID_LIMIT
            ? 'is this the registry the other processes of the deployment use?'
            : 'written with a schema this version does not have, or through another registry?';
        throw new SerdeError(`unknown schema id ${id}: the schema registry ${this.url} has no schema with this id, and it is not the locally derived id of any schema of this version (${hint})`, { cause: err });
      }
      throw new Error(`schema registry ${this.url}: cannot fetch schema id ${id}: ${messageOf(err)}`, { cause: err });
    }
    // The library parses what it fetches with its own options; re-parse the same schema the
    // way tracefold's codecs read every value.
    if (!isAvroType(fetched)) throw new SerdeError(`schema id ${id} in the schema registry ${this.url} is not an Avro schema`);
    try {
      return parseSchema(fetched.schema({ exportAttrs: true }));
    } catch (err) {
      throw new SerdeError(`schema id ${id} in the schema registry ${this.url} cannot be parsed: ${messageOf(err)}`, { cause: err });
    }
  }
}

function isAvroType(value: unknown): value is avro.Type {
  return avro.Type.isType(value);
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConfluentSchemaRegistryError' && statusOf(err) === undefined;
}

/**
 * The SchemaIds of a process: a schema registry at `url` (TRACEFOLD_SCHEMA_REGISTRY_URL), or
 * locally derived ids when there is none.
 */
export function createSchemaIds(url: string | null, options: RegistrySchemaIdsOptions = {}): SchemaIds {
  return url === null ? new LocalSchemaIds() : new RegistrySchemaIds(url, options);
}
