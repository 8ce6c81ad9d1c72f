/**
 * The log port: the only thing stages, ingest and views know about the transport.
 *
 * Two adapters implement it: the embedded
 * adapter on RocksDB (src/log/embedded) and the Kafka adapter (src/log/kafka). No code
 * outside src/log may know which one it runs on.
 *
 * Offsets are plain numbers (safe up to 2^53, far beyond any partition's lifetime) and
 * always name the *next* record to read when they describe a position.
 */

export type Headers = Readonly<Record<string, string>>;

/** A record to append. `partition` is normally derived from `key` (see partitioner.ts). */
export interface OutgoingRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Headers;
  /** Milliseconds since the epoch; defaults to the append time. */
  readonly timestamp?: number;
  /** Explicit partition; wins over the key hash. */
  readonly partition?: number;
}

/** A record as read back from a topic partition. Immutable. */
export interface LogRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Headers;
  readonly timestamp: number;
}

export interface AppendResult {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Key-value operations on a named state store, applied with the unit that carries them. */
export type StoreOp =
  | { readonly type: 'put'; readonly key: Buffer; readonly value: Buffer }
  | { readonly type: 'del'; readonly key: Buffer }
  | { readonly type: 'delRange'; readonly gte: Buffer; readonly lt: Buffer };

/** Read side of a state store: what processors and views read through. */
export interface ReadableStore {
  get(key: Buffer): Promise<Buffer | null>;
  /** Values of many keys at once, in the order asked (null for a missing key). */
  getMany(keys: readonly Buffer[]): Promise<(Buffer | null)[]>;
  /** Entries with gte <= key < lt in key order (reverse when asked), at most `limit`. */
  range(opts: { gte: Buffer; lt: Buffer; limit?: number; reverse?: boolean }): AsyncIterable<[Buffer, Buffer]>;
}

/** A state store owned by one consumer group; written only through a {@link WorkUnit}. */
export interface StateStore extends ReadableStore {
  readonly name: string;
}

/**
 * Everything one processed batch changes, made durable together: records appended to
 * output topics, state store writes and the consumed offsets of the input partitions.
 *
 * The embedded adapter commits a unit as one RocksDB write batch (exactly-once). The Kafka
 * adapter commits outputs and offsets in one producer transaction, then the store batch
 * (whose own copy of the offsets decides where to resume).
 */
export interface WorkUnit {
  append(topic: string, records: readonly OutgoingRecord[]): void;
  write(store: StateStore, ops: readonly StoreOp[]): void;
  /** The next offset to read from `topic`/`partition` once this unit is durable. */
  consumed(topic: string, partition: number, nextOffset: number): void;
  commit(): Promise<void>;
}

export interface Batch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly LogRecord[];
  /** Offset one past the last record in the partition when the batch was read. */
  readonly highWatermark: number;
}

export interface ConsumerHandlers {
  /**
   * Partitions given to this member. May return the offset to start each from (a stage
   * whose store keeps its own position); partitions left out start at the group's
   * committed offset, or at the beginning when the group has none.
   */
  onAssigned?(partitions: readonly TopicPartition[]): Promise<ReadonlyMap<string, number> | void>;
  /** Partitions taken away; called before they are handed to another member. */
  onRevoked?(partitions: readonly TopicPartition[]): Promise<void>;
  /**
   * One batch of one partition. The handler makes its effects durable (usually through a
   * WorkUnit naming the batch's next offset) before it resolves; the runtime then records
   * the group's position. A rejection stops the consumer (see Consumer.done).
   */
  eachBatch(batch: Batch): Promise<void>;
  /** Called when a partition has no more records for now (the consumer is caught up). */
  onIdle?(partitions: readonly TopicPartition[]): Promise<void>;
}

export interface ConsumerOptions {
  readonly group: string;
  readonly topics: readonly string[];
  readonly maxBatchRecords?: number;
}

export interface Consumer {
  /** Resolves when the consumer stopped; rejects with the handler's error if it failed. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export interface TopicDeclaration {
  readonly name: string;
  readonly partitions: number;
  readonly cleanupPolicy: 'delete' | 'compact';
  /** -1 keeps records forever. */
  readonly retentionMs: number;
  readonly key: string;
  readonly valueSchema: string;
  readonly description: string;
  readonly config?: Readonly<Record<string, string>>;
}

/**
 * The log port in three roles, so that a caller is given only the part it uses: ingest
 * appends (LogAppender), stages and views process (LogProcessor), the runtime and the
 * health and readiness checks administer and inspect (LogAdmin). An adapter implements
 * all three (Log).
 */
export interface LogAppender {
  /** Resolves once every record is durable; results are in the order of `records`. */
  append(topic: string, records: readonly OutgoingRecord[]): Promise<AppendResult[]>;
}

export interface LogProcessor {
  consume(options: ConsumerOptions, handlers: ConsumerHandlers): Promise<Consumer>;
  /**
   * Opens (creating if needed) a state store owned by `group`. With `changelog`, a
   * transport whose stores live apart from the log (Kafka) also writes every store change
   * to a compacted changelog topic in the same transaction as the unit's outputs, one
   * changelog partition per input partition, and restores a partition's state from it
   * when the partition is assigned: state then survives the loss of the local disk and
   * moves with its partition. The embedded log keeps stores inside the log itself.
   */
  openStore(group: string, name: string, options?: { readonly changelog?: boolean }): Promise<StateStore>;
  /**
   * Starts a unit of work for `group`. `partition` names the input partition the unit
   * processes; it is required when the unit writes a store with a changelog.
   */
  beginUnit(group: string, options?: { readonly partition?: number }): WorkUnit;
  committedOffsets(group: string, topic: string): Promise<Map<number, number>>;
}

export interface LogAdmin {
  /** Which adapter this is, for logs and /readyz only; stages must not branch on it. */
  readonly kind: 'embedded' | 'kafka' | 'memory';
  /** Creates missing topics from their declarations; returns what it could not reconcile. */
  ensureTopics(declarations: readonly TopicDeclaration[]): Promise<string[]>;
  partitionsOf(topic: string): number;
  endOffsets(topic: string): Promise<number[]>;
  /**
   * Up to `max` records of one partition from offset `from` on, in offset order, read
   * without a consumer group: a look at what a partition holds, e.g. its last record at
   * one before what endOffsets answers. One bounded read: fewer than `max` records, or
   * none, does not mean the partition ends there. Records retention deleted are skipped
   * (the read starts at the first record kept); past the end there is nothing to read.
   */
  readPartition(topic: string, partition: number, from: number, max: number): Promise<LogRecord[]>;
  /**
   * True while the transport takes appends and every consumer of this process is consuming.
   * Answers at once from what the log last observed (it never waits on the transport);
   * reflected by /readyz.
   */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

export interface Log extends LogAppender, LogProcessor, LogAdmin {}

/** Stable map key for a topic partition. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}
