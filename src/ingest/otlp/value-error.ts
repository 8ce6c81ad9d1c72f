/**
 * The failure type shared by the OTLP converters (JSON today, protobuf later), and the small
 * helpers they use to read "loose" OTLP objects: plain objects from JSON.parse, or decoded
 * protobuf messages, where a field may be spelled lowerCamelCase (the OTLP/JSON names) or
 * snake_case (the proto names some encoders emit), and where null means absent (proto3
 * JSON mapping).
 */

/** A loose OTLP message: any non-array object, read field by field. */
export type Loose = Record<string, unknown>;

export function isLoose(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * A value inside an OTLP request that cannot become part of a canonical span.
 *
 * `path` is relative to the value the throwing converter was given (for example
 * `.attributes[2].value.intValue`). Each enclosing converter prepends its own segment as the
 * error passes through (see `at`), so converting valid data builds no path strings at all.
 */
export class OtlpValueError extends Error {
  path: string;
  readonly reason: string;

  constructor(reason: string, path = '') {
    super(reason);
    this.name = 'OtlpValueError';
    this.reason = reason;
    this.path = path;
  }
}

/** Prepends `segment` to the path of an OtlpValueError; other errors pass unchanged. */
export function at(error: unknown, segment: string): unknown {
  if (error instanceof OtlpValueError) error.path = segment + error.path;
  return error;
}

/** `.camel` or `.snake`: the spelling the producer used, for error paths (call on failure only). */
export function keyOf(object: Loose, camel: string, snake: string): string {
  return object[camel] == null && object[snake] != null ? `.${snake}` : `.${camel}`;
}

/** A short description of a value for error reasons. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 48 ? `${value.slice(0, 48)}…` : value)}`;
    case 'number':
    case 'bigint':
      return `the number ${value.toString()}`;
    case 'boolean':
      return `the boolean ${value}`;
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}
