import type RocksDB from 'rocksdb-native';
import { partitionFor } from '../partitioner.js';
import type { AppendResult, OutgoingRecord } from '../port.js';
import { recordKey } from './keys.js';
import type { PartitionState } from './partition.js';
import { encodeRecord } from './record-codec.js';
import type { TopicState } from './topics.js';

/** Records checked, encoded and given a partition, not yet an offset. */
export interface RoutedRecords {
  readonly topic: TopicState;
  readonly records: readonly { readonly partition: PartitionState; readonly value: Buffer }[];
}

/** Records of one append with their offsets reserved, ready to go into a batch. */
export interface PlannedAppend {
  readonly topic: string;
  readonly results: readonly AppendResult[];
  put(batch: RocksDB.WriteBatch): void;
  /** Settles the reserved ranges once the write succeeded or failed (see PartitionState). */
  release(): void;
}

/**
 * Everything that can fail about an append happens here, before any offset is reserved:
 * a reservation that is never released would stall the partition's readers.
 */
export function routeRecords(topic: TopicState, records: readonly OutgoingRecord[], now: number): RoutedRecords {
  const { name } = topic.declaration;
  const count = topic.partitions.length;
  return {
    topic,
    records: records.map((record) => {
      if (record.timestamp !== undefined && !Number.isFinite(record.timestamp)) {
        throw new RangeError(`topic ${name}: invalid record timestamp ${record.timestamp}`);
      }
      const index = record.partition ?? partitionFor(record.key, count, topic.roundRobin);
      const partition = Number.isInteger(index) ? topic.partitions[index] : undefined;
      if (partition === undefined) {
        throw new RangeError(`topic ${name} has ${count} partitions; a record names partition ${index}`);
      }
      const value = encodeRecord({
        key: record.key,
        value: record.value,
        headers: record.headers ?? {},
        timestamp: record.timestamp ?? now,
      });
      return { partition, value };
    }),
  };
}

/**
 * Reserves offsets for routed records. Synchronous, so concurrent appends get offsets in
 * the order they were called, and the records of one key keep their order.
 */
export function planAppend(routed: RoutedRecords): PlannedAppend {
  const ranges = new Map<PartitionState, { first: number; used: number }>();
  for (const { partition } of routed.records) {
    const range = ranges.get(partition);
    if (range === undefined) ranges.set(partition, { first: 0, used: 1 });
    else range.used++;
  }
  for (const [partition, range] of ranges) {
    range.first = partition.reserve(range.used);
    range.used = 0;
  }

  const topic = routed.topic.declaration.name;
  const results: AppendResult[] = [];
  const entries: [Buffer, Buffer][] = [];
  for (const { partition, value } of routed.records) {
    const range = ranges.get(partition) ?? { first: 0, used: 0 }; // always set by the loop above
    const offset = range.first + range.used++;
    results.push({ topic, partition: partition.partition, offset });
    entries.push([recordKey(partition.prefix, offset), value]);
  }

  return {
    topic,
    results,
    put(batch) {
      for (const [key, value] of entries) batch.tryPut(key, value);
    },
    release() {
      for (const [partition, { first }] of ranges) partition.release(first);
    },
  };
}
