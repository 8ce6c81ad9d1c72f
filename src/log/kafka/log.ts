import type { Admin, Kafka } from 'kafkajs';
import { assertName } from '../rocks/keys.js';
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
import type { AppendProducer } from './append.js';
import { changelogTopicName, restoreChangelogPartition } from './changelog.js';
import { KafkaLogConsumer, type ConsumerContext } from './consumer.js';
import { KafkaLogError, kafkaLogError, withCoordinatorRetry } from './errors.js';
import type { HealthCheck } from './health.js';
import type { Logger, ResolvedKafkaLogOptions } from './options.js';
import type { PartitionReader } from './partition-reader.js';
import { routeRecords } from './records.js';
import type { KafkaStateStore, LocalState } from './state.js';
import type { TopicCatalog } from './topics.js';
import { partitionTransactionalId, type TransactionalProducers } from './transactions.js';
import { KafkaWorkUnit, type UnitContext } from './unit.js';

/** How long endOffsets waits for transactions open at the call to be decided. */
const END_OFFSETS_WAIT_MS = 1_000;

/**
 * The Kafka adapter's Log. Where it differs from the embedded log, within the port:
 * - onRevoked runs once kafkajs reports the new assignment, when another member may
 *   already have the partitions; the new owner's transactional producer fences this one.
 * - The consumed offsets a unit commits in its transaction show in committedOffsets once
 *   the coordinator has written the transaction markers, moments after commit() resolved;
 *   its outputs show in endOffsets (which waits for that) and its store writes at once.
 */
export interface KafkaLog extends Log {
  readonly kind: 'kafka';
}

/** The parts a KafkaLogImpl is made of (built by createKafkaLog in index.ts). */
export interface KafkaLogParts {
  readonly options: ResolvedKafkaLogOptions;
  readonly logger: Logger;
  /** The client of consumers, transactions and admin requests (kafkajs's default retries). */
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly topics: TopicCatalog;
  readonly appender: AppendProducer;
  readonly transactions: TransactionalProducers;
  readonly reader: PartitionReader;
  readonly state: LocalState;
  readonly health: HealthCheck;
}

export class KafkaLogImpl implements KafkaLog, ConsumerContext, UnitContext {
  readonly kind = 'kafka';
  readonly options: ResolvedKafkaLogOptions;
  readonly logger: Logger;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly topics: TopicCatalog;
  readonly transactions: TransactionalProducers;
  readonly reader: PartitionReader;
  readonly state: LocalState;
  private readonly consumers = new Set<KafkaLogConsumer>();
  /** Topics each group consumes in this process (kept after its consumer stops). */
  private readonly inputs = new Map<string, readonly string[]>();
  /** Stores with a changelog, per group. */
  private readonly changelogStores = new Map<string, Map<string, KafkaStateStore>>();
  /** Changelog topics created (or being created) by this process. */
  private readonly changelogs = new Map<string, Promise<void>>();
  private closing: Promise<void> | null = null;

  constructor(private readonly parts: KafkaLogParts) {
    this.options = parts.options;
    this.logger = parts.logger;
    this.kafka = parts.kafka;
    this.admin = parts.admin;
    this.topics = parts.topics;
    this.transactions = parts.transactions;
    this.reader = parts.reader;
    this.state = parts.state;
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs;
  }

  assertOpen(): void {
    if (this.closing !== null) throw new KafkaLogError('invalid', 'kafka log is closed');
  }

  async ensureTopics(declarations: readonly TopicDeclaration[]): Promise<string[]> {
    this.assertOpen();
    return this.topics.ensure(declarations);
  }

  partitionsOf(topic: string): number {
    return this.topics.partitionsOf(topic);
  }

  async append(topic: string, records: readonly OutgoingRecord[]): Promise<AppendResult[]> {
    this.assertOpen();
    let partitions = await this.topics.partitionCount(topic);
    if (records.some((record) => record.partition !== undefined && record.partition >= partitions)) {
      await this.topics.refresh([topic]); // the topic may have grown since it was cached
      partitions = await this.topics.partitionCount(topic);
    }
    const messages = routeRecords(topic, partitions, records, this.topics.roundRobin(topic), Date.now());
    return this.parts.appender.append(topic, messages);
  }

  async consume(options: ConsumerOptions, handlers: ConsumerHandlers): Promise<Consumer> {
    this.assertOpen();
    if (options.group === '') throw new Error('consume() needs a group');
    this.inputs.set(options.group, [...options.topics]);
    const consumer = await KafkaLogConsumer.start(this, options, handlers);
    this.consumers.add(consumer);
    return consumer;
  }

  forget(consumer: KafkaLogConsumer): void {
    this.consumers.delete(consumer);
  }

  async openStore(group: string, name: string, options?: { readonly changelog?: boolean }): Promise<StateStore> {
    this.assertOpen();
    assertName('group', group);
    assertName('store', name);
    if (options?.changelog !== true) return this.state.store(group, name, null);
    const store = this.state.store(group, name, changelogTopicName(group, name));
    let stores = this.changelogStores.get(group);
    if (stores === undefined) {
      stores = new Map();
      this.changelogStores.set(group, stores);
    }
    if (!stores.has(name) && [...this.consumers].some((c) => c.group === group)) {
      throw new KafkaLogError('invalid', `open store ${name} of group ${group} before consume(): its changelog is restored when partitions are assigned`);
    }
    stores.set(name, store);
    return store;
  }

  beginUnit(group: string, options?: { readonly partition?: number }): WorkUnit {
    this.assertOpen();
    assertName('group', group);
    return new KafkaWorkUnit(this, group, options?.partition);
  }

  /** The group's committed offsets from the group coordinator (partitions without one left out). */
  async committedOffsets(group: string, topic: string): Promise<Map<number, number>> {
    this.assertOpen();
    await this.topics.partitionCount(topic);
    try {
      const [offsets] = await withCoordinatorRetry(() => this.admin.fetchOffsets({ groupId: group, topics: [topic] }));
      const result = new Map<number, number>();
      for (const { partition, offset } of offsets?.partitions ?? []) {
        if (Number(offset) >= 0) result.set(partition, Number(offset));
      }
      return result;
    } catch (err) {
      throw kafkaLogError(`cannot read the offsets of group ${group} on ${topic}`, err);
    }
  }

  /**
   * Per partition, the position a read_committed consumer reaches once it has read every
   * record appended before the call: one past the last record it receives (see
   * PartitionReader.readableEnds). Not the high watermark: a transactional write ends with
   * a commit marker no consumer ever receives, so a reader that has read everything stands
   * below the high watermark, and "wait until the views have read up to the end" would
   * never finish. Not simply the last stable offset either: it has the same markers below
   * it, and right after a transaction commits it still lags until the coordinator has
   * written the markers, so records already committed would be missed. Transactions still
   * open at the call are waited for, briefly (END_OFFSETS_WAIT_MS), then left out.
   */
  async endOffsets(topic: string): Promise<number[]> {
    this.assertOpen();
    const partitions = await this.topics.partitionCount(topic);
    return this.reader.readableEnds(topic, partitions, Math.min(END_OFFSETS_WAIT_MS, this.options.requestTimeoutMs));
  }

  /** One fetch from the partition's leader at read_committed isolation (PartitionReader.read). */
  async readPartition(topic: string, partition: number, from: number, max: number): Promise<LogRecord[]> {
    this.assertOpen();
    const partitions = await this.topics.partitionCount(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
      throw new KafkaLogError('invalid', `${topic} has no partition ${partition} (it has ${partitions})`);
    }
    if (max <= 0) return [];
    return this.reader.read(topic, partition, Math.max(from, 0), max);
  }

  /**
   * From what the background probe and the consumers last saw, without asking the
   * cluster: it answers, and every consumer of this process is in its group and fetching
   * (after an outage, not before its group has rejoined).
   */
  async healthy(): Promise<boolean> {
    if (this.closing !== null) return false;
    return this.parts.health.check() && [...this.consumers].every((consumer) => consumer.consuming);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ConsumerContext and UnitContext

  hasChangelogs(group: string): boolean {
    return (this.changelogStores.get(group)?.size ?? 0) > 0;
  }

  inputTopicOf(group: string): string | null {
    const topics = this.inputs.get(group);
    return topics !== undefined && topics.length === 1 ? topics[0]! : null;
  }

  async prepareChangelogs(group: string, inputTopic: string): Promise<void> {
    for (const store of this.changelogStores.get(group)?.values() ?? []) await this.ensureChangelog(store, inputTopic);
  }

  /** Creates (once per process) the compacted changelog topic with the input topic's partitions. */
  ensureChangelog(store: KafkaStateStore, inputTopic: string): Promise<void> {
    const topic = store.changelog;
    if (topic === null) return Promise.resolve();
    let ready = this.changelogs.get(topic);
    if (ready === undefined) {
      ready = (async () => {
        const partitions = await this.topics.partitionCount(inputTopic);
        const drift = await this.topics.ensure([
          {
            name: topic,
            partitions,
            cleanupPolicy: 'compact',
            retentionMs: -1,
            key: 'state store key',
            valueSchema: 'bytes',
            description: `changelog of state store ${store.name} of group ${store.group}, one partition per partition of ${inputTopic}`,
          },
        ]);
        for (const message of drift) this.logger.warn({ topic }, message);
      })();
      ready.catch(() => this.changelogs.delete(topic));
      this.changelogs.set(topic, ready);
    }
    return ready;
  }

  async restore(group: string, inputTopic: string, partitions: readonly number[]): Promise<void> {
    const stores = [...(this.changelogStores.get(group)?.values() ?? [])];
    await Promise.all(
      partitions.map(async (partition) => {
        const id = partitionTransactionalId(group, inputTopic, partition);
        if (this.transactions.isFenced(id)) await this.transactions.release(id);
        await this.transactions.get(id).init();
      }),
    );
    for (const store of stores) {
      const topic = store.changelog!;
      await this.ensureChangelog(store, inputTopic);
      if (partitions.some((partition) => partition >= this.topics.partitionsOf(topic))) {
        // The input topic grew: so must its changelog.
        this.changelogs.delete(topic);
        await this.topics.refresh([inputTopic]);
        await this.ensureChangelog(store, inputTopic);
      }
      const changelogPartitions = this.topics.partitionsOf(topic);
      await Promise.all(
        partitions.map(async (partition) => {
          const started = Date.now();
          const result = await restoreChangelogPartition(this.reader, this.state, store, changelogPartitions, partition);
          if (result.localAhead) {
            this.logger.warn({ ...result, group, store: store.name }, 'kafka log: the local store is ahead of its changelog (was the topic recreated?); keeping it');
          } else if (result.to > result.from) {
            this.logger.info({ ...result, group, store: store.name, ms: Date.now() - started }, 'kafka log restored a store partition from its changelog');
          }
        }),
      );
    }
  }

  /** Consumers first: their last batch may still append or commit units. */
  private async shutdown(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.stop()));
    const steps: [string, () => Promise<void>][] = [
      ['append producer', () => this.parts.appender.close()],
      ['transactional producers', () => this.transactions.closeAll()],
      ['partition reader', () => this.reader.close()],
      ['admin client', () => this.admin.disconnect()],
      ['health check', () => this.parts.health.close()],
    ];
    for (const [what, step] of steps) {
      await step().catch((err: unknown) => this.logger.warn({ err }, `kafka log: closing the ${what} failed`));
    }
    await this.state.close();
  }
}
