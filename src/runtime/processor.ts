/**
 * The processor API (in the shape of Kafka Streams' Processor API): what a stateful
 * consumer is once the processing runtime (processing-runtime.ts) owns its positions,
 * commits, batching, lifecycle, poison-record policy and state store. A processor is its
 * state machine and nothing else: it reads a batch's records, reads and writes its store
 * through the batch's context and emits outputs there; the runtime makes all of it durable
 * together with the consumed offset, or none of it.
 */
import type { LogRecord, OutgoingRecord, ReadableStore, TopicPartition } from '../log/port.js';
import type { BufferedStore } from './buffered-store.js';
import type { DeadLetterReason, DeadLetterSource } from './dead-letter.js';
import type { StageOutput } from './stage-output.js';

export type { StageOutput } from './stage-output.js';

/** One batch of one input partition, as its processor sees it. */
export interface ProcessorContext<S extends BufferedStore | null = BufferedStore> {
  readonly topic: string;
  readonly partition: number;
  /** The processor's state store; reads see this batch's own writes, which commit with it. */
  readonly store: S;
  /** What the batch emitted so far, appended in this order when it commits. */
  readonly outputs: StageOutput[];
  emit(topic: string, record: OutgoingRecord): void;
  /**
   * Runs one record under the poison-record policy (dead-letter.ts): if its content makes
   * `process` throw, what it wrote and emitted is dropped (`undo` restores whatever else the
   * processor keeps per batch) and the record goes to the dead-letter topic with this batch.
   * Resolves true when the record was processed.
   */
  isolate(
    record: DeadLetterSource,
    process: () => Promise<void>,
    options: { readonly classify: (err: unknown) => DeadLetterReason; readonly undo?: () => void },
  ): Promise<boolean>;
  /** Sends `record` to the dead-letter topic with this batch. */
  deadLetter(record: DeadLetterSource, reason: DeadLetterReason, message: string, err?: unknown): void;
}

export interface Processor<S extends BufferedStore | null = BufferedStore> {
  /**
   * A partition was given to this member: rebuild whatever the processor keeps in memory
   * from its store. Runs before the partition's first batch; `store` holds only durable state.
   */
  assigned?(partition: TopicPartition, store: S extends null ? null : ReadableStore): Promise<void>;
  /** A partition was taken away: drop what the processor keeps in memory for it. */
  revoked?(partition: TopicPartition): void;
  /** One batch of records, in offset order. */
  process(records: readonly LogRecord[], context: ProcessorContext<S>): Promise<void>;
  /**
   * The partition has no more records for now: time-driven work (windows past their
   * deadline). Whatever it writes or emits commits without moving the position.
   */
  idle?(context: ProcessorContext<S>): Promise<void>;
  /** Last writes of a batch (state kept in memory during it), just before its unit commits. */
  beforeCommit?(context: ProcessorContext<S>): void;
  /** The batch's unit is durable; `nextOffset` is the partition's new position (null for idle work). */
  committed?(context: ProcessorContext<S>, nextOffset: number | null): void;
  /** The batch's unit did not commit: drop what was kept in memory for it. The runtime stops. */
  commitFailed?(context: ProcessorContext<S>): void;
}
