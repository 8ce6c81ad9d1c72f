/**
 * OTLP integer fields as they arrive from either encoding: JSON numbers, decimal strings (the
 * proto3 JSON mapping writes 64-bit integers as strings), bigints, or Long-like objects
 * ({ low, high, unsigned }) as protobuf decoders such as protobufjs produce for 64-bit fields.
 *
 * Each function returns the value or throws an OtlpValueError with an empty path.
 */
import { describe, OtlpValueError } from './value-error.js';

/** A 64-bit integer split into two 32-bit halves (the shape of long.js / protobufjs Long). */
export interface LongLike {
  readonly low: number;
  readonly high: number;
  readonly unsigned?: boolean;
}

/** Every integer input the converters accept. */
export type IntegerInput = number | string | bigint | LongLike;

const UINT64_MAX = 0xffff_ffff_ffff_ffffn;
const INT64_MIN = -0x8000_0000_0000_0000n;
const INT64_MAX = 0x7fff_ffff_ffff_ffffn;
const TWO_POW_64 = 2 ** 64;
const TWO_POW_63 = 2 ** 63;
const TWO_POW_32 = 2 ** 32;

/** Decimal integers, optionally signed; the length cap keeps BigInt() away from huge inputs. */
const SIGNED_DECIMAL = /^-?[0-9]{1,40}$/;
const UNSIGNED_DECIMAL = /^[0-9]{1,40}$/;
/** Numbers as the proto3 JSON mapping allows them in strings (no hex, no blanks). */
const DECIMAL_NUMBER = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

export function isLongLike(value: unknown): value is LongLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as LongLike).low === 'number' &&
    typeof (value as LongLike).high === 'number'
  );
}

function fromLong(value: LongLike): bigint {
  const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
  return value.unsigned === true ? bits : BigInt.asIntN(64, bits);
}

function notInteger(value: unknown): OtlpValueError {
  return new OtlpValueError(`expected an integer (number or decimal string), got ${describe(value)}`);
}

/** uint64 / fixed64 fields: timestamps. */
export function toUint64(value: unknown): bigint {
  let result: bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw notInteger(value);
    if (value < 0) throw new OtlpValueError(`must not be negative, got ${describe(value)}`);
    if (value >= TWO_POW_64) throw new OtlpValueError(`out of the uint64 range, got ${describe(value)}`);
    return BigInt(value);
  }
  if (typeof value === 'string') {
    if (!UNSIGNED_DECIMAL.test(value)) {
      if (SIGNED_DECIMAL.test(value)) throw new OtlpValueError(`must not be negative, got ${describe(value)}`);
      throw notInteger(value);
    }
    result = BigInt(value);
  } else if (typeof value === 'bigint') {
    result = value;
  } else if (isLongLike(value)) {
    result = fromLong(value);
  } else {
    throw notInteger(value);
  }
  if (result < 0n) throw new OtlpValueError(`must not be negative, got ${describe(value)}`);
  if (result > UINT64_MAX) throw new OtlpValueError(`out of the uint64 range, got ${describe(value)}`);
  return result;
}

/** int64 fields: AnyValue.intValue. */
export function toInt64(value: unknown): bigint {
  let result: bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw notInteger(value);
    if (value < -TWO_POW_63 || value >= TWO_POW_63) throw new OtlpValueError(`out of the int64 range, got ${describe(value)}`);
    return BigInt(value);
  }
  if (typeof value === 'string') {
    if (!SIGNED_DECIMAL.test(value)) throw notInteger(value);
    result = BigInt(value);
  } else if (typeof value === 'bigint') {
    result = value;
  } else if (isLongLike(value)) {
    result = fromLong(value);
    if (value.unsigned === true) result = BigInt.asIntN(64, result);
  } else {
    throw notInteger(value);
  }
  if (result < INT64_MIN || result > INT64_MAX) throw new OtlpValueError(`out of the int64 range, got ${describe(value)}`);
  return result;
}

/** uint32 / fixed32 fields: flags, dropped counts. Absent (null/undefined) is 0. */
export function toUint32(value: unknown): number {
  if (value == null) return 0;
  let result: number;
  if (typeof value === 'number') result = value;
  else if (typeof value === 'string' && UNSIGNED_DECIMAL.test(value)) result = Number(value);
  else if (typeof value === 'bigint') result = Number(value);
  else if (isLongLike(value)) result = Number(fromLong(value));
  else throw notInteger(value);
  if (!Number.isInteger(result)) throw notInteger(value);
  if (result < 0 || result >= TWO_POW_32) throw new OtlpValueError(`out of the uint32 range, got ${describe(value)}`);
  return result;
}

/**
 * double fields: AnyValue.doubleValue. Numbers, and strings as the proto3 JSON mapping allows:
 * "NaN", "Infinity", "-Infinity" and decimal numbers.
 */
export function toDouble(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === 'NaN') return Number.NaN;
    if (value === 'Infinity') return Number.POSITIVE_INFINITY;
    if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
    if (DECIMAL_NUMBER.test(value)) return Number(value);
  }
  throw new OtlpValueError(`expected a number (or "NaN", "Infinity", "-Infinity"), got ${describe(value)}`);
}
