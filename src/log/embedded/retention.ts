import type RocksDB from 'rocksdb-native';
import { encodeU64, logStartKey, offsetOfRecordKey, recordKey } from './keys.js';
import type { PartitionState } from './partition.js';
import { timestampOf } from './record-codec.js';
import type { TopicRegistry } from './topics.js';
import type { Writer } from '../rocks/writer.js';

/**
 * Time retention of `delete` topics: per partition, walk from the log start and delete
 * (one range tombstone) every record up to the first one newer than now - retentionMs,
 * as Kafka drops whole old segments; a late old record behind a newer one waits its turn.
 * The new log start is stored with the delete, so a partition emptied by retention keeps
 * counting its offsets from where it was after a restart.
 *
 * Compacted topics are kept whole for now: compaction (keeping the newest record per
 * key) is later work.
 *
 * Deletes skip the fsync: losing one to a power cut only means sweeping again.
 */
export async function sweepRetention(db: RocksDB, topics: TopicRegistry, writer: Writer, now: number): Promise<number> {
  let deleted = 0;
  for (const topic of topics.all()) {
    const { cleanupPolicy, retentionMs } = topic.declaration;
    if (cleanupPolicy !== 'delete' || retentionMs <= 0) continue;
    for (const partition of topic.partitions) deleted += await sweepPartition(db, writer, partition, now - retentionMs);
  }
  return deleted;
}

async function sweepPartition(db: RocksDB, writer: Writer, partition: PartitionState, cutoff: number): Promise<number> {
  const from = partition.start;
  // Only settled offsets: a pending append below stableEnd could land inside the range.
  const end = partition.stableEnd;
  if (from >= end) return 0;

  let keep = end;
  let expired = 0;
  const range = { gte: recordKey(partition.prefix, from), lt: recordKey(partition.prefix, end), capacity: 256 };
  for await (const { key, value } of db.iterator(range)) {
    if (timestampOf(value) >= cutoff) {
      keep = offsetOfRecordKey(key);
      break;
    }
    expired++;
  }
  if (expired === 0) return 0;

  await writer.write((batch) => {
    batch.tryDeleteRange(recordKey(partition.prefix, from), recordKey(partition.prefix, keep));
    batch.tryPut(logStartKey(partition.topic, partition.partition), encodeU64(keep));
  }, false);
  partition.start = keep;
  return expired;
}
