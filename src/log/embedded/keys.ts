/**
 * Key layout of the embedded log. Everything lives in RocksDB's default column family so
 * that one write batch can cover records, offsets and state stores atomically; a one-byte
 * tag and NUL-terminated names keep the key spaces apart:
 *
 *   R topic 00 partition(u16 BE) offset(u64 BE)   → encoded record (record-codec.ts)
 *   L topic 00 partition(u16 BE)                  → log start offset (u64 BE) after retention
 *   O group 00 topic 00 partition(u16 BE)         → group's next offset (u64 BE)
 *   S group 00 store 00 userKey                   → store value
 *   T topic                                       → topic declaration (JSON)
 *
 * Big-endian integers make offsets sort numerically, so a partition's records are one
 * contiguous, ordered key range. Names are validated never to contain the NUL separator.
 */

const SEPARATOR = 0x00;

const TAG_RECORD = 0x52; // 'R'
const TAG_LOG_START = 0x4c; // 'L'
const TAG_GROUP_OFFSET = 0x4f; // 'O'
const TAG_STORE = 0x53; // 'S'
const TAG_TOPIC = 0x54; // 'T'

/** Kafka's rule for topic names, so every topic also works with the Kafka adapter. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const MAX_NAME_BYTES = 255;
export const MAX_PARTITIONS = 0x10000;

export function assertTopicName(topic: string): void {
  if (!TOPIC_NAME.test(topic)) {
    throw new Error(`invalid topic name ${JSON.stringify(topic)}: use 1-249 characters of [a-zA-Z0-9._-]`);
  }
}

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
function tagged(tag: number, names: readonly string[], tail: number): { buffer: Buffer; at: number } {
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

function withPartition(tag: number, names: readonly string[], partition: number, tail: number): { buffer: Buffer; at: number } {
  assertPartition(partition);
  const key = tagged(tag, names, 2 + tail);
  key.buffer.writeUInt16BE(partition, key.at);
  return { buffer: key.buffer, at: key.at + 2 };
}

/** The prefix shared by every record of one partition. */
export function recordPrefix(topic: string, partition: number): Buffer {
  return withPartition(TAG_RECORD, [topic], partition, 0).buffer;
}

/** A record key from its partition's prefix (hot path: one allocation, one copy). */
export function recordKey(prefix: Buffer, offset: number): Buffer {
  const key = Buffer.allocUnsafe(prefix.length + 8);
  prefix.copy(key, 0);
  writeU64(key, offset, prefix.length);
  return key;
}

export function offsetOfRecordKey(key: Buffer): number {
  return readU64(key, key.length - 8);
}

export function logStartKey(topic: string, partition: number): Buffer {
  return withPartition(TAG_LOG_START, [topic], partition, 0).buffer;
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

export function topicKey(topic: string): Buffer {
  const key = tagged(TAG_TOPIC, [], Buffer.byteLength(topic));
  key.buffer.write(topic, key.at);
  return key.buffer;
}

/** The range of every topic declaration key. */
export const TOPIC_KEYS = { gte: Buffer.from([TAG_TOPIC]), lt: Buffer.from([TAG_TOPIC + 1]) };

/** The smallest key greater than every key that starts with `prefix`. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  let i = end.length - 1;
  while (i >= 0 && end[i] === 0xff) i--;
  if (i < 0) throw new RangeError('prefix has no upper bound');
  end[i] = end.readUInt8(i) + 1;
  return end.subarray(0, i + 1);
}
