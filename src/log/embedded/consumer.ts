import type RocksDB from 'rocksdb-native';
import type { Consumer, ConsumerHandlers, ConsumerOptions, TopicPartition } from '../port.js';
import { tpKey } from '../port.js';
import type { Logger } from '../rocks/logger.js';
import type { PartitionState } from './partition.js';
import { readRecords } from './reader.js';
import type { TopicRegistry } from './topics.js';
import type { WakeSignal } from './wake.js';

/** How often an idle consumer calls onIdle and looks for records without being woken. */
export const IDLE_INTERVAL_MS = 200;
const DEFAULT_MAX_BATCH_RECORDS = 500;

export interface ConsumerContext {
  readonly db: RocksDB;
  readonly topics: TopicRegistry;
  readonly wake: WakeSignal;
  readonly logger: Logger;
  committedOffsets(group: string, topic: string): Promise<Map<number, number>>;
  commitPosition(group: string, topic: string, partition: number, nextOffset: number): Promise<void>;
}

interface Assignment {
  readonly state: PartitionState;
  readonly tp: TopicPartition;
  /** Next offset to read. */
  position: number;
}

/**
 * The only member of its group in this process, so it owns every partition of its
 * topics (and those a topic gains later). It hands the handler one batch at a time,
 * partition after partition, records the group's position after each batch, and sleeps
 * when caught up until an append wakes it or IDLE_INTERVAL_MS passes.
 */
export class EmbeddedConsumer implements Consumer {
  readonly done: Promise<void>;
  private readonly maxBatchRecords: number;
  private readonly assignments: Assignment[] = [];
  private readonly assignedPerTopic = new Map<string, number>();
  private stopping = false;
  /** Set by wake(): records may have arrived since the current pass began. */
  private woken = false;
  private interruptSleep: (() => void) | null = null;
  private lastIdle = 0;

  /** Subscribed to the topics' appends; also ends a sleep early when stopping. */
  private readonly wake = (): void => {
    this.woken = true;
    this.interruptSleep?.();
  };

  constructor(
    private readonly context: ConsumerContext,
    private readonly options: ConsumerOptions,
    private readonly handlers: ConsumerHandlers,
  ) {
    const max = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxBatchRecords must be a positive integer, got ${max}`);
    this.maxBatchRecords = max;
    if (options.topics.length === 0) throw new Error('consume() needs at least one topic');
    for (const topic of options.topics) context.topics.get(topic);
    this.done = this.run();
    // The failure is logged in run() and reported through `done`; an owner that never
    // looks at `done` must not get an unhandled rejection on top.
    this.done.catch(() => undefined);
  }

  /** Lets the batch in progress finish, then resolves (also when a handler had failed). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.done.catch(() => undefined);
  }

  private async run(): Promise<void> {
    const unsubscribe = this.context.wake.subscribe(this.options.topics, this.wake);
    try {
      while (!this.stopping) {
        this.woken = false;
        await this.assignNewPartitions();
        const delivered = await this.pass();
        if (!delivered && !this.stopping) await this.idle();
      }
      if (this.assignments.length > 0) await this.handlers.onRevoked?.(this.assignments.map((a) => a.tp));
    } catch (err) {
      this.context.logger.error({ err, group: this.options.group }, 'embedded log consumer stopped: a handler failed');
      throw err;
    } finally {
      unsubscribe();
    }
  }

  private async assignNewPartitions(): Promise<void> {
    const fresh: PartitionState[] = [];
    for (const topic of this.options.topics) {
      const { partitions } = this.context.topics.get(topic);
      fresh.push(...partitions.slice(this.assignedPerTopic.get(topic) ?? 0));
      this.assignedPerTopic.set(topic, partitions.length);
    }
    if (fresh.length === 0) return;

    const tps = fresh.map((state) => ({ topic: state.topic, partition: state.partition }));
    const chosen = (await this.handlers.onAssigned?.(tps)) || new Map<string, number>();
    const committed = new Map<string, Map<number, number>>();
    for (const state of fresh) {
      let position = chosen.get(tpKey(state.topic, state.partition));
      if (position === undefined) {
        let offsets = committed.get(state.topic);
        if (offsets === undefined) {
          offsets = await this.context.committedOffsets(this.options.group, state.topic);
          committed.set(state.topic, offsets);
        }
        position = offsets.get(state.partition) ?? 0;
      }
      if (!Number.isSafeInteger(position) || position < 0) {
        throw new RangeError(`onAssigned gave ${state.topic}/${state.partition} the invalid start offset ${position}`);
      }
      this.assignments.push({ state, tp: { topic: state.topic, partition: state.partition }, position });
    }
  }

  /** One batch from each partition that has records; true if any were delivered. */
  private async pass(): Promise<boolean> {
    let delivered = false;
    for (const assignment of this.assignments) {
      if (this.stopping) break;
      if (await this.deliver(assignment)) delivered = true;
    }
    return delivered;
  }

  private async deliver(assignment: Assignment): Promise<boolean> {
    const { state } = assignment;
    const end = state.stableEnd;
    const from = Math.max(assignment.position, state.start);
    if (from >= end) return false;

    const records = await readRecords(this.context.db, state, from, end, this.maxBatchRecords);
    const last = records.at(-1);
    if (last === undefined) {
      assignment.position = end; // nothing but gaps left by failed writes or retention
      return false;
    }
    await this.handlers.eachBatch({ topic: state.topic, partition: state.partition, records, highWatermark: end });
    assignment.position = last.offset + 1;
    await this.context.commitPosition(this.options.group, state.topic, state.partition, assignment.position);
    return true;
  }

  private async idle(): Promise<void> {
    const now = Date.now();
    if (this.handlers.onIdle !== undefined && now - this.lastIdle >= IDLE_INTERVAL_MS) {
      this.lastIdle = now;
      await this.handlers.onIdle(this.assignments.map((a) => a.tp));
    }
    if (this.woken || this.stopping) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.interruptSleep?.(), IDLE_INTERVAL_MS);
      this.interruptSleep = () => {
        clearTimeout(timer);
        this.interruptSleep = null;
        resolve();
      };
    });
  }
}
