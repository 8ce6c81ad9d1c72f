/**
 * Changelog topics: a store opened with `changelog`
 * writes every change to the compacted topic `<group>-<store>-changelog`, changelog
 * partition = the input partition of the unit that made it, in the same transaction as
 * the unit's outputs and offsets. When an input partition is assigned, the store's
 * changelog partition is read from the local checkpoint to its end, so the local store
 * catches up with whatever other owners (or this process before it lost its disk) wrote.
 */
import type { StoreOp } from '../port.js';
import { KafkaLogError } from './errors.js';
import type { PartitionReader } from './partition-reader.js';
import { checkpointKey, encodeCheckpoint, type KafkaStateStore, type LocalState } from './state.js';

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export function changelogTopicName(group: string, store: string): string {
  const name = `${group}-${store}-changelog`;
  if (!TOPIC_NAME.test(name)) {
    throw new KafkaLogError(
      'invalid',
      `store ${JSON.stringify(store)} of group ${JSON.stringify(group)} cannot have a changelog: ` +
        `${JSON.stringify(name)} is not a valid topic name (use [a-zA-Z0-9._-])`,
    );
  }
  return name;
}

/** One changelog record: the store key and its new value, null for a delete. */
export interface ChangelogEntry {
  readonly key: Buffer;
  readonly value: Buffer | null;
}

const hex = (key: Buffer): string => key.toString('hex');

/**
 * The changelog records for `ops`, in order. A compacted topic has no range delete, so a
 * delRange becomes one tombstone per key in the range that exists at that point: in the
 * local store (which reflects everything committed before this unit) or written by an
 * earlier op of the same unit.
 */
export async function changelogEntries(store: KafkaStateStore, ops: readonly StoreOp[]): Promise<ChangelogEntry[]> {
  const entries: ChangelogEntry[] = [];
  /** This unit's writes so far, by key (hex); null marks a delete. */
  const overlay = new Map<string, { key: Buffer; value: Buffer | null }>();
  for (const op of ops) {
    switch (op.type) {
      case 'put':
        overlay.set(hex(op.key), { key: op.key, value: op.value });
        entries.push({ key: op.key, value: op.value });
        break;
      case 'del':
        overlay.set(hex(op.key), { key: op.key, value: null });
        entries.push({ key: op.key, value: null });
        break;
      case 'delRange': {
        if (Buffer.compare(op.gte, op.lt) >= 0) break;
        const doomed = new Map<string, Buffer>();
        for await (const [key] of store.range({ gte: op.gte, lt: op.lt })) {
          const k = hex(key);
          if (overlay.get(k)?.value !== null) doomed.set(k, key);
        }
        for (const [k, { key, value }] of overlay) {
          if (value !== null && Buffer.compare(key, op.gte) >= 0 && Buffer.compare(key, op.lt) < 0) doomed.set(k, key);
        }
        for (const [k, key] of [...doomed].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
          overlay.set(k, { key, value: null });
          entries.push({ key, value: null });
        }
        break;
      }
    }
  }
  return entries;
}

/** How a restore went, for the log. */
export interface RestoreResult {
  readonly topic: string;
  readonly partition: number;
  readonly from: number;
  readonly to: number;
  readonly records: number;
  /**
   * The local checkpoint lies past the changelog's end: the topic was deleted and created
   * again, or truncated. The local state is kept as it is; it may hold changes the
   * changelog no longer has.
   */
  readonly localAhead: boolean;
}

/**
 * Brings the local copy of `stores` (which share `topic` as changelog) up to the end of
 * changelog partition `partition`, then records the new checkpoint. The caller has
 * initialized the partition's transactional producer first, so no transaction of a
 * previous owner is still open and the last stable offset is the true end.
 */
export async function restoreChangelogPartition(
  reader: PartitionReader,
  state: LocalState,
  store: KafkaStateStore,
  partitions: number,
  partition: number,
): Promise<RestoreResult> {
  const topic = store.changelog;
  if (topic === null) throw new Error(`store ${store.name} has no changelog`);
  const { start, stable } = await reader.offsets(topic, partitions);
  const logStart = start[partition] ?? 0;
  const end = stable[partition] ?? 0;
  const checkpoint = await state.checkpoint(topic, partition);
  let offset = Math.max(checkpoint ?? logStart, logStart);
  const from = offset;
  let records = 0;
  while (offset < end) {
    const range = await reader.fetch(topic, partition, offset);
    if (range.next <= offset) {
      throw new KafkaLogError('unavailable', `restoring ${topic}/${partition} stalled at offset ${offset} before ${end}`);
    }
    const next = range.next;
    await state.write((batch) => {
      store.put(
        batch,
        range.records.map((record): StoreOp => {
          if (record.key === null) throw new Error(`${topic}/${partition}@${record.offset}: changelog record without a key`);
          return record.value === null ? { type: 'del', key: record.key } : { type: 'put', key: record.key, value: record.value };
        }),
      );
      batch.tryPut(checkpointKey(topic, partition), encodeCheckpoint(next));
    });
    records += range.records.length;
    offset = next;
  }
  if (checkpoint === null || checkpoint < offset) {
    await state.write((batch) => batch.tryPut(checkpointKey(topic, partition), encodeCheckpoint(offset)));
  }
  return { topic, partition, from, to: offset, records, localAhead: checkpoint !== null && checkpoint > end };
}
