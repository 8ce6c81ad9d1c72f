/**
 * Building blocks for state store keys that sort correctly as bytes: length-prefixed
 * strings (ids are producer-chosen and may hold any character) and big-endian integers.
 */

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

/** The most UTF-8 bytes a string key part can hold (its length is a u16). */
export const MAX_KEY_PART_BYTES = 0xffff;

/**
 * A string too long to be a key part. Ingest bounds every key part far below this
 * (src/model/key-parts.ts); a record that still carries one is that record's fault, not
 * the store's, so a stage can set it aside with this reason and go on.
 */
export class KeyPartTooLongError extends Error {
  constructor(
    /** Which part: the key kind and position when known (`bl part 3`), else `key part`. */
    readonly part: string,
    readonly bytes: number,
  ) {
    super(`${part} is ${bytes} bytes of UTF-8; a key part holds at most ${MAX_KEY_PART_BYTES}`);
    this.name = 'KeyPartTooLongError';
  }
}

/** A string as u16 length + UTF-8 bytes; longer than MAX_KEY_PART_BYTES throws KeyPartTooLongError naming `part`. */
export function str(s: string, part = 'key part'): Buffer {
  const body = Buffer.from(s, 'utf8');
  if (body.length > MAX_KEY_PART_BYTES) throw new KeyPartTooLongError(part, body.length);
  return Buffer.concat([u16(body.length), body]);
}

/** A key from a kind prefix and parts: strings are length-prefixed, numbers are u64. */
export function tupleKey(kind: string, ...parts: (string | number)[]): Buffer {
  return Buffer.concat([Buffer.from(kind + '|'), ...parts.map((p, i) => (typeof p === 'number' ? u64(p) : str(p, `${kind} key part ${i + 1}`)))]);
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

/**
 * An exclusive upper bound for a scan of the keys that start with `prefix`: the prefix and
 * four 0xff bytes. It is above every such key whose next four bytes are not all 0xff, which
 * no key built here has after a whole part (a string part's UTF-8 holds no 0xff byte; a u64
 * part would need a value of 2^64 - 2^32 or more). It is not the smallest such bound.
 */
export function prefixEnd(prefix: Buffer): Buffer {
  return Buffer.concat([prefix, Buffer.from([0xff, 0xff, 0xff, 0xff])]);
}
