/**
 * A unit of work in Kafka mode (port.ts, WorkUnit). commit() runs at most one Kafka
 * transaction, then one local RocksDB batch:
 *
 * 1. The transaction holds the unit's output records, one changelog record per change to
 *    a store opened with `changelog` (to changelog partition = the unit's input
 *    partition), and the consumed offsets (sendOffsets). It runs on the transactional
 *    producer of the unit's input partition, so a newer owner of that partition fences it.
 * 2. After the transaction committed, the store writes, the changelog checkpoint (the
 *    offset after this unit's changelog records) and the consumed offsets are written
 *    locally in one batch. A crash between the two steps leaves the local store behind
 *    its changelog, and the next assignment of the partition replays the difference.
 *
 * A unit without an input partition may not write a changelog store (its changes could
 * not be placed in a changelog partition). If it appends records, they and its offsets
 * commit in a transaction of this process's own transactional id. If it only writes local
 * stores (the views), it never touches Kafka: its offsets are kept with the store writes,
 * and the consumer runtime commits the group offset after the batch.
 */
import type { RecordMetadata, TopicMessages } from 'kafkajs';
import type { OutgoingRecord, StateStore, StoreOp, WorkUnit } from '../port.js';
import { tpKey } from '../port.js';
import { encodeU64, groupOffsetKey } from '../rocks/keys.js';
import { changelogEntries } from './changelog.js';
import { KafkaLogError } from './errors.js';
import { routeRecords, type RoutedMessage } from './records.js';
import { checkpointKey, encodeCheckpoint, KafkaStateStore, type LocalState } from './state.js';
import type { TopicCatalog } from './topics.js';

/** A unit's transaction is tried this many times on retryable failures, with backoff. */
const UNIT_ATTEMPTS = 6;
const UNIT_RETRY_BASE_MS = 100;
const UNIT_RETRY_MAX_MS = 3_000;
/** After a commit of unknown outcome, how often and how long the group's offsets are read. */
const OUTCOME_CHECKS = 5;
const OUTCOME_CHECK_INTERVAL_MS = 200;
import { CommitOutcomeUnknown, instanceTransactionalId, partitionTransactionalId, type TransactionalProducer, type TransactionalProducers } from './transactions.js';

export interface UnitContext {
  readonly topics: TopicCatalog;
  readonly state: LocalState;
  readonly transactions: TransactionalProducers;
  readonly instanceId: string;
  readonly requestTimeoutMs: number;
  /** The topic `group` consumes in this process when it is exactly one, else null. */
  inputTopicOf(group: string): string | null;
  /** The offsets `group` has committed on `topic`, by partition. */
  committedOffsets(group: string, topic: string): Promise<Map<number, number>>;
  /** Creates the store's changelog topic if needed, with the partitions of `inputTopic`. */
  ensureChangelog(store: KafkaStateStore, inputTopic: string): Promise<void>;
  assertOpen(): void;
}

export class KafkaWorkUnit implements WorkUnit {
  private readonly appends: { topic: string; records: readonly OutgoingRecord[]; messages: RoutedMessage[] | null }[] = [];
  private readonly writes: { store: KafkaStateStore; ops: readonly StoreOp[] }[] = [];
  private readonly positions = new Map<string, { topic: string; partition: number; next: number }>();
  private committed = false;

  constructor(
    private readonly context: UnitContext,
    readonly group: string,
    readonly partition: number | undefined,
  ) {
    if (partition !== undefined && (!Number.isInteger(partition) || partition < 0)) {
      throw new RangeError(`beginUnit: invalid partition ${partition}`);
    }
  }

  /** Routed now when the topic's partitions are known (so errors show at once), else at commit. */
  append(topic: string, records: readonly OutgoingRecord[]): void {
    this.assertOpen();
    if (records.length === 0) return;
    const partitions = this.context.topics.cachedPartitions(topic);
    const messages = partitions === undefined ? null : routeRecords(topic, partitions, records, this.context.topics.roundRobin(topic), Date.now());
    this.appends.push({ topic, records: [...records], messages });
  }

  write(store: StateStore, ops: readonly StoreOp[]): void {
    this.assertOpen();
    if (!(store instanceof KafkaStateStore) || store.group !== this.group) {
      throw new Error(`store ${store.name} was not opened by this log for group ${this.group}`);
    }
    if (store.changelog !== null && this.partition === undefined && ops.length > 0) {
      throw new KafkaLogError(
        'invalid',
        `store ${store.name} of group ${this.group} has a changelog, so a unit that writes it must name its input partition: ` +
          `beginUnit(group, { partition })`,
      );
    }
    this.writes.push({ store, ops: [...ops] });
  }

  consumed(topic: string, partition: number, nextOffset: number): void {
    this.assertOpen();
    const partitions = this.context.topics.cachedPartitions(topic) ?? Infinity;
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
      throw new RangeError(`topic ${topic} has ${partitions} partitions; consumed() names partition ${partition}`);
    }
    if (!Number.isSafeInteger(nextOffset) || nextOffset < 0) throw new RangeError(`consumed(): invalid offset ${nextOffset}`);
    this.positions.set(tpKey(topic, partition), { topic, partition, next: nextOffset });
  }

  async commit(): Promise<void> {
    this.assertOpen();
    this.committed = true;
    this.context.assertOpen();
    if (this.appends.length === 0 && this.writes.length === 0 && this.positions.size === 0) return;

    await this.route();
    const changelog = await this.changelogMessages();
    const inKafka = this.appends.length > 0 || changelog.length > 0 || (this.partition !== undefined && this.positions.size > 0);
    const checkpoints = inKafka ? await this.transactWithRetries(changelog) : [];

    if (this.writes.length === 0 && checkpoints.length === 0 && this.positions.size === 0) return;
    await this.context.state.write((batch) => {
      for (const { store, ops } of this.writes) store.put(batch, ops);
      for (const { topic, partition, next } of checkpoints) batch.tryPut(checkpointKey(topic, partition), encodeCheckpoint(next));
      for (const { topic, partition, next } of this.positions.values()) {
        batch.tryPut(groupOffsetKey(this.group, topic, partition), encodeU64(next));
      }
    });
  }

  /** Routes the records of topics whose partitions were not known at append(). */
  private async route(): Promise<void> {
    for (const pending of this.appends) {
      if (pending.messages !== null) continue;
      const partitions = await this.context.topics.partitionCount(pending.topic);
      pending.messages = routeRecords(pending.topic, partitions, pending.records, this.context.topics.roundRobin(pending.topic), Date.now());
    }
    for (const { topic, partition } of this.positions.values()) {
      const partitions = await this.context.topics.partitionCount(topic);
      if (partition >= partitions) throw new RangeError(`topic ${topic} has ${partitions} partitions; consumed() names partition ${partition}`);
    }
  }

  /** Changelog records of every changelog store written, per store topic, in write order. */
  private async changelogMessages(): Promise<TopicMessages[]> {
    if (this.partition === undefined) return [];
    const partition = this.partition;
    const opsByStore = new Map<KafkaStateStore, StoreOp[]>();
    for (const { store, ops } of this.writes) {
      if (store.changelog === null || ops.length === 0) continue;
      const list = opsByStore.get(store);
      if (list === undefined) opsByStore.set(store, [...ops]);
      else list.push(...ops);
    }
    const messages: TopicMessages[] = [];
    for (const [store, ops] of opsByStore) {
      const topic = store.changelog!;
      await this.context.ensureChangelog(store, this.inputTopic());
      const partitions = this.context.topics.partitionsOf(topic);
      if (partition >= partitions) {
        throw new KafkaLogError('invalid', `changelog ${topic} has ${partitions} partitions; the unit names input partition ${partition}`);
      }
      const entries = await changelogEntries(store, ops);
      if (entries.length > 0) messages.push({ topic, messages: entries.map(({ key, value }) => ({ key, value, partition })) });
    }
    return messages;
  }

  /**
   * Retries the whole transaction on retryable failures (a coordinator moving, a leader
   * election, a broker restarting). An aborted attempt is invisible to read_committed
   * readers, so trying again cannot duplicate anything; a stage should not die of a blip.
   */
  private async transactWithRetries(changelog: readonly TopicMessages[]): Promise<{ topic: string; partition: number; next: number }[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transact(changelog);
      } catch (err) {
        // Sending it all again after a commit that did happen would emit everything twice.
        if (err instanceof CommitOutcomeUnknown && (await this.committedAfterAll(err))) {
          return this.checkpointsOf(changelog, err.result as RecordMetadata[]);
        }
        if (!(err instanceof KafkaLogError) || !err.retryable || attempt >= UNIT_ATTEMPTS) throw err;
        const delay = Math.min(UNIT_RETRY_MAX_MS, UNIT_RETRY_BASE_MS * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /**
   * Whether a transaction whose commit failed committed after all. Its transactional id is
   * initialized again first, which settles it; then the group's offsets show whether the
   * consumed offsets it carried were committed. A unit that consumed nothing cannot tell,
   * and counts as not committed (what it emits may then appear twice).
   */
  private async committedAfterAll(failure: CommitOutcomeUnknown): Promise<boolean> {
    if (this.positions.size === 0) return false;
    try {
      await this.producer().init();
      // The group coordinator applies the transaction's marker to the offsets a moment after
      // the transaction completes: an aborted one is told by offsets that never move.
      for (let check = 1; ; check++) {
        let all = true;
        for (const { topic, partition, next } of this.positions.values()) {
          if ((await this.context.committedOffsets(this.group, topic)).get(partition) !== next) all = false;
        }
        if (all) return true;
        if (check >= OUTCOME_CHECKS) return false;
        await new Promise((resolve) => setTimeout(resolve, OUTCOME_CHECK_INTERVAL_MS));
      }
    } catch (err) {
      // Unsettled: the next attempt's initialization settles it, and this unit fails if that
      // attempt fails too (a crashed unit is re-run from the changelog, which knows).
      throw err instanceof KafkaLogError ? err : failure;
    }
  }

  private producer(): TransactionalProducer {
    return this.context.transactions.get(
      this.partition === undefined
        ? instanceTransactionalId(this.group, this.context.instanceId)
        : partitionTransactionalId(this.group, this.inputTopic(), this.partition),
    );
  }

  /** Runs the transaction; returns, per changelog partition written, the offset after its records. */
  private async transact(changelog: readonly TopicMessages[]): Promise<{ topic: string; partition: number; next: number }[]> {
    const producer = this.producer();
    const outputs: TopicMessages[] = this.appends.map(({ topic, messages }) => ({ topic, messages: messages ?? [] }));
    const topicMessages = [...outputs, ...changelog];
    const metadata = await producer.run(async (transaction) => {
      const sent: RecordMetadata[] =
        topicMessages.length === 0
          ? []
          : await transaction.sendBatch({ acks: -1, timeout: this.context.requestTimeoutMs, topicMessages });
      if (this.positions.size > 0) {
        const byTopic = new Map<string, { partition: number; offset: string }[]>();
        for (const { topic, partition, next } of this.positions.values()) {
          byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset: String(next) }]);
        }
        await transaction.sendOffsets({
          consumerGroupId: this.group,
          topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
        });
      }
      return sent;
    });
    return this.checkpointsOf(changelog, metadata);
  }

  private checkpointsOf(changelog: readonly TopicMessages[], metadata: readonly RecordMetadata[]): { topic: string; partition: number; next: number }[] {
    return changelog.map(({ topic, messages }) => {
      const partition = this.partition!;
      const base = metadata.find((m) => m.topicName === topic && m.partition === partition)?.baseOffset;
      if (base === undefined) throw new Error(`the broker returned no offset for ${topic}/${partition}`);
      return { topic, partition, next: Number(base) + messages.length };
    });
  }

  /** The input topic whose partition this unit names. */
  private inputTopic(): string {
    const topic = this.context.inputTopicOf(this.group);
    if (topic !== null) return topic;
    const consumed = new Set([...this.positions.values()].map((p) => p.topic));
    if (consumed.size === 1) return [...consumed][0]!;
    throw new KafkaLogError(
      'invalid',
      `cannot tell which topic's partition ${this.partition} a unit of group ${this.group} processes: ` +
        'start its consumer (with exactly one topic) first, or name the offset with consumed()',
    );
  }

  private assertOpen(): void {
    if (this.committed) throw new Error('work unit already committed');
  }
}
