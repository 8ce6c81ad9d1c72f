/**
 * Building blocks for state store keys that sort correctly as bytes: length-prefixed
 * strings (ids are producer-chosen and may hold any character) and big-endian integers.
 */

/** Longest string part a key can hold: its length prefix is a u16. */
export const MAX_KEY_PART_BYTES = 0xffff;

/**
 * A string too long to be a key part. Thrown by the key builders so that a consumer can
 * tell a record whose content cannot be keyed (and dead-letter it) from a broken store.
 */
export class KeyPartTooLongError extends Error {
  constructor(readonly bytes: number) {
    super(`a key part of ${bytes} bytes is over the limit of ${MAX_KEY_PART_BYTES} bytes`);
    this.name = 'KeyPartTooLongError';
  }
}

export function u16(n: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(n);
  return b;
}

export function u64(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(n))));
  return b;
}

/** A string as u16 length + UTF-8 bytes; longer than 65,535 bytes throws KeyPartTooLongError. */
export function str(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  if (body.length > MAX_KEY_PART_BYTES) throw new KeyPartTooLongError(body.length);
  return Buffer.concat([u16(body.length), body]);
}

/** A key from a kind prefix and parts: strings are length-prefixed, numbers are u64. */
export function tupleKey(kind: string, ...parts: (string | number)[]): Buffer {
  return Buffer.concat([Buffer.from(kind + '|'), ...parts.map((p) => (typeof p === 'number' ? u64(p) : str(p)))]);
}

/** Reads back the string and number parts of a tupleKey, given their types. */
export function parseTupleKey(key: Buffer, kind: string, types: readonly ('s' | 'n')[]): (string | number)[] {
  let at = kind.length + 1;
  const out: (string | number)[] = [];
  for (const t of types) {
    if (t === 'n') {
      out.push(Number(key.readBigUInt64BE(at)));
      at += 8;
    } else {
      const len = key.readUInt16BE(at);
      out.push(key.toString('utf8', at + 2, at + 2 + len));
      at += 2 + len;
    }
  }
  return out;
}

/** The smallest key greater than every key that starts with `prefix`. */
export function prefixEnd(prefix: Buffer): Buffer {
  return Buffer.concat([prefix, Buffer.from([0xff, 0xff, 0xff, 0xff])]);
}
