/** Conversions between the port's records and kafkajs messages. */
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { partitionFor, type RoundRobin } from '../partitioner.js';
import type { AppendResult, LogRecord, OutgoingRecord } from '../port.js';
import { KafkaLogError } from './errors.js';

/** A kafkajs message that always names its partition. */
export interface RoutedMessage extends Message {
  readonly partition: number;
}

/**
 * Gives every record its partition (explicit, else the murmur2 partitioner shared with
 * the embedded log, so a key lands on the same partition number in both transports) and
 * its timestamp. Throws before anything is sent when a record is invalid.
 */
export function routeRecords(
  topic: string,
  partitions: number,
  records: readonly OutgoingRecord[],
  roundRobin: RoundRobin,
  now: number,
): RoutedMessage[] {
  return records.map((record) => {
    if (record.timestamp !== undefined && !Number.isFinite(record.timestamp)) {
      throw new KafkaLogError('invalid', `topic ${topic}: invalid record timestamp ${record.timestamp}`);
    }
    const partition = record.partition ?? partitionFor(record.key, partitions, roundRobin);
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
      throw new KafkaLogError('invalid', `topic ${topic} has ${partitions} partitions; a record names partition ${partition}`);
    }
    return {
      key: record.key,
      value: record.value,
      partition,
      headers: { ...(record.headers ?? {}) },
      timestamp: String(Math.trunc(record.timestamp ?? now)),
    };
  });
}

function headerText(value: IHeaders[string]): string | undefined {
  if (value === undefined) return undefined;
  // A repeated header arrives as an array; the last value wins, as with Kafka's lastHeader().
  const last = Array.isArray(value) ? value.at(-1) : value;
  if (last === undefined) return undefined;
  return typeof last === 'string' ? last : last.toString('utf8');
}

export function toLogRecord(topic: string, partition: number, message: KafkaMessage): LogRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const text = headerText(value);
    if (text !== undefined) headers[name] = text;
  }
  return {
    topic,
    partition,
    offset: Number(message.offset),
    key: message.key,
    value: message.value,
    headers,
    timestamp: Number(message.timestamp),
  };
}

/** What a produce request reports per partition: the offset of its first record. */
export interface PartitionBase {
  readonly topicName: string;
  readonly partition: number;
  readonly baseOffset?: string;
}

/**
 * The offset of every record of one produce request, in input order. kafkajs groups a
 * request's records per partition in input order and returns the base offset of each
 * partition's record batch, so the n-th record of a partition got base + n.
 */
export function assignOffsets(
  calls: readonly { readonly topic: string; readonly partitions: readonly number[] }[],
  metadata: readonly PartitionBase[],
): AppendResult[][] {
  const base = new Map<string, number>();
  for (const { topicName, partition, baseOffset } of metadata) {
    if (baseOffset === undefined || baseOffset === '-1') continue;
    base.set(`${topicName}:${partition}`, Number(baseOffset));
  }
  const used = new Map<string, number>();
  return calls.map(({ topic, partitions }) =>
    partitions.map((partition) => {
      const key = `${topic}:${partition}`;
      const first = base.get(key);
      if (first === undefined) throw new Error(`the broker returned no offset for ${key}`);
      const n = used.get(key) ?? 0;
      used.set(key, n + 1);
      return { topic, partition, offset: first + n };
    }),
  );
}
