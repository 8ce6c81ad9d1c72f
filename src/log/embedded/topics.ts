import type RocksDB from 'rocksdb-native';
import { createRoundRobin, type RoundRobin } from '../partitioner.js';
import type { TopicDeclaration } from '../port.js';
import {
  assertTopicName,
  logStartKey,
  MAX_PARTITIONS,
  offsetOfRecordKey,
  prefixEnd,
  readU64,
  recordPrefix,
  TOPIC_KEYS,
  topicKey,
} from './keys.js';
import { PartitionState } from './partition.js';
import type { Writer } from '../rocks/writer.js';

export interface TopicState {
  readonly declaration: TopicDeclaration;
  readonly partitions: readonly PartitionState[];
  /** Per topic, as kafkajs keeps its counters, for records without a key. */
  readonly roundRobin: RoundRobin;
}

/** Declared topics and their partitions' offsets, loaded at open and kept in memory. */
export class TopicRegistry {
  private readonly topics = new Map<string, TopicState>();
  /** ensureTopics calls run one after the other: each reads what the previous wrote. */
  private ensuring: Promise<unknown> = Promise.resolve();

  private constructor(private readonly db: RocksDB) {}

  static async load(db: RocksDB): Promise<TopicRegistry> {
    const registry = new TopicRegistry(db);
    for await (const { key, value } of db.iterator(TOPIC_KEYS)) {
      const declaration = parseDeclaration(key, value);
      await registry.install(declaration, []);
    }
    return registry;
  }

  get(topic: string): TopicState {
    const state = this.topics.get(topic);
    if (state === undefined) {
      throw new Error(`unknown topic "${topic}": declare it with ensureTopics() before using it`);
    }
    return state;
  }

  all(): IterableIterator<TopicState> {
    return this.topics.values();
  }

  ensure(declarations: readonly TopicDeclaration[], writer: Writer): Promise<string[]> {
    const run = this.ensuring.then(() => this.reconcile(declarations, writer));
    this.ensuring = run.catch(() => undefined);
    return run;
  }

  private async reconcile(declarations: readonly TopicDeclaration[], writer: Writer): Promise<string[]> {
    const problems: string[] = [];
    const changed = new Map<string, TopicDeclaration>();
    for (const declaration of declarations) {
      validateDeclaration(declaration);
      const existing = changed.get(declaration.name) ?? this.topics.get(declaration.name)?.declaration;
      let wanted = declaration;
      if (existing !== undefined && declaration.partitions < existing.partitions) {
        problems.push(
          `topic ${declaration.name} is declared with ${declaration.partitions} partitions but has ${existing.partitions}; ` +
            'partitions cannot be removed, so it keeps them',
        );
        wanted = { ...declaration, partitions: existing.partitions };
      }
      if (existing === undefined || JSON.stringify(existing) !== JSON.stringify(wanted)) changed.set(wanted.name, wanted);
    }
    if (changed.size === 0) return problems;

    await writer.write((batch) => {
      for (const declaration of changed.values()) {
        batch.tryPut(topicKey(declaration.name), Buffer.from(JSON.stringify(declaration)));
      }
    }, true);
    for (const declaration of changed.values()) {
      await this.install(declaration, this.topics.get(declaration.name)?.partitions ?? []);
    }
    return problems;
  }

  /** Keeps the state of known partitions (their offsets are live) and recovers new ones. */
  private async install(declaration: TopicDeclaration, known: readonly PartitionState[]): Promise<void> {
    const partitions = [...known];
    for (let partition = known.length; partition < declaration.partitions; partition++) {
      partitions.push(await this.recover(declaration.name, partition));
    }
    this.topics.set(declaration.name, {
      declaration,
      partitions,
      roundRobin: this.topics.get(declaration.name)?.roundRobin ?? createRoundRobin(),
    });
  }

  /** The next offset is one past the last record (a reverse seek), or the log start if retention emptied it. */
  private async recover(topic: string, partition: number): Promise<PartitionState> {
    const prefix = recordPrefix(topic, partition);
    let next = 0;
    for await (const { key } of this.db.iterator({ gte: prefix, lt: prefixEnd(prefix), reverse: true, limit: 1 })) {
      next = offsetOfRecordKey(key) + 1;
    }
    const stored = await this.db.get(logStartKey(topic, partition));
    const start = stored === null ? 0 : readU64(stored, 0);
    return new PartitionState(topic, partition, Math.max(next, start), start);
  }
}

function validateDeclaration(declaration: TopicDeclaration): void {
  assertTopicName(declaration.name);
  const { partitions } = declaration;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new RangeError(`topic ${declaration.name}: partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${partitions}`);
  }
}

function parseDeclaration(key: Buffer, value: Buffer): TopicDeclaration {
  const parsed: unknown = JSON.parse(value.toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null || !('name' in parsed) || !('partitions' in parsed)) {
    throw new Error(`corrupt topic declaration under key ${key.toString('hex')}`);
  }
  const declaration = parsed as TopicDeclaration;
  validateDeclaration(declaration);
  return declaration;
}
