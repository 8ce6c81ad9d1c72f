import type RocksDB from 'rocksdb-native';
import type {
  AppendResult,
  Consumer,
  ConsumerHandlers,
  ConsumerOptions,
  Log,
  LogRecord,
  OutgoingRecord,
  StateStore,
  TopicDeclaration,
  WorkUnit,
} from '../port.js';
import { planAppend, routeRecords } from './append.js';
import { EmbeddedConsumer, type ConsumerContext } from './consumer.js';
import { assertName, encodeU64, groupOffsetKey, groupOffsetPrefix, partitionOfGroupOffsetKey, prefixEnd, readU64 } from './keys.js';
import type { Logger } from '../rocks/logger.js';
import { readRecords } from './reader.js';
import { sweepRetention } from './retention.js';
import { RocksStateStore } from '../rocks/state-store.js';
import type { TopicRegistry } from './topics.js';
import { EmbeddedWorkUnit, type UnitContext } from './unit.js';
import { WakeSignal } from './wake.js';
import type { Writer } from '../rocks/writer.js';

const RETENTION_INTERVAL_MS = 60_000;

/** The embedded adapter's Log, plus what tests and operators may look at. */
export interface EmbeddedLog extends Log {
  readonly kind: 'embedded';
  /** fdatasync rounds of the group commit so far; always 0 with sync: 'none'. */
  readonly fsyncRounds: number;
  /** Runs the retention sweep now (it also runs every minute); resolves with the records deleted. */
  sweepRetention(now?: number): Promise<number>;
}

export class EmbeddedLogImpl implements EmbeddedLog, ConsumerContext, UnitContext {
  readonly kind = 'embedded';
  readonly wake = new WakeSignal();
  private readonly consumers = new Set<EmbeddedConsumer>();
  private readonly retentionTimer: NodeJS.Timeout;
  private sweeping: Promise<number> = Promise.resolve(0);
  private closing: Promise<void> | null = null;

  constructor(
    readonly db: RocksDB,
    readonly topics: TopicRegistry,
    readonly writer: Writer,
    readonly logger: Logger,
  ) {
    this.retentionTimer = setInterval(() => {
      this.sweepRetention().then(
        (deleted) => {
          if (deleted > 0) this.logger.debug({ deleted }, 'embedded log retention deleted old records');
        },
        (err: unknown) => this.logger.warn({ err }, 'embedded log retention sweep failed'),
      );
    }, RETENTION_INTERVAL_MS);
    this.retentionTimer.unref();
  }

  get fsyncRounds(): number {
    return this.writer.fsyncRounds;
  }

  ensureTopics(declarations: readonly TopicDeclaration[]): Promise<string[]> {
    return this.topics.ensure(declarations, this.writer);
  }

  partitionsOf(topic: string): number {
    return this.topics.get(topic).partitions.length;
  }

  async append(topic: string, records: readonly OutgoingRecord[]): Promise<AppendResult[]> {
    const routed = routeRecords(this.topics.get(topic), records, Date.now());
    if (routed.records.length === 0) return [];
    const plan = planAppend(routed);
    const publish = () => {
      plan.release();
      this.wake.notify(topic);
    };
    try {
      await this.writer.write((batch) => plan.put(batch), true, publish);
    } finally {
      publish(); // a failed write leaves a gap that readers step over
    }
    return [...plan.results];
  }

  async consume(options: ConsumerOptions, handlers: ConsumerHandlers): Promise<Consumer> {
    if (this.closing !== null) throw new Error('embedded log is closed');
    assertName('group', options.group);
    const consumer = new EmbeddedConsumer(this, options, handlers);
    this.consumers.add(consumer);
    const forget = (): void => void this.consumers.delete(consumer);
    consumer.done.then(forget, forget);
    return consumer;
  }

  /** Stores live inside the log's own database, so a changelog would add nothing here. */
  async openStore(group: string, name: string, _options?: { readonly changelog?: boolean }): Promise<StateStore> {
    assertName('group', group);
    assertName('store', name);
    return new RocksStateStore(this.db, group, name);
  }

  beginUnit(group: string, _options?: { readonly partition?: number }): WorkUnit {
    assertName('group', group);
    return new EmbeddedWorkUnit(this, group);
  }

  async committedOffsets(group: string, topic: string): Promise<Map<number, number>> {
    assertName('group', group);
    this.topics.get(topic);
    const prefix = groupOffsetPrefix(group, topic);
    const offsets = new Map<number, number>();
    for await (const { key, value } of this.db.iterator({ gte: prefix, lt: prefixEnd(prefix) })) {
      offsets.set(partitionOfGroupOffsetKey(key), readU64(value, 0));
    }
    return offsets;
  }

  /**
   * The position a consumer reached, written after its handler resolved. No fsync: a
   * handler that needs exactly-once made its effects and this offset durable in a unit;
   * for the others, losing it to a power cut means records are delivered again.
   */
  commitPosition(group: string, topic: string, partition: number, nextOffset: number): Promise<void> {
    return this.writer.write((batch) => batch.tryPut(groupOffsetKey(group, topic, partition), encodeU64(nextOffset)), false);
  }

  /** Next offset per partition, counting only appends that have completed. */
  async endOffsets(topic: string): Promise<number[]> {
    return this.topics.get(topic).partitions.map((partition) => partition.stableEnd);
  }

  async readPartition(topic: string, partition: number, from: number, max: number): Promise<LogRecord[]> {
    const state = this.topics.get(topic).partitions[partition];
    if (state === undefined) throw new Error(`embedded log: ${topic} has no partition ${partition}`);
    return readRecords(this.db, state, Math.max(from, state.start), state.stableEnd, max);
  }

  async healthy(): Promise<boolean> {
    return this.closing === null && this.writer.healthy;
  }

  sweepRetention(now = Date.now()): Promise<number> {
    const run = this.sweeping.catch(() => 0).then(() => sweepRetention(this.db, this.topics, this.writer, now));
    this.sweeping = run;
    return run;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Consumers first: their last batch may still append or commit units. */
  private async shutdown(): Promise<void> {
    clearInterval(this.retentionTimer);
    await Promise.all([...this.consumers].map((consumer) => consumer.stop()));
    await this.sweeping.catch(() => undefined);
    await this.writer.close();
    await this.db.close();
  }
}
