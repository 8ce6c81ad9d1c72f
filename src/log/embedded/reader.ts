import type RocksDB from 'rocksdb-native';
import type { LogRecord } from '../port.js';
import { offsetOfRecordKey, recordKey } from './keys.js';
import type { PartitionState } from './partition.js';
import { decodeRecord } from './record-codec.js';

/** Entries fetched per native iterator call; the default of 8 costs a round trip per 8 records. */
const ITERATOR_CAPACITY = 256;

/** Up to `max` records of a partition with from <= offset < to, in offset order. */
export async function readRecords(db: RocksDB, partition: PartitionState, from: number, to: number, max: number): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  if (from >= to || max <= 0) return records;
  const range = {
    gte: recordKey(partition.prefix, from),
    lt: recordKey(partition.prefix, to),
    limit: max,
    capacity: Math.min(max, ITERATOR_CAPACITY),
  };
  for await (const { key, value } of db.iterator(range)) {
    records.push({
      topic: partition.topic,
      partition: partition.partition,
      offset: offsetOfRecordKey(key),
      ...decodeRecord(value),
    });
  }
  return records;
}
