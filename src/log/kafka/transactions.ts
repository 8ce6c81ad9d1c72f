/**
 * Transactional producers, one per transactional id. A stage's unit for input partition p
 * commits through the producer `tracefold-<group>-<topic>-<p>` (EOS v1, as Kafka Streams
 * did before KIP-447): whoever owns the partition now initializes that id, which fences
 * the previous owner if it is still alive and aborts its open transaction. kafkajs's
 * sendOffsets cannot pass the consumer group's generation (which would let one producer
 * serve every partition), so one producer per input partition is the correct choice.
 */
import type { Kafka, Producer, Transaction } from 'kafkajs';
import { explicitPartitioner } from './append.js';
import { KafkaLogError, classifyKafkaError, kafkaLogError } from './errors.js';
import { ProducerSlot } from './producer-slot.js';
import type { Logger } from './options.js';

/** The transactional id of the owner of `topic`/`partition` in `group`. */
export function partitionTransactionalId(group: string, topic: string, partition: number): string {
  return `tracefold-${group}-${topic}-${partition}`;
}

/** The transactional id of this process's units that name no input partition. */
export function instanceTransactionalId(group: string, instanceId: string): string {
  return `tracefold-${group}-instance-${instanceId}`;
}

/**
 * A transaction whose commit request failed: it may or may not have committed. Initializing
 * the transactional id again settles it (the coordinator completes a prepared commit, aborts
 * anything else), after which its consumed offsets, if it sent any, tell which it was.
 */
export class CommitOutcomeUnknown extends KafkaLogError {
  constructor(
    readonly error: unknown,
    /** What the transaction's body returned (the metadata of the records it sent). */
    readonly result: unknown,
  ) {
    super(classifyKafkaError(error), `transaction commit failed; it may have committed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

export class TransactionalProducer {
  private readonly slot: ProducerSlot;
  /** One transaction at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private fencedBy: KafkaLogError | null = null;
  private closed = false;

  constructor(
    kafka: Kafka,
    readonly transactionalId: string,
    transactionTimeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.slot = new ProducerSlot(() =>
      kafka.producer({
        transactionalId,
        transactionTimeout: transactionTimeoutMs,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: explicitPartitioner,
      }),
    );
  }

  /** Set once a newer producer with the same id exists; this one never writes again. */
  get fenced(): boolean {
    return this.fencedBy !== null;
  }

  /**
   * Registers this producer with the transaction coordinator: a previous producer with
   * the same id is fenced and its open transaction aborted, so the last stable offset of
   * the partitions it wrote moves past it.
   */
  init(): Promise<void> {
    return this.serial(async () => {
      const transaction = await (await this.connected()).transaction();
      await transaction.abort();
    }, 'cannot initialize');
  }

  /**
   * Runs `fn` inside one transaction and commits it; aborts it when anything fails before
   * the commit. A commit that fails may still have happened (the coordinator can write it
   * and then die before answering): that error is a CommitOutcomeUnknown, carrying what
   * `fn` returned, so that the caller finds out before it tries again.
   */
  run<T>(fn: (transaction: Transaction) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const transaction = await (await this.connected()).transaction();
      let result: { value: T } | null = null;
      try {
        result = { value: await fn(transaction) };
        await transaction.commit();
        return result.value;
      } catch (err) {
        if (result !== null && classifyKafkaError(err) !== 'fenced') throw new CommitOutcomeUnknown(err, result.value);
        if (classifyKafkaError(err) !== 'fenced' && transaction.isActive()) {
          await transaction.abort().catch((abortErr: unknown) => {
            this.logger.warn({ err: abortErr, transactionalId: this.transactionalId }, 'kafka log could not abort a transaction');
          });
        }
        throw err;
      }
    }, 'transaction failed');
  }

  close(): Promise<void> {
    this.closed = true;
    return this.queue.then(
      () => this.discard(),
      () => this.discard(),
    );
  }

  private serial<T>(fn: () => Promise<T>, what: string): Promise<T> {
    const run = this.queue.then(async () => {
      if (this.closed) throw new KafkaLogError('invalid', `transactional producer ${this.transactionalId} is closed`);
      if (this.fencedBy !== null) throw this.fencedBy;
      try {
        return await fn();
      } catch (err) {
        if (err instanceof CommitOutcomeUnknown) {
          await this.discard();
          throw err;
        }
        const error = kafkaLogError(`${this.transactionalId}: ${what}`, err);
        if (error.code === 'fenced') this.fencedBy = error;
        // After a failure kafkajs's transaction state may be anything: the next transaction
        // starts on a new producer, whose initialization also aborts what is left open.
        await this.discard();
        throw error;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private connected(): Promise<Producer> {
    return this.slot.get();
  }

  private discard(): Promise<void> {
    return this.slot.discard();
  }
}

/** The transactional producers of this process, by transactional id. */
export class TransactionalProducers {
  private readonly producers = new Map<string, TransactionalProducer>();

  constructor(
    private readonly kafka: Kafka,
    private readonly transactionTimeoutMs: number,
    private readonly logger: Logger,
  ) {}

  get(transactionalId: string): TransactionalProducer {
    let producer = this.producers.get(transactionalId);
    if (producer === undefined) {
      producer = new TransactionalProducer(this.kafka, transactionalId, this.transactionTimeoutMs, this.logger);
      this.producers.set(transactionalId, producer);
    }
    return producer;
  }

  /** Whether `transactionalId` has a producer that a newer one fenced. */
  isFenced(transactionalId: string): boolean {
    return this.producers.get(transactionalId)?.fenced ?? false;
  }

  /** Disconnects and forgets a producer (its partition was revoked). */
  async release(transactionalId: string): Promise<void> {
    const producer = this.producers.get(transactionalId);
    if (producer === undefined) return;
    this.producers.delete(transactionalId);
    await producer.close();
  }

  async closeAll(): Promise<void> {
    const all = [...this.producers.values()];
    this.producers.clear();
    await Promise.all(all.map((producer) => producer.close()));
  }
}
