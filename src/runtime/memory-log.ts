/**
 * An in-memory Log for driving processors in tests, in the role of Kafka Streams'
 * TopologyTestDriver: the processing runtime and the processor run unchanged, without
 * RocksDB or a broker, and deterministically: nothing is consumed until `drain()`, which
 * hands every consumer its records batch by batch until all are caught up.
 *
 * Units are atomic as in the real adapters: appends, store writes and consumed offsets
 * apply together at commit, or not at all when a commit is made to fail (`failCommits`).
 */
import { partitionFor } from '../log/partitioner.js';
import type {
  AppendResult,
  Consumer,
  ConsumerHandlers,
  ConsumerOptions,
  Log,
  LogRecord,
  OutgoingRecord,
  StateStore,
  StoreOp,
  TopicDeclaration,
  TopicPartition,
  WorkUnit,
} from '../log/port.js';
import { tpKey } from '../log/port.js';

/** A state store held in a map; keys as latin1 strings compare in the stores' byte order. */
export class MemoryStore implements StateStore {
  private readonly entries = new Map<string, Buffer>();

  constructor(readonly name: string) {}

  async get(key: Buffer): Promise<Buffer | null> {
    return this.entries.get(key.toString('latin1')) ?? null;
  }

  async getMany(keys: readonly Buffer[]): Promise<(Buffer | null)[]> {
    return keys.map((key) => this.entries.get(key.toString('latin1')) ?? null);
  }

  async *range(opts: { gte: Buffer; lt: Buffer; limit?: number; reverse?: boolean }): AsyncIterable<[Buffer, Buffer]> {
    const gte = opts.gte.toString('latin1');
    const lt = opts.lt.toString('latin1');
    const keys = [...this.entries.keys()].filter((k) => k >= gte && k < lt).sort();
    if (opts.reverse === true) keys.reverse();
    for (const key of keys.slice(0, opts.limit ?? keys.length)) yield [Buffer.from(key, 'latin1'), this.entries.get(key)!];
  }

  /** Number of entries, for tests that check what a processor keeps. */
  get size(): number {
    return this.entries.size;
  }

  apply(ops: readonly StoreOp[]): void {
    for (const op of ops) {
      if (op.type === 'put') this.entries.set(op.key.toString('latin1'), op.value);
      else if (op.type === 'del') this.entries.delete(op.key.toString('latin1'));
      else {
        const gte = op.gte.toString('latin1');
        const lt = op.lt.toString('latin1');
        for (const key of [...this.entries.keys()]) if (key >= gte && key < lt) this.entries.delete(key);
      }
    }
  }
}

class MemoryUnit implements WorkUnit {
  private readonly appends: { topic: string; records: readonly OutgoingRecord[] }[] = [];
  private readonly writes: { store: MemoryStore; ops: readonly StoreOp[] }[] = [];
  private readonly consumedOffsets: { topic: string; partition: number; next: number }[] = [];

  constructor(
    private readonly log: MemoryLog,
    private readonly group: string,
  ) {}

  append(topic: string, records: readonly OutgoingRecord[]): void {
    this.appends.push({ topic, records });
  }

  write(store: StateStore, ops: readonly StoreOp[]): void {
    if (!(store instanceof MemoryStore)) throw new Error(`store ${store.name} is not a store of this log`);
    this.writes.push({ store, ops });
  }

  consumed(topic: string, partition: number, nextOffset: number): void {
    this.consumedOffsets.push({ topic, partition, next: nextOffset });
  }

  async commit(): Promise<void> {
    this.log.commitUnit(this.group, this.appends, this.writes, this.consumedOffsets);
  }
}

class MemoryConsumer implements Consumer {
  readonly done: Promise<void>;
  private finish!: (error?: Error) => void;
  stopped = false;
  /** Next offset to read, per assigned partition. */
  readonly positions = new Map<string, TopicPartition & { next: number }>();

  constructor(
    readonly options: ConsumerOptions,
    readonly handlers: ConsumerHandlers,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.finish = (error) => (error === undefined ? resolve() : reject(error));
    });
    this.done.catch(() => undefined);
  }

  end(error?: unknown): void {
    this.stopped = true;
    this.finish(error === undefined ? undefined : error instanceof Error ? error : new Error('consumer failed', { cause: error }));
  }

  async stop(): Promise<void> {
    this.end();
  }
}

export class MemoryLog implements Log {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<string, LogRecord[][]>();
  private readonly stores = new Map<string, MemoryStore>();
  private readonly groupOffsets = new Map<string, number>();
  private readonly consumers: MemoryConsumer[] = [];
  /** Commits left to fail (for tests of what a failed unit leaves behind). */
  failCommits = 0;

  /** `partitions`: how many partitions each topic has (default 1). */
  constructor(private readonly partitions: Readonly<Record<string, number>> = {}) {}

  private partitionsOfTopic(topic: string): LogRecord[][] {
    let parts = this.topics.get(topic);
    if (parts === undefined) {
      parts = Array.from({ length: this.partitions[topic] ?? 1 }, () => []);
      this.topics.set(topic, parts);
    }
    return parts;
  }

  async ensureTopics(_declarations: readonly TopicDeclaration[]): Promise<string[]> {
    return [];
  }

  partitionsOf(topic: string): number {
    return this.partitionsOfTopic(topic).length;
  }

  async append(topic: string, records: readonly OutgoingRecord[]): Promise<AppendResult[]> {
    return records.map((record) => this.appendOne(topic, record));
  }

  private appendOne(topic: string, record: OutgoingRecord): AppendResult {
    const parts = this.partitionsOfTopic(topic);
    const partition = record.partition ?? partitionFor(record.key, parts.length);
    const list = parts[partition]!;
    const offset = list.length;
    list.push({ topic, partition, offset, key: record.key, value: record.value, headers: record.headers ?? {}, timestamp: record.timestamp ?? Date.now() });
    return { topic, partition, offset };
  }

  /** Every record of a topic, partition after partition. */
  records(topic: string): LogRecord[] {
    return this.partitionsOfTopic(topic).flat();
  }

  async consume(options: ConsumerOptions, handlers: ConsumerHandlers): Promise<Consumer> {
    const consumer = new MemoryConsumer(options, handlers);
    const assigned: TopicPartition[] = options.topics.flatMap((topic) => this.partitionsOfTopic(topic).map((_, partition) => ({ topic, partition })));
    const starts = (await handlers.onAssigned?.(assigned)) ?? new Map<string, number>();
    for (const tp of assigned) {
      const key = tpKey(tp.topic, tp.partition);
      consumer.positions.set(key, { ...tp, next: starts.get(key) ?? this.groupOffsets.get(`${options.group}\u0000${key}`) ?? 0 });
    }
    this.consumers.push(consumer);
    return consumer;
  }

  /**
   * Hands each running consumer its records, batch by batch, until every one is caught up
   * (outputs of one may be the input of another), then calls their onIdle once. A handler
   * failing ends its consumer (its `done` rejects), as in the real adapters.
   */
  async drain(): Promise<void> {
    let moved = true;
    while (moved) {
      moved = false;
      for (const consumer of this.consumers) {
        for (const position of consumer.positions.values()) {
          if (consumer.stopped) break;
          const records = this.partitionsOfTopic(position.topic)[position.partition]!.slice(position.next, position.next + (consumer.options.maxBatchRecords ?? 500));
          if (records.length === 0) continue;
          const highWatermark = this.partitionsOfTopic(position.topic)[position.partition]!.length;
          try {
            await consumer.handlers.eachBatch({ topic: position.topic, partition: position.partition, records, highWatermark });
            position.next = records[records.length - 1]!.offset + 1;
            moved = true;
          } catch (err) {
            consumer.end(err);
          }
        }
      }
    }
    for (const consumer of this.consumers) {
      if (consumer.stopped || consumer.handlers.onIdle === undefined) continue;
      try {
        await consumer.handlers.onIdle([...consumer.positions.values()].map(({ topic, partition }) => ({ topic, partition })));
      } catch (err) {
        consumer.end(err);
      }
    }
  }

  async openStore(group: string, name: string): Promise<StateStore> {
    const key = `${group}\u0000${name}`;
    let store = this.stores.get(key);
    if (store === undefined) this.stores.set(key, (store = new MemoryStore(name)));
    return store;
  }

  beginUnit(group: string): WorkUnit {
    return new MemoryUnit(this, group);
  }

  /** Applies a unit's effects together; called by MemoryUnit.commit. */
  commitUnit(
    group: string,
    appends: readonly { topic: string; records: readonly OutgoingRecord[] }[],
    writes: readonly { store: MemoryStore; ops: readonly StoreOp[] }[],
    consumed: readonly { topic: string; partition: number; next: number }[],
  ): void {
    if (this.failCommits > 0) {
      this.failCommits--;
      throw new Error('commit failed (MemoryLog.failCommits)');
    }
    for (const { topic, records } of appends) for (const record of records) this.appendOne(topic, record);
    for (const { store, ops } of writes) store.apply(ops);
    for (const { topic, partition, next } of consumed) this.groupOffsets.set(`${group}\u0000${tpKey(topic, partition)}`, next);
  }

  async committedOffsets(group: string, topic: string): Promise<Map<number, number>> {
    const result = new Map<number, number>();
    this.partitionsOfTopic(topic).forEach((_, partition) => {
      const next = this.groupOffsets.get(`${group}\u0000${tpKey(topic, partition)}`);
      if (next !== undefined) result.set(partition, next);
    });
    return result;
  }

  /** Moves a group's offset, as an operator resetting the group would. */
  resetGroupOffset(group: string, topic: string, partition: number, next: number): void {
    this.groupOffsets.set(`${group}\u0000${tpKey(topic, partition)}`, next);
  }

  async endOffsets(topic: string): Promise<number[]> {
    return this.partitionsOfTopic(topic).map((records) => records.length);
  }

  async readPartition(topic: string, partition: number, from: number, max: number): Promise<LogRecord[]> {
    const records = this.partitionsOfTopic(topic)[partition];
    if (records === undefined) throw new Error(`memory log: ${topic} has no partition ${partition}`);
    return max > 0 ? records.slice(Math.max(from, 0), Math.max(from, 0) + max) : [];
  }

  async healthy(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    for (const consumer of this.consumers) consumer.end();
  }
}
