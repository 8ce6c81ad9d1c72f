/**
 * Key layout of the embedded log. Everything lives in RocksDB's default column family so
 * that one write batch can cover records, offsets and state stores atomically. Beside the
 * group offsets and state stores every adapter keeps (rocks/keys.ts):
 *
 *   R topic 00 partition(u16 BE) offset(u64 BE)   → encoded record (record-codec.ts)
 *   L topic 00 partition(u16 BE)                  → log start offset (u64 BE) after retention
 *   T topic                                       → topic declaration (JSON)
 *
 * Big-endian integers make offsets sort numerically, so a partition's records are one
 * contiguous, ordered key range.
 */
import { readU64, tagged, withPartition, writeU64 } from '../rocks/keys.js';

export {
  assertName,
  encodeU64,
  groupOffsetKey,
  groupOffsetPrefix,
  MAX_PARTITIONS,
  partitionOfGroupOffsetKey,
  prefixEnd,
  readU64,
  storePrefix,
  writeU64,
} from '../rocks/keys.js';

const TAG_RECORD = 0x52; // 'R'
const TAG_LOG_START = 0x4c; // 'L'
const TAG_TOPIC = 0x54; // 'T'

/** Kafka's rule for topic names, so every topic also works with the Kafka adapter. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export function assertTopicName(topic: string): void {
  if (!TOPIC_NAME.test(topic)) {
    throw new Error(`invalid topic name ${JSON.stringify(topic)}: use 1-249 characters of [a-zA-Z0-9._-]`);
  }
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

export function topicKey(topic: string): Buffer {
  const key = tagged(TAG_TOPIC, [], Buffer.byteLength(topic));
  key.buffer.write(topic, key.at);
  return key.buffer;
}

/** The range of every topic declaration key. */
export const TOPIC_KEYS = { gte: Buffer.from([TAG_TOPIC]), lt: Buffer.from([TAG_TOPIC + 1]) };
