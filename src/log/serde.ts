/**
 * Value serialisation for every topic: Avro bodies from schemas/, framed as the Confluent
 * wire format (magic byte 0, 4-byte big-endian schema id, Avro body). Without a schema
 * registry the ids are derived locally from each schema's fingerprint, so every process
 * agrees on them without coordination; a registry (issue: Kafka mode) plugs in behind the
 * same SchemaIds interface.
 */
export interface Codec<T> {
  readonly subject: string;
  encode(value: T): Promise<Buffer>;
  decode(buffer: Buffer): Promise<T>;
}
