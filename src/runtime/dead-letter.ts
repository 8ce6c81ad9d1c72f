/**
 * The poison-record policy every stateful consumer applies (trace stage, tenant stage,
 * views, calibration reader): a record whose content cannot be processed (it does not
 * decode, a key cannot be built from it, an output cannot be encoded, a view cannot hold
 * it) is moved to tracefold.dead-letter.v1 in the same unit of work as the batch's other
 * outputs, counted by stage and reason, and processing goes on with the next record.
 * What the record wrote before it failed is rolled back, so none of it is committed.
 *
 * Only the consumer's own state failing (StateStoreError, a unit that cannot commit)
 * stops it: no record explains that, and skipping would lose data.
 */
import type { Logger } from 'pino';
import type { OutgoingRecord } from '../log/port.js';
import { SerdeError } from '../log/serde/errors.js';
import { KeyPartTooLongError } from '../log/store-keys.js';
import { TOPICS } from '../log/topics.js';
import { HEADER } from '../model/record-keys.js';
import { StateStoreError, type BufferedStore } from './buffered-store.js';
import type { StageOutput } from './stage-output.js';

export type DeadLetterStage = 'trace' | 'tenant' | 'views' | 'calibration';

/**
 * Why a record was dead-lettered, as a small fixed set (the `reason` label of
 * tracefold_dead_letter_records_total); the message itself goes in the tf-reason header.
 *
 * - decode: the value (or its key) cannot be read;
 * - key: a state store key cannot be built from it (a part over 65,535 bytes);
 * - encode: an output derived from it cannot be encoded;
 * - view_write: the views cannot apply it;
 * - late: a span after its trace's lateness horizon;
 * - analysis: a closed trace whose analysis failed (the window, not one record);
 * - content: anything else the record's content made fail.
 */
export const DEAD_LETTER_REASONS = ['decode', 'key', 'encode', 'view_write', 'late', 'analysis', 'content'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** Longest tf-reason header kept: enough to say what failed, bounded whatever the error. */
export const MAX_REASON_CHARS = 512;

/** Where a dead-lettered record came from. A window's failure has no single offset: -1. */
export interface DeadLetterSource {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: number;
}

/** A record a consumer refuses by its own check, with the reason class to count it under. */
export class PoisonRecordError extends Error {
  constructor(
    readonly reason: DeadLetterReason,
    message: string,
  ) {
    super(message);
    this.name = 'PoisonRecordError';
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The dead-letter record of `source`: its key and value bytes exactly as read (they may
 * not decode), its headers, and where it came from, which stage refused it and why.
 */
export function deadLetterRecord(source: DeadLetterSource, stage: DeadLetterStage, reason: string): OutgoingRecord {
  return {
    key: source.key,
    value: source.value,
    headers: {
      ...source.headers,
      [HEADER.reason]: reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 1)}…` : reason,
      [HEADER.sourceTopic]: source.topic,
      [HEADER.sourcePartition]: String(source.partition),
      [HEADER.sourceOffset]: String(source.offset),
      [HEADER.stage]: stage,
    },
    timestamp: source.timestamp,
  };
}

/** True for failures of the consumer's own state, which stop it rather than a record. */
export function isStateFailure(err: unknown): boolean {
  return err instanceof StateStoreError;
}

/** The reason class of an error raised while processing a record that did decode. */
export function reasonOf(err: unknown, otherwise: DeadLetterReason): DeadLetterReason {
  if (err instanceof PoisonRecordError) return err.reason;
  if (err instanceof KeyPartTooLongError) return 'key';
  if (err instanceof SerdeError) return err.message.includes('cannot encode') ? 'encode' : 'decode';
  return otherwise;
}

/** What one batch of a consumer holds: its buffered store (if any) and pending outputs. */
export interface BatchWork {
  readonly store: BufferedStore | null;
  readonly outputs: StageOutput[];
}

/** Dead-lettered records of one stage, by reason class, for /metrics. */
export class DeadLetterCounts {
  private readonly counts = new Map<DeadLetterReason, number>();

  constructor(readonly stage: DeadLetterStage) {}

  add(reason: DeadLetterReason): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }

  of(reason: DeadLetterReason): number {
    return this.counts.get(reason) ?? 0;
  }

  entries(): [DeadLetterReason, number][] {
    return [...this.counts];
  }
}

export class PoisonRecordPolicy {
  readonly counts: DeadLetterCounts;

  constructor(
    readonly stage: DeadLetterStage,
    private readonly logger: Logger,
  ) {
    this.counts = new DeadLetterCounts(stage);
  }

  /**
   * Runs `process` for one record. If the record's content makes it throw, every store
   * write and output it made is dropped (`undo` restores whatever else the caller keeps
   * per batch) and the record is dead-lettered with the class `classify` gives. A failure
   * of the state itself is rethrown. Resolves true when the record was processed.
   */
  async isolate(
    work: BatchWork,
    source: DeadLetterSource,
    process: () => Promise<void>,
    options: { readonly classify: (err: unknown) => DeadLetterReason; readonly undo?: () => void },
  ): Promise<boolean> {
    const savepoint = work.store?.savepoint();
    const outputs = work.outputs.length;
    try {
      await process();
      return true;
    } catch (err) {
      if (isStateFailure(err)) throw err;
      if (savepoint !== undefined) work.store!.rollback(savepoint);
      work.outputs.length = outputs;
      options.undo?.();
      this.deadLetter(work.outputs, source, options.classify(err), messageOf(err), err);
      return false;
    }
  }

  /** Adds the dead-letter record of `source` to `outputs` and counts it. */
  deadLetter(outputs: StageOutput[], source: DeadLetterSource, reason: DeadLetterReason, message: string, err?: unknown): void {
    outputs.push({ topic: TOPICS.deadLetter, record: deadLetterRecord(source, this.stage, `${reason}: ${message}`) });
    this.counts.add(reason);
    if (reason !== 'late') {
      this.logger.error(
        { err, stage: this.stage, reason, topic: source.topic, partition: source.partition, offset: source.offset },
        'record could not be processed; moved to the dead-letter topic',
      );
    }
  }
}
