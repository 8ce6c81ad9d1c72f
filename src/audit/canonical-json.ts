/**
 * JSON Canonicalization Scheme (RFC 8785): the one serialisation of a JSON value that the
 * audit chain digests, so the same payload always hashes the same wherever it is written.
 *
 * - object members sorted by their names' UTF-16 code units, no whitespace;
 * - strings escaped as ECMAScript's JSON.stringify does;
 * - numbers in ECMAScript's shortest round-trip form (JSON.stringify of a finite number,
 *   so -0 is written 0).
 *
 * Input must be I-JSON (RFC 7493), as RFC 8785 requires: what has no single JSON form is
 * rejected with an error naming its path (non-finite numbers, bigint, functions, symbols,
 * undefined outside an object member, lone surrogates, cycles, and objects other than
 * plain objects and arrays, whose JSON form would depend on their toJSON or be lossy).
 * An object member whose value is undefined is left out, as JSON.stringify leaves it out.
 */

export class CanonicalJsonError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`cannot canonicalise ${path}: ${problem}`);
    this.name = 'CanonicalJsonError';
  }
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function memberPath(parent: string, key: string): string {
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function serialiseString(value: string, path: string): string {
  // A lone surrogate is not a Unicode scalar value: I-JSON forbids it (RFC 7493, 2.1).
  if (LONE_SURROGATE.test(value)) throw new CanonicalJsonError(path, 'string holds a lone UTF-16 surrogate');
  return JSON.stringify(value);
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function serialise(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return serialiseString(value, path);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `${value} is not a finite number`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new CanonicalJsonError(path, 'bigint has no JSON form (convert it to a number or a string first)');
    case 'undefined':
      throw new CanonicalJsonError(path, 'undefined has no JSON form');
    case 'function':
      throw new CanonicalJsonError(path, 'a function has no JSON form');
    case 'symbol':
      throw new CanonicalJsonError(path, 'a symbol has no JSON form');
    case 'object':
      break;
  }
  if (value === null) return 'null';
  if (ancestors.has(value)) throw new CanonicalJsonError(path, 'circular reference');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const items: string[] = [];
      for (let i = 0; i < value.length; i++) {
        const itemPath = `${path}[${i}]`;
        if (!(i in value)) throw new CanonicalJsonError(itemPath, 'sparse array hole has no JSON form');
        items.push(serialise(value[i], itemPath, ancestors));
      }
      return `[${items.join(',')}]`;
    }
    if (!isPlainObject(value)) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new CanonicalJsonError(path, `${name} is not a plain object or array`);
    }
    const record = value as Record<string, unknown>;
    // Array.prototype.sort without a comparator orders by UTF-16 code units, as RFC 8785 (3.2.3) asks.
    const keys = Object.keys(record).sort();
    const members: string[] = [];
    for (const key of keys) {
      const child = record[key];
      if (child === undefined) continue;
      const childPath = memberPath(path, key);
      members.push(`${serialiseString(key, childPath)}:${serialise(child, childPath, ancestors)}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}

/** The RFC 8785 canonical JSON text of `value`; throws CanonicalJsonError naming the offending path. */
export function canonicalJson(value: unknown): string {
  return serialise(value, '$', new Set());
}

/**
 * True when `text` is valid JSON already in canonical form. JSON.parse keeps the last of
 * duplicate member names, so a text with duplicates never equals its canonical form.
 */
export function isCanonicalJson(text: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  try {
    return canonicalJson(parsed) === text;
  } catch {
    return false;
  }
}
