/**
 * The Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian integer,
 * then the Avro binary body. Any Kafka tool with a Confluent deserializer can read it.
 */
import type avro from 'avsc';
import { SerdeError } from './errors.js';

export const MAGIC_BYTE = 0;
export const FRAME_HEADER_BYTES = 5;

function checkSchemaId(schemaId: number): void {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) {
    throw new SerdeError(`schema id ${schemaId} is not a non-negative 32-bit integer`);
  }
}

export function frame(schemaId: number, body: Buffer): Buffer {
  checkSchemaId(schemaId);
  const framed = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  framed.writeUInt8(MAGIC_BYTE, 0);
  framed.writeInt32BE(schemaId, 1);
  body.copy(framed, FRAME_HEADER_BYTES);
  return framed;
}

/** Splits a framed value into its schema id and Avro body (a view, not a copy). */
export function readFrame(buffer: Buffer): { schemaId: number; body: Buffer } {
  if (buffer.length < FRAME_HEADER_BYTES) {
    throw new SerdeError(
      `value is ${buffer.length} bytes, shorter than the ${FRAME_HEADER_BYTES}-byte header (magic byte 0, 4-byte schema id)`,
    );
  }
  const magic = buffer.readUInt8(0);
  if (magic !== MAGIC_BYTE) {
    throw new SerdeError(
      `value starts with byte 0x${magic.toString(16).padStart(2, '0')}, not the magic byte 0x00 of the Confluent wire format ` +
        '(was it written by another serializer, e.g. as JSON?)',
    );
  }
  return { schemaId: buffer.readInt32BE(1), body: buffer.subarray(FRAME_HEADER_BYTES) };
}

const INITIAL_SCRATCH_BYTES = 16 * 1024;
// Larger values (big traces) get a buffer of their own rather than pinning one forever.
const MAX_SCRATCH_BYTES = 1024 * 1024;

/**
 * Writes framed values of one schema. The body is encoded straight after the header in a
 * reusable buffer and copied out once; avsc's own toBuffer encodes any value over its
 * 1 KiB internal buffer twice, and most spans are larger than that.
 */
export class FramedEncoder {
  private scratch = Buffer.allocUnsafe(INITIAL_SCRATCH_BYTES);

  constructor(
    private readonly type: avro.Type,
    private readonly schemaId: number,
  ) {
    checkSchemaId(schemaId);
  }

  /** Throws avsc's error when `record` does not match the schema. */
  encode(record: unknown): Buffer {
    let end = this.type.encode(record, this.scratch, FRAME_HEADER_BYTES);
    if (end < 0) {
      // encode() returns minus the number of missing bytes.
      const size = this.scratch.length - end;
      if (size > MAX_SCRATCH_BYTES) return this.writeHeader(this.encodeInto(Buffer.allocUnsafe(size), record));
      this.scratch = Buffer.allocUnsafe(Math.min(MAX_SCRATCH_BYTES, Math.max(size, 2 * this.scratch.length)));
      end = this.type.encode(record, this.scratch, FRAME_HEADER_BYTES);
    }
    this.writeHeader(this.scratch);
    return Buffer.from(this.scratch.subarray(0, end));
  }

  private encodeInto(buffer: Buffer, record: unknown): Buffer {
    this.type.encode(record, buffer, FRAME_HEADER_BYTES);
    return buffer;
  }

  private writeHeader(buffer: Buffer): Buffer {
    buffer.writeUInt8(MAGIC_BYTE, 0);
    buffer.writeInt32BE(this.schemaId, 1);
    return buffer;
  }
}
