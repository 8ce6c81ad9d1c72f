/**
 * OTLP AnyValue / KeyValue conversion, shared by the OTLP decoders. Accepts the OTLP/JSON
 * field names (`stringValue`, `intValue`, ...), the proto names (`string_value`, ...) and the
 * shapes a protobuf decoder produces (Long-like ints, Uint8Array bytes). Every variant is kept
 * (the canonical span stores it at full fidelity); unknown extra fields are ignored.
 *
 * Hand-written rather than a schema parse: this runs for every attribute on the ingest hot
 * path. Failures throw an OtlpValueError whose path is relative to the value given.
 */
import type { AnyValue, KeyValue } from '../../model/span.js';
import { decodeBase64 } from './base64.js';
import { toDouble, toInt64 } from './numbers.js';
import { at, describe, isLoose, type Loose, OtlpValueError } from './value-error.js';

/** AnyValue nesting (arrays and kvlists inside values) deeper than this is rejected. */
export const MAX_ANY_VALUE_DEPTH = 32;

/** Shared, frozen: every absent value is this one object. */
export const EMPTY_VALUE: AnyValue = Object.freeze({ type: 'empty' });
/** Shared, frozen: every absent attribute list is this one array. */
export const NO_KEY_VALUES: readonly KeyValue[] = Object.freeze([]);

function expectString(value: unknown, key: string): AnyValue {
  if (typeof value !== 'string') throw new OtlpValueError(`expected a string, got ${describe(value)}`, key);
  return { type: 'string', value };
}

function expectBool(value: unknown, key: string): AnyValue {
  if (typeof value !== 'boolean') throw new OtlpValueError(`expected a boolean, got ${describe(value)}`, key);
  return { type: 'bool', value };
}

function expectInt(value: unknown, key: string): AnyValue {
  try {
    return { type: 'int', value: toInt64(value) };
  } catch (error) {
    throw at(error, key);
  }
}

function expectDouble(value: unknown, key: string): AnyValue {
  try {
    return { type: 'double', value: toDouble(value) };
  } catch (error) {
    throw at(error, key);
  }
}

function expectBytes(value: unknown, key: string): AnyValue {
  if (value instanceof Uint8Array) return { type: 'bytes', value };
  if (typeof value === 'string') {
    const bytes = decodeBase64(value);
    if (bytes !== undefined) return { type: 'bytes', value: bytes };
    throw new OtlpValueError(`expected base64, got ${describe(value)}`, key);
  }
  throw new OtlpValueError(`expected a base64 string, got ${describe(value)}`, key);
}

/** The `values` list of an ArrayValue or KeyValueList message. */
function valuesOf(container: unknown, key: string): readonly unknown[] | undefined {
  if (!isLoose(container)) throw new OtlpValueError(`expected an object, got ${describe(container)}`, key);
  const values = container.values;
  if (values == null) return undefined;
  if (!Array.isArray(values)) throw new OtlpValueError(`expected an array, got ${describe(values)}`, `${key}.values`);
  const list: readonly unknown[] = values;
  return list;
}

function expectArray(value: unknown, key: string, depth: number): AnyValue {
  const values = valuesOf(value, key);
  if (values === undefined || values.length === 0) return { type: 'array', values: [] };
  const out: AnyValue[] = new Array<AnyValue>(values.length);
  let i = 0;
  try {
    for (; i < values.length; i++) out[i] = convertAnyValue(values[i], depth + 1);
  } catch (error) {
    throw at(error, `${key}.values[${i}]`);
  }
  return { type: 'array', values: out };
}

function expectKvlist(value: unknown, key: string, depth: number): AnyValue {
  const values = valuesOf(value, key);
  if (values === undefined) return { type: 'kvlist', values: [] };
  try {
    return { type: 'kvlist', values: convertKeyValueList(values, depth + 1) };
  } catch (error) {
    throw at(error, `${key}.values`);
  }
}

/** The proto (snake_case) spellings, tried only when no OTLP/JSON spelling is present. */
function convertSnakeCase(o: Loose, depth: number): AnyValue {
  let v = o.string_value;
  if (v != null) return expectString(v, '.string_value');
  v = o.int_value;
  if (v != null) return expectInt(v, '.int_value');
  v = o.bool_value;
  if (v != null) return expectBool(v, '.bool_value');
  v = o.double_value;
  if (v != null) return expectDouble(v, '.double_value');
  v = o.array_value;
  if (v != null) return expectArray(v, '.array_value', depth);
  v = o.kvlist_value;
  if (v != null) return expectKvlist(v, '.kvlist_value', depth);
  v = o.bytes_value;
  if (v != null) return expectBytes(v, '.bytes_value');
  return EMPTY_VALUE;
}

/**
 * One AnyValue. `depth` is its nesting level (1 for an attribute's value). Absent or `{}` is
 * `{ type: 'empty' }`; when a producer sets several value fields, the first in the order
 * string, int, bool, double, array, kvlist, bytes wins.
 */
export function convertAnyValue(input: unknown, depth = 1): AnyValue {
  if (input == null) return EMPTY_VALUE;
  if (!isLoose(input)) throw new OtlpValueError(`expected an AnyValue object, got ${describe(input)}`);
  if (depth > MAX_ANY_VALUE_DEPTH) throw new OtlpValueError(`values nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  let v = input.stringValue;
  if (v != null) return expectString(v, '.stringValue');
  v = input.intValue;
  if (v != null) return expectInt(v, '.intValue');
  v = input.boolValue;
  if (v != null) return expectBool(v, '.boolValue');
  v = input.doubleValue;
  if (v != null) return expectDouble(v, '.doubleValue');
  v = input.arrayValue;
  if (v != null) return expectArray(v, '.arrayValue', depth);
  v = input.kvlistValue;
  if (v != null) return expectKvlist(v, '.kvlistValue', depth);
  v = input.bytesValue;
  if (v != null) return expectBytes(v, '.bytesValue');
  return convertSnakeCase(input, depth);
}

function convertKeyValue(kv: unknown, depth: number): KeyValue {
  if (!isLoose(kv)) throw new OtlpValueError(`expected a key/value object, got ${describe(kv)}`);
  const key = kv.key ?? '';
  if (typeof key !== 'string') throw new OtlpValueError(`expected a string, got ${describe(key)}`, '.key');
  try {
    return { key, value: convertAnyValue(kv.value, depth) };
  } catch (error) {
    throw at(error, '.value');
  }
}

function convertKeyValueList(list: readonly unknown[], depth: number): KeyValue[] {
  const out: KeyValue[] = new Array<KeyValue>(list.length);
  let i = 0;
  try {
    for (; i < list.length; i++) out[i] = convertKeyValue(list[i], depth);
  } catch (error) {
    throw at(error, `[${i}]`);
  }
  return out;
}

/**
 * A repeated KeyValue field (attributes, kvlist values). Absent is the shared empty list;
 * anything but an array is an error. `depth` is the nesting level of the values (1 for
 * attributes).
 */
export function convertKeyValues(input: unknown, depth = 1): readonly KeyValue[] {
  if (input == null) return NO_KEY_VALUES;
  if (!Array.isArray(input)) throw new OtlpValueError(`expected an array, got ${describe(input)}`);
  if (input.length === 0) return NO_KEY_VALUES;
  return convertKeyValueList(input, depth);
}
