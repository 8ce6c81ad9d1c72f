/**
 * Reads a topic partition from a given offset without joining a consumer group, at
 * read_committed isolation. kafkajs has no public `assign()`: its consumers always join a
 * group, and a group join costs a rebalance (group.initial.rebalance.delay.ms, 3 s on a
 * default broker) each time. Restoring a changelog partition and finding where a topic's
 * readable records end are both one-off reads of known partitions, so this goes one level
 * down: a kafkajs Cluster from the client's own factory (same brokers, TLS, SASL, retry
 * and logger) and plain Fetch / ListOffsets requests to partition leaders.
 *
 * This uses kafkajs internals (the client's cluster factory, Broker.fetch, the decoded
 * record shape); kafkajs 2.2.4 is its final release, and PartitionReader.create() checks
 * that the pieces are there so a different kafkajs fails loudly at start, not mid-restore.
 */
import type { IHeaders, Kafka } from 'kafkajs';
import type { LogRecord } from '../port.js';
import { KafkaLogError, classifyKafkaError, isOffsetOutOfRange, kafkaLogError } from './errors.js';
import { toLogRecord } from './records.js';
import { nextOffset, visibleRecords, type AbortedTransaction, type RawRecord } from './visible-records.js';

const READ_COMMITTED = 1;
const FETCH_ATTEMPTS = 3;
/** A fetch returns at least one whole record batch even when it is larger than this. */
const FETCH_MAX_BYTES = 1024 * 1024;
/** How far back from the end the first look for the last readable record goes. */
const TAIL_WINDOW = 64;

interface FetchedRecord extends RawRecord {
  readonly value: Buffer | null;
  readonly timestamp: string;
  readonly headers?: IHeaders;
}

interface FetchedPartition {
  readonly partition: number;
  readonly highWatermark: string;
  readonly lastStableOffset: string;
  readonly abortedTransactions: readonly AbortedTransaction[] | null;
  readonly messages: readonly FetchedRecord[];
}

interface InternalBroker {
  fetch(request: {
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: FetchedPartition[] }[] }>;
}

interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  refreshMetadata(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(node: { nodeId: string }): Promise<InternalBroker>;
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

type ClusterFactory = (options: { isolationLevel: number; allowAutoTopicCreation: boolean; metadataMaxAge: number }) => InternalCluster;

function clusterFactory(kafka: Kafka): ClusterFactory {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const factory: unknown = symbol === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof factory !== 'function') {
    throw new Error('kafka log: this kafkajs has no cluster factory where 2.2.x keeps it; the adapter needs kafkajs 2.2');
  }
  return (options) => (factory as (o: typeof options) => InternalCluster).call(kafka, options);
}

/** Records of one partition from an offset on, and where the next read starts. */
export interface FetchedRange {
  readonly records: LogRecord[];
  /** The offset after the last record batch returned (markers included). */
  readonly next: number;
}

export class PartitionReader {
  private connecting: Promise<void> | null = null;
  /** Per topic partition: the offset below which the last search looked, and what it found. */
  private readonly tails = new Map<string, { stable: number; end: number }>();

  private constructor(private readonly cluster: InternalCluster) {}

  static create(kafka: Kafka): PartitionReader {
    const cluster = clusterFactory(kafka)({ isolationLevel: READ_COMMITTED, allowAutoTopicCreation: false, metadataMaxAge: 300_000 });
    for (const method of ['connect', 'disconnect', 'addMultipleTargetTopics', 'findLeaderForPartitions', 'findBroker', 'fetchTopicsOffset'] as const) {
      if (typeof cluster[method] !== 'function') throw new Error(`kafka log: kafkajs cluster lacks ${method}(); the adapter needs kafkajs 2.2`);
    }
    return new PartitionReader(cluster);
  }

  async close(): Promise<void> {
    await this.connecting?.catch(() => undefined);
    await this.cluster.disconnect();
  }

  /** Log start offsets and last stable offsets of every partition of `topic`, by partition. */
  async offsets(topic: string, partitions: number): Promise<{ start: number[]; stable: number[] }> {
    return this.attempt(`cannot list the offsets of ${topic}`, async () => {
      await this.prepare(topic);
      const list = Array.from({ length: partitions }, (_, partition) => ({ partition }));
      const [stable, start] = await Promise.all([
        this.cluster.fetchTopicsOffset([{ topic, fromBeginning: false, partitions: list }]),
        this.cluster.fetchTopicsOffset([{ topic, fromBeginning: true, partitions: list }]),
      ]);
      const byPartition = (result: typeof stable) => {
        const offsets = new Array<number>(partitions).fill(0);
        for (const { partition, offset } of result.find((t) => t.topic === topic)?.partitions ?? []) offsets[partition] = Number(offset);
        return offsets;
      };
      return { start: byPartition(start), stable: byPartition(stable) };
    });
  }

  /** Up to about FETCH_MAX_BYTES of readable records of one partition from `offset` on. */
  async fetch(topic: string, partition: number, offset: number): Promise<FetchedRange> {
    return this.attempt(`cannot read ${topic}/${partition} at ${offset}`, async () => {
      await this.prepare(topic);
      const leaders = this.cluster.findLeaderForPartitions(topic, [partition]);
      const nodeId = Object.keys(leaders)[0];
      if (nodeId === undefined) throw new KafkaLogError('unavailable', `${topic}/${partition} has no leader right now`);
      const broker = await this.cluster.findBroker({ nodeId });
      const { responses } = await broker.fetch({
        isolationLevel: READ_COMMITTED,
        maxWaitTime: 0,
        minBytes: 0,
        maxBytes: FETCH_MAX_BYTES,
        topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: FETCH_MAX_BYTES }] }],
      });
      const data = responses.find((r) => r.topicName === topic)?.partitions.find((p) => p.partition === partition);
      if (data === undefined) throw new KafkaLogError('unavailable', `the broker sent no data for ${topic}/${partition}`);
      const visible = visibleRecords(data.messages, data.abortedTransactions ?? [], offset);
      return {
        records: visible.map((message) => toLogRecord(topic, partition, { ...message, attributes: 0, headers: message.headers ?? {} })),
        next: nextOffset(data.messages, offset),
      };
    });
  }

  /**
   * Up to `max` readable records of one partition from `from` on, from one fetch. Below
   * the log start offset (retention deleted those records) it reads from the log start;
   * past the high watermark there is nothing to read.
   */
  async read(topic: string, partition: number, from: number, max: number): Promise<LogRecord[]> {
    let range: FetchedRange;
    try {
      range = await this.fetch(topic, partition, from);
    } catch (err) {
      if (!isOffsetOutOfRange(err)) throw err;
      const start = (await this.offsets(topic, partition + 1)).start[partition] ?? 0;
      if (from >= start) return [];
      range = await this.fetch(topic, partition, start);
    }
    return range.records.slice(0, max);
  }

  /**
   * Per partition, the offset after the last record a read_committed consumer receives
   * among those appended before the call: where a consumer that has read all of them
   * stands when it counts, as the port's positions do, one past its last record.
   * Transaction markers and aborted records are not counted (a reader never sees them);
   * 0 when nothing readable is left.
   *
   * Records of transactions still undecided (below the high watermark, above the last
   * stable offset) are waited for, up to `waitMs`: a transaction that committed a moment
   * ago has its markers written after the commit returned, and those records count. After
   * `waitMs` the undecided ones are left out.
   */
  async readableEnds(topic: string, partitions: number, waitMs: number): Promise<number[]> {
    const deadline = Date.now() + waitMs;
    let { start, stable } = await this.offsets(topic, partitions);
    const highWatermarks = await this.highWatermarks(topic, stable);
    for (let pause = 5; stable.some((lso, p) => lso < highWatermarks[p]!) && Date.now() < deadline; pause = Math.min(pause * 2, 100)) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(1, deadline - Date.now()))));
      ({ start, stable } = await this.offsets(topic, partitions));
    }
    return Promise.all(
      highWatermarks.map(async (high, partition) => {
        const upTo = Math.min(high, stable[partition] ?? 0);
        const key = `${topic}:${partition}`;
        const cached = this.tails.get(key);
        if (cached !== undefined && cached.stable === upTo) return cached.end;
        const end = await this.lastReadable(topic, partition, start[partition] ?? 0, upTo, cached);
        this.tails.set(key, { stable: upTo, end });
        return end;
      }),
    );
  }

  /**
   * The high watermark of every partition. ListOffsets cannot tell it at read_committed
   * isolation (it answers the last stable offset), but every fetch response carries it: one
   * fetch per leader from the last stable offsets, which returns no records.
   */
  private async highWatermarks(topic: string, from: readonly number[]): Promise<number[]> {
    return this.attempt(`cannot read the high watermarks of ${topic}`, async () => {
      await this.prepare(topic);
      const all = from.map((_, partition) => partition);
      const highs = [...from];
      for (const [nodeId, partitions] of Object.entries(this.cluster.findLeaderForPartitions(topic, all))) {
        const broker = await this.cluster.findBroker({ nodeId });
        const { responses } = await broker.fetch({
          isolationLevel: READ_COMMITTED,
          maxWaitTime: 0,
          minBytes: 0,
          maxBytes: 1024,
          topics: [{ topic, partitions: partitions.map((partition) => ({ partition, fetchOffset: String(from[partition] ?? 0), maxBytes: 1 })) }],
        });
        for (const data of responses.find((r) => r.topicName === topic)?.partitions ?? []) highs[data.partition] = Number(data.highWatermark);
      }
      return highs;
    });
  }

  private async lastReadable(
    topic: string,
    partition: number,
    logStart: number,
    lastStable: number,
    previous: { stable: number; end: number } | undefined,
  ): Promise<number> {
    // Below a last stable offset every transaction is decided, so what was readable there
    // stays readable: only the range since the previous answer needs a look.
    if (previous !== undefined && previous.stable <= lastStable && previous.stable >= logStart) {
      const last = await this.lastIn(topic, partition, previous.stable, lastStable);
      return last >= 0 ? last + 1 : previous.end;
    }
    let upTo = lastStable;
    for (let window = TAIL_WINDOW; upTo > logStart; window *= 8) {
      const from = Math.max(logStart, upTo - window);
      const last = await this.lastIn(topic, partition, from, upTo);
      if (last >= 0) return last + 1;
      upTo = from;
    }
    return 0;
  }

  /** The offset of the last readable record with from <= offset < upTo, or -1. */
  private async lastIn(topic: string, partition: number, from: number, upTo: number): Promise<number> {
    let last = -1;
    for (let offset = from; offset < upTo; ) {
      const range = await this.fetch(topic, partition, offset);
      for (const record of range.records) if (record.offset < upTo) last = Math.max(last, record.offset);
      if (range.next <= offset) break;
      offset = range.next;
    }
    return last;
  }

  private async prepare(topic: string): Promise<void> {
    this.connecting ??= this.cluster.connect().catch((err: unknown) => {
      this.connecting = null;
      throw err;
    });
    await this.connecting;
    await this.cluster.addMultipleTargetTopics([topic]);
  }

  /** Runs `fn`, refreshing metadata and trying again after errors worth another try. */
  private async attempt<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (attempt >= FETCH_ATTEMPTS || classifyKafkaError(err) !== 'unavailable') throw kafkaLogError(what, err);
        await this.cluster.refreshMetadata().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }
}
