/**
 * Value serialisation for every topic: Avro bodies from schemas/, framed as the Confluent
 * wire format (magic byte 0, 4-byte big-endian schema id, Avro body). Without a schema
 * registry the ids are derived locally from each schema's fingerprint, so every process
 * agrees on them without coordination; a registry (issue: Kafka mode) plugs in behind the
 * same SchemaIds interface.
 */
export { createCodec, createCodecs, valueSubject } from './codecs.js';
export type { Codec, Codecs } from './codecs.js';
export { SerdeError } from './errors.js';
export { FRAME_HEADER_BYTES, FramedEncoder, MAGIC_BYTE, frame, readFrame } from './framing.js';
export { bigintLongType } from './long.js';
export type { RecordMapping } from './mapping.js';
export { LocalSchemaIds, REGISTRY_ID_LIMIT, localSchemaId } from './schema-ids.js';
export type { SchemaIds } from './schema-ids.js';
export { RegistrySchemaIds, createSchemaIds } from './registry-schema-ids.js';
export type { RegistrySchemaIdsOptions } from './registry-schema-ids.js';
export {
  HISTORY_DIR,
  exportSchema,
  SCHEMA_DIR,
  SCHEMA_NAMESPACE,
  SHARED_SCHEMAS,
  VALUE_SCHEMAS,
  loadAllSchemas,
  loadHistoricSchemas,
  loadSchema,
  parseSchema,
} from './schemas.js';
export type { ValueSchemaName } from './schemas.js';
