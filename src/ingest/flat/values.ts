/**
 * Plain JSON → typed OTLP AnyValues, for the JSON-native ingest APIs (flat spans, session
 * events) whose producers send attributes as ordinary JSON rather than OTLP's tagged
 * values:
 *
 *   string → string, boolean → bool, null → empty,
 *   integer (a safe JavaScript integer) → int, any other number → double,
 *   array → array, object → kvlist (keys in the order sent).
 *
 * JSON cannot tell 1.0 from 1: both arrive as the number 1 and become an int. Nesting
 * deeper than MAX_JSON_DEPTH is kept as its JSON text (a string) rather than refused, so
 * nothing a producer sent is lost.
 */
import type { AnyValue, KeyValue } from '../../model/span.js';

export const MAX_JSON_DEPTH = 32;

const EMPTY: AnyValue = Object.freeze({ type: 'empty' });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One JSON value as an AnyValue; `depth` is its nesting level (1 for an attribute's value). */
export function jsonToAnyValue(value: unknown, depth = 1): AnyValue {
  if (value === null || value === undefined) return EMPTY;
  switch (typeof value) {
    case 'string':
      return { type: 'string', value };
    case 'boolean':
      return { type: 'bool', value };
    case 'number':
      return Number.isSafeInteger(value) ? { type: 'int', value: BigInt(value) } : { type: 'double', value };
    case 'bigint':
      return { type: 'int', value: BigInt.asIntN(64, value) };
    default:
      break;
  }
  if (depth > MAX_JSON_DEPTH) return { type: 'string', value: JSON.stringify(value) ?? '' };
  if (Array.isArray(value)) return { type: 'array', values: value.map((v) => jsonToAnyValue(v, depth + 1)) };
  if (isPlainObject(value)) return { type: 'kvlist', values: jsonToKeyValues(value, depth + 1) };
  return { type: 'string', value: JSON.stringify(value) ?? '' };
}

/** The entries of a JSON object as key/values, nested objects kept as kvlists. */
export function jsonToKeyValues(object: Readonly<Record<string, unknown>>, depth = 1): KeyValue[] {
  return Object.entries(object)
    .filter(([, v]) => v !== undefined)
    .map(([key, v]) => ({ key, value: jsonToAnyValue(v, depth) }));
}

/** A string attribute. */
export function stringAttr(key: string, value: string): KeyValue {
  return { key, value: { type: 'string', value } };
}

/** An int attribute; `value` must be a safe integer. */
export function intAttr(key: string, value: number): KeyValue {
  return { key, value: { type: 'int', value: BigInt(Math.trunc(value)) } };
}

export function boolAttr(key: string, value: boolean): KeyValue {
  return { key, value: { type: 'bool', value } };
}

/** Text of a JSON value: strings as they are, anything else as its JSON. */
export function textOf(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}
