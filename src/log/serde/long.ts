/**
 * Avro `long` as a JavaScript bigint. avsc's default long type decodes to number and
 * cannot hold int64 values beyond 2^53 (nanosecond timestamps, OTLP int attributes), so
 * every long in tracefold's schemas goes through this type; the mapping layer turns
 * the fields the model keeps as numbers back into numbers, checking they are exact.
 */
import avro from 'avsc';

const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;
// Below this magnitude the zig-zag value stays under 2^53, so plain numbers encode it.
const SMALL = 2n ** 51n;
const TWO_POW_7 = 128;

function isInt64(value: unknown): value is bigint {
  return typeof value === 'bigint' && value >= MIN_INT64 && value <= MAX_INT64;
}

// The varint is copied out by avsc right away, so one scratch buffer serves every write.
const scratch = Buffer.alloc(10);

/** Zig-zag varint bytes of an int64 (the Avro binary encoding of a long). */
function toVarint(value: bigint): Buffer {
  let i = 0;
  if (value > -SMALL && value < SMALL) {
    const n = Number(value);
    let z = n >= 0 ? n * 2 : -n * 2 - 1;
    while (z >= TWO_POW_7) {
      scratch[i++] = (z % TWO_POW_7) | 0x80;
      z = Math.floor(z / TWO_POW_7);
    }
    scratch[i++] = z;
  } else {
    let z = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
    while (z >= 128n) {
      scratch[i++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    scratch[i++] = Number(z);
  }
  return scratch.subarray(0, i);
}

/** Inverse of toVarint; `bytes` holds exactly one varint. */
function fromVarint(bytes: Buffer): bigint {
  if (bytes.length <= 7) {
    // At most 49 bits: exact in a double.
    let z = 0;
    let scale = 1;
    for (const byte of bytes) {
      z += (byte & 0x7f) * scale;
      scale *= TWO_POW_7;
    }
    return BigInt(z % 2 === 0 ? z / 2 : -(z + 1) / 2);
  }
  let z = 0n;
  let shift = 0n;
  for (const byte of bytes) {
    z |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
  }
  z = BigInt.asUintN(64, z);
  return BigInt.asIntN(64, (z >> 1n) ^ -(z & 1n));
}

/**
 * avsc hands this type the raw varint bytes (noUnpack) and writes back what toBuffer
 * returns, so the conversion to and from bigint happens in one step.
 */
export const bigintLongType: avro.types.LongType = avro.types.LongType.__with(
  {
    fromBuffer: fromVarint,
    toBuffer: toVarint,
    // JSON text cannot carry a bigint: safe values become numbers, others decimal strings,
    // and both parse back exactly (avsc's clone goes through these two).
    fromJSON: (value: unknown): bigint => {
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number' || typeof value === 'string') return BigInt(value);
      throw new TypeError(`not a long: ${String(value)}`);
    },
    toJSON: (value: bigint): number | string => {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : value.toString();
    },
    isValid: isInt64,
    compare: (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0),
  },
  true,
);
