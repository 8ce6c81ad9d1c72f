/**
 * The key layout both log adapters share in their local RocksDB: consumer-group offsets
 * and state stores, so one state store implementation (state-store.ts) serves both.
 * A one-byte tag and NUL-terminated names keep the key spaces apart:
 *
 *   O group 00 topic 00 partition(u16 BE)         → group's next offset (u64 BE)
 *   S group 00 store 00 userKey                   → store value
 *
 * The embedded log adds its records, log starts and topic declarations beside these
 * (embedded/keys.ts). Big-endian integers sort numerically; names are validated never to
 * contain the NUL separator.
 */

const SEPARATOR = 0x00;

const TAG_GROUP_OFFSET = 0x4f; // 'O'
const TAG_STORE = 0x53; // 'S'

const MAX_NAME_BYTES = 255;
export const MAX_PARTITIONS = 0x10000;

export function assertName(kind: 'group' | 'store', name: string): void {
  const bytes = Buffer.byteLength(name);
  if (bytes === 0 || bytes > MAX_NAME_BYTES || name.includes('\0')) {
    throw new Error(`invalid ${kind} name ${JSON.stringify(name)}: 1-${MAX_NAME_BYTES} bytes without NUL characters`);
  }
}

function assertPartition(partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= MAX_PARTITIONS) {
    throw new RangeError(`invalid partition ${partition}`);
  }
}

function assertOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid offset ${offset}`);
}

/** tag, then each name followed by the separator, then `tail` free bytes. */
export function tagged(tag: number, names: readonly string[], tail: number): { buffer: Buffer; at: number } {
  let size = 1 + tail;
  for (const name of names) size += Buffer.byteLength(name) + 1;
  const buffer = Buffer.allocUnsafe(size);
  buffer[0] = tag;
  let at = 1;
  for (const name of names) {
    at += buffer.write(name, at);
    buffer[at++] = SEPARATOR;
  }
  return { buffer, at };
}

/** tagged(), then a u16 BE partition, then `tail` free bytes. */
export function withPartition(tag: number, names: readonly string[], partition: number, tail: number): { buffer: Buffer; at: number } {
  assertPartition(partition);
  const key = tagged(tag, names, 2 + tail);
  key.buffer.writeUInt16BE(partition, key.at);
  return { buffer: key.buffer, at: key.at + 2 };
}

export function writeU64(buffer: Buffer, offset: number, at: number): void {
  assertOffset(offset);
  buffer.writeUInt32BE(Math.floor(offset / 0x1_0000_0000), at);
  buffer.writeUInt32BE(offset % 0x1_0000_0000, at + 4);
}

export function readU64(buffer: Buffer, at: number): number {
  return buffer.readUInt32BE(at) * 0x1_0000_0000 + buffer.readUInt32BE(at + 4);
}

export function encodeU64(value: number): Buffer {
  const buffer = Buffer.allocUnsafe(8);
  writeU64(buffer, value, 0);
  return buffer;
}

export function groupOffsetKey(group: string, topic: string, partition: number): Buffer {
  return withPartition(TAG_GROUP_OFFSET, [group, topic], partition, 0).buffer;
}

export function groupOffsetPrefix(group: string, topic: string): Buffer {
  return tagged(TAG_GROUP_OFFSET, [group, topic], 0).buffer;
}

export function partitionOfGroupOffsetKey(key: Buffer): number {
  return key.readUInt16BE(key.length - 2);
}

export function storePrefix(group: string, store: string): Buffer {
  return tagged(TAG_STORE, [group, store], 0).buffer;
}

/** The smallest key greater than every key that starts with `prefix`. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  let i = end.length - 1;
  while (i >= 0 && end[i] === 0xff) i--;
  if (i < 0) throw new RangeError('prefix has no upper bound');
  end[i] = end.readUInt8(i) + 1;
  return end.subarray(0, i + 1);
}
