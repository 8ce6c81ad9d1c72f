/**
 * The processing runtime: every stateful consumer of tracefold (the trace stage, the tenant
 * stage, the views, the calibration reader) is a Processor (processor.ts) run by one of
 * these. The runtime owns what they would otherwise each repeat:
 *
 * - lifecycle: opening the state store, joining the group, stopping, health for /readyz;
 * - positions: where each input partition resumes, kept in the processor's own store and
 *   written in the same unit as the batch's state and outputs (`positions: 'store'`), or
 *   re-read from the start at each start for a processor that holds everything in memory
 *   (`positions: 'replay'`);
 * - commits: one WorkUnit per batch carrying outputs, store writes and the consumed offset;
 * - the poison-record policy: a record whose content cannot be processed is dead-lettered
 *   with its batch, never the end of the partition (dead-letter.ts).
 *
 * The Log port underneath is the embedded or the Kafka adapter; in tests it can be the
 * in-memory one (memory-log.ts), which runs the very same code without RocksDB.
 */
import type { Logger } from 'pino';
import type { Batch, Consumer, Log, LogRecord, OutgoingRecord, StateStore, TopicPartition, WorkUnit } from '../log/port.js';
import { tpKey } from '../log/port.js';
import { tupleKey } from '../log/store-keys.js';
import { BufferedStore } from './buffered-store.js';
import { PoisonRecordPolicy, type DeadLetterReason, type DeadLetterSource, type DeadLetterStage } from './dead-letter.js';
import { StageHealth } from './health.js';
import { Positions } from './positions.js';
import type { Processor, ProcessorContext, StageOutput } from './processor.js';

export type { Processor, ProcessorContext, StageOutput } from './processor.js';

/**
 * Where a partition resumes:
 * - store: from the position the runtime keeps in the processor's store, written with the
 *   batch it follows (the store is what the state reflects, so it wins over the group's
 *   committed offset); the group's offset only where the store has none;
 * - replay: from the start at every start (the processor's state lives in memory). Records
 *   read again are not dead-lettered again, and only reading past them commits.
 */
export type PositionMode = 'store' | 'replay';

export interface RuntimeOptions {
  /** For logs and /readyz: "trace stage", "views", … */
  readonly name: string;
  /** The dead-letter stage label of records this runtime refuses. */
  readonly stage: DeadLetterStage;
  readonly log: Log;
  readonly group: string;
  readonly topics: readonly string[];
  /** The processor's state store, if it has one. */
  readonly store?: { readonly name: string; readonly changelog?: boolean };
  readonly positions: PositionMode;
  readonly logger: Logger;
}

/** The key of the runtime's position of `topic`/`partition` in a processor's store (next offset, u64 BE). */
export function positionKey(topic: string, partition: number): Buffer {
  return tupleKey('pos', topic, partition);
}

function encodePosition(nextOffset: number): Buffer {
  const value = Buffer.allocUnsafe(8);
  value.writeBigUInt64BE(BigInt(nextOffset));
  return value;
}

/** Appends outputs in the order produced, one append per topic. */
export function appendOutputs(unit: WorkUnit, outputs: readonly StageOutput[]): void {
  const byTopic = new Map<string, OutgoingRecord[]>();
  for (const { topic, record } of outputs) {
    const list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, [record]);
    else list.push(record);
  }
  for (const [topic, records] of byTopic) unit.append(topic, records);
}

export class ProcessingRuntime<S extends BufferedStore | null = BufferedStore> {
  private consumer: Consumer | null = null;
  private stateStore: StateStore | null = null;
  /** How far each input partition has been read and committed, with waiters (read-your-writes). */
  readonly positions = new Positions();
  /** Per partition, the offset up to which a replaying runtime had read before this start. */
  private readBefore = new Map<string, number>();
  readonly health: StageHealth;
  readonly poison: PoisonRecordPolicy;
  /** Group offsets found behind the state's position at assignment (a reset of the group), newest last. */
  readonly resets: { topic: string; partition: number; position: number; groupOffset: number | null }[] = [];

  constructor(
    private readonly options: RuntimeOptions,
    private readonly processor: Processor<S>,
  ) {
    this.health = new StageHealth(options.name);
    this.poison = new PoisonRecordPolicy(options.stage, options.logger);
  }

  /** Opens the state store (if any) without consuming: readers can answer from what earlier runs committed. */
  async open(): Promise<StateStore | null> {
    const { log, group, store } = this.options;
    if (store !== undefined) this.stateStore ??= await log.openStore(group, store.name, { changelog: store.changelog ?? false });
    return this.stateStore;
  }

  /** The state store, once open. */
  get store(): StateStore {
    if (this.stateStore === null) throw new Error(`${this.options.name} has no open state store`);
    return this.stateStore;
  }

  /** Opens the store and joins the consumer group (with Kafka, once the group has rebalanced). */
  async start(): Promise<void> {
    const { log, group, topics } = this.options;
    await this.open();
    if (this.options.positions === 'replay') {
      this.readBefore = new Map();
      for (const topic of topics) {
        for (const [partition, offset] of await log.committedOffsets(group, topic)) this.readBefore.set(tpKey(topic, partition), offset);
      }
    }
    this.consumer = await log.consume(
      { group, topics },
      {
        onAssigned: (partitions) => this.assigned(partitions),
        onRevoked: async (partitions) => {
          for (const partition of partitions) this.processor.revoked?.(partition);
        },
        eachBatch: (batch) => this.runBatch(batch),
        onIdle: this.processor.idle === undefined ? undefined : (partitions) => this.idle(partitions),
      },
    );
    this.health.watch(this.consumer.done, this.options.logger);
  }

  /** In its group: false before start() and after stop(). */
  get joined(): boolean {
    return this.consumer !== null;
  }

  /** Resolves when the consumer ends; rejects if the processor's own state failed. */
  get done(): Promise<void> {
    return this.consumer?.done ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }

  /** Stops, and fails whoever still waits for a position. */
  async close(): Promise<void> {
    await this.stop();
    this.positions.close();
  }

  /** Records of `topic` appended but not yet processed, over the partitions this process holds. */
  async lag(topic: string): Promise<number> {
    return this.positions.lag(topic, await this.options.log.endOffsets(topic));
  }

  private async assigned(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    const starts = new Map<string, number>();
    const committed = new Map<string, Map<number, number>>();
    for (const tp of partitions) {
      const { topic, partition } = tp;
      if (this.options.positions === 'replay') {
        starts.set(tpKey(topic, partition), 0);
        this.positions.set(topic, partition, 0);
      } else {
        const raw = this.stateStore === null ? null : await this.stateStore.get(positionKey(topic, partition));
        // No position of its own: the consumer begins at the group's offset (or the start),
        // and the position is known from the first batch it commits.
        const next = raw === null ? 0 : Number(raw.readBigUInt64BE(0));
        if (raw !== null) {
          starts.set(tpKey(topic, partition), next);
          if (!committed.has(topic)) committed.set(topic, await this.options.log.committedOffsets(this.options.group, topic));
          this.warnIfReset(topic, partition, next, committed.get(topic)!.get(partition));
        }
        this.positions.set(topic, partition, next);
      }
      await this.processor.assigned?.(tp, this.stateStore as never);
    }
    return starts;
  }

  /**
   * The group's offset is committed with every unit (only the views in Kafka mode commit it
   * just after theirs, so a crash can leave it one batch behind), so it falls behind the
   * state's position when someone moved it: a consumer-group reset. The state wins: its windows,
   * baselines and outputs already reflect those records, and reading them again would emit
   * everything twice. Said loudly, since the reset was surely meant to reprocess history
   * (README, "Replaying history").
   */
  private warnIfReset(topic: string, partition: number, position: number, groupOffset: number | undefined): void {
    if (groupOffset !== undefined && groupOffset >= position) return;
    this.options.logger.warn(
      { group: this.options.group, topic, partition, position, groupOffset: groupOffset ?? null },
      `${this.options.name}: the consumer group's offset of ${topic}/${partition} (${groupOffset ?? 'none'}) is behind this ` +
        `stage's state (${position}): the group was reset or deleted (or its last commit was cut short). Processing resumes at ${position}, from the state: ` +
        'resetting a group does not reprocess history (see "Replaying history" in the README)',
    );
    this.resets.push({ topic, partition, position, groupOffset: groupOffset ?? null });
  }

  private context(topic: string, partition: number): ProcessorContext<S> {
    const store = (this.stateStore === null ? null : new BufferedStore(this.stateStore)) as S;
    const outputs: StageOutput[] = [];
    const readBefore = this.readBefore.get(tpKey(topic, partition)) ?? 0;
    const poison = this.poison;
    return {
      topic,
      partition,
      store,
      outputs,
      emit: (to, record) => void outputs.push({ topic: to, record }),
      isolate: (record, process, options) => poison.isolate({ store, outputs }, record, process, options),
      deadLetter: (record: DeadLetterSource, reason: DeadLetterReason, message: string, err?: unknown) => {
        // A replaying runtime reads its records again at every start: refuse each only once.
        if (this.options.positions === 'replay' && record.offset < readBefore) return;
        poison.deadLetter(outputs, record, reason, message, err);
      },
    };
  }

  /** One batch: the processor's work, then one unit with its outputs, writes and the new position. */
  private async runBatch(batch: Batch): Promise<void> {
    const last: LogRecord | undefined = batch.records[batch.records.length - 1];
    const context = this.context(batch.topic, batch.partition);
    await this.processor.process(batch.records, context);
    if (last === undefined) return;
    const next = last.offset + 1;
    if (this.options.positions === 'replay' && next <= (this.readBefore.get(tpKey(batch.topic, batch.partition)) ?? 0)) {
      // Read again after a restart, refused before: nothing new to make durable.
      this.positions.set(batch.topic, batch.partition, next);
      return;
    }
    await this.commit(context, next);
  }

  private async idle(partitions: readonly TopicPartition[]): Promise<void> {
    for (const { topic, partition } of partitions) {
      const context = this.context(topic, partition);
      await this.processor.idle!(context);
      const wrote = context.store !== null && context.store.hasWrites;
      if (wrote || context.outputs.length > 0) await this.commit(context, null);
    }
  }

  private async commit(context: ProcessorContext<S>, next: number | null): Promise<void> {
    const { topic, partition, store, outputs } = context;
    this.processor.beforeCommit?.(context);
    // A changelog-backed store's writes go to the changelog partition of the input partition
    // (and its transactional producer, so a newer owner fences this one); other units need none.
    const unit = this.options.log.beginUnit(this.options.group, this.options.store?.changelog === true ? { partition } : undefined);
    appendOutputs(unit, outputs);
    if (next !== null) {
      if (store !== null && this.options.positions === 'store') store.put(positionKey(topic, partition), encodePosition(next));
      unit.consumed(topic, partition, next);
    }
    store?.flushInto(unit);
    try {
      await unit.commit();
    } catch (err) {
      this.processor.commitFailed?.(context);
      throw err;
    }
    this.processor.committed?.(context, next);
    if (next !== null) this.positions.set(topic, partition, next);
  }
}
