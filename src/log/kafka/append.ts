/**
 * Appends through one idempotent producer (acks from every in-sync replica, one request
 * in flight, so records of a partition keep their order). Concurrent append() calls are
 * coalesced into one produce request, in call order, as Kafka's own producer batches
 * concurrent sends; each call still learns the offsets of its own records.
 *
 * Retries are few and short (APPEND_RETRY, also the retry of the client the producer
 * comes from, see index.ts), so an outage surfaces as a fast, retryable error instead of
 * an HTTP request hanging for minutes. After any failed request the producer is replaced:
 * kafkajs keeps no epoch bump of its own, and a request that failed on the client but
 * reached the broker would otherwise leave the next one with a sequence number the broker
 * mistakes for a duplicate.
 */
import type { Kafka, Producer, RecordMetadata, RetryOptions } from 'kafkajs';
import type { AppendResult } from '../port.js';
import { deferred, type Deferred } from '../rocks/deferred.js';
import { KafkaLogError, kafkaLogError } from './errors.js';
import type { Logger } from './options.js';
import { ProducerSlot } from './producer-slot.js';
import { assignOffsets, type RoutedMessage } from './records.js';

/**
 * Retries of the producer behind append(): about two seconds of trying before an append
 * fails (kafkajs waits 100, 200, 400 ms with jitter, each capped at maxRetryTime).
 */
export const APPEND_RETRY: RetryOptions = { retries: 3, initialRetryTime: 100, maxRetryTime: 2_000 };

/** A coalesced request stops taking more calls past this many bytes of keys and values. */
const MAX_REQUEST_BYTES = 512 * 1024;
/**
 * Appends waiting for the cluster beyond this many bytes are refused at once (retryable),
 * so a slow cluster turns into 503s rather than a growing heap.
 */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;

interface PendingAppend {
  readonly topic: string;
  readonly messages: readonly RoutedMessage[];
  readonly bytes: number;
  readonly result: Deferred<AppendResult[]>;
}

/** Sends messages to explicit partitions only: routing happened in routeRecords(). */
export const explicitPartitioner = () => (args: { message: { partition?: number } }) => args.message.partition ?? 0;

function sizeOf(messages: readonly RoutedMessage[]): number {
  let bytes = 0;
  for (const m of messages) bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
  return bytes;
}

export class AppendProducer {
  private readonly slot: ProducerSlot;
  private readonly queue: PendingAppend[] = [];
  private queuedBytes = 0;
  private draining: Promise<void> | null = null;
  private closed = false;

  constructor(
    kafka: Kafka,
    private readonly requestTimeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.slot = new ProducerSlot(
      () =>
        kafka.producer({
          idempotent: true,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
          createPartitioner: explicitPartitioner,
          retry: APPEND_RETRY,
        }),
      (err: unknown) => this.logger.debug({ err }, 'kafka log producer disconnect failed'),
    );
  }

  append(topic: string, messages: readonly RoutedMessage[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new KafkaLogError('invalid', 'kafka log is closed'));
    if (messages.length === 0) return Promise.resolve([]);
    const pending: PendingAppend = { topic, messages, bytes: sizeOf(messages), result: deferred<AppendResult[]>() };
    if (this.queue.length > 0 && this.queuedBytes + pending.bytes > MAX_QUEUED_BYTES) {
      return Promise.reject(new KafkaLogError('unavailable', `append to ${topic} refused: ${this.queuedBytes} bytes are already waiting for the cluster`));
    }
    this.queue.push(pending);
    this.queuedBytes += pending.bytes;
    this.draining ??= this.drain();
    return pending.result.promise;
  }

  /** Waits for the appends in flight, then disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    await this.draining;
    await this.reset();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const round = this.takeRound();
        await this.send(round);
      }
    } finally {
      this.draining = null;
    }
  }

  private takeRound(): PendingAppend[] {
    const round: PendingAppend[] = [];
    let bytes = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (round.length > 0 && bytes + next.bytes > MAX_REQUEST_BYTES) break;
      round.push(next);
      bytes += next.bytes;
      this.queue.shift();
      this.queuedBytes -= next.bytes;
    }
    return round;
  }

  private async send(round: readonly PendingAppend[]): Promise<void> {
    try {
      const results = await this.produce(round);
      round.forEach((pending, i) => pending.result.resolve(results[i] ?? []));
    } catch (err) {
      const error = kafkaLogError(`append to ${[...new Set(round.map((p) => p.topic))].join(', ')} failed`, err);
      await this.reset();
      if (round.length > 1 && !error.retryable) {
        // One call's records were refused (too large, say): the others deserve a try alone.
        for (const pending of round) await this.send([pending]);
        return;
      }
      this.logger.warn({ err: error, calls: round.length }, 'kafka log append failed');
      for (const pending of round) pending.result.reject(error);
    }
  }

  private async produce(round: readonly PendingAppend[]): Promise<AppendResult[][]> {
    const producer = await this.connected();
    const byTopic = new Map<string, RoutedMessage[]>();
    for (const { topic, messages } of round) {
      const list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, [...messages]);
      else list.push(...messages);
    }
    const metadata: RecordMetadata[] = await producer.sendBatch({
      acks: -1,
      timeout: this.requestTimeoutMs,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
    return assignOffsets(
      round.map(({ topic, messages }) => ({ topic, partitions: messages.map((m) => m.partition) })),
      metadata,
    );
  }

  private connected(): Promise<Producer> {
    return this.slot.get();
  }

  private reset(): Promise<void> {
    return this.slot.discard();
  }
}
