/**
 * The consumer runtime of the Kafka adapter: one kafkajs group member per consume() call,
 * driving the port's handlers (port.ts, ConsumerHandlers) with the embedded consumer's
 * contract:
 *
 * - Handlers run one at a time (eachBatch, onAssigned, onRevoked, onIdle), in the order
 *   their causes happened, through one queue.
 * - Assignment: kafkajs reports a new assignment in its GROUP_JOIN event, which it emits
 *   before fetching under it. The listener pauses the partitions that are new to this
 *   member at once and queues the rebalance: onRevoked for the partitions it lost (kafkajs
 *   has no revoke callback; revoked = previous assignment minus the new one), then for the
 *   new ones the changelog restore, onAssigned, a seek to the offsets onAssigned returned,
 *   and only then resume. Batches of partitions kept across the rebalance queue behind it.
 *   With kafkajs's eager protocol a partition is already someone else's when onRevoked
 *   runs; what protects the outputs is the new owner's transactional producer, which
 *   fences this one (a fenced unit makes the runtime drop the partition, see below).
 * - Batches: at most maxBatchRecords records per eachBatch call (kafkajs batches are
 *   split), a heartbeat between chunks, then the group offset is committed (the offset
 *   after the chunk; after the last chunk, after the fetched range, transaction markers
 *   included). A unit that committed the same offset in its transaction makes this a
 *   repeat, which is harmless.
 * - onIdle: a partition is caught up when its last fetched range reached the high
 *   watermark, or, right after assignment, when its start offset is at the end. A timer
 *   calls onIdle for the caught-up partitions every IDLE_INTERVAL_MS while nothing else is
 *   queued, also when no batches arrive at all.
 * - Failures: a handler error is caught (never left to kafkajs, which would retry the
 *   batch). A retryable one (the cluster unreachable, a coordinator not found: the unit
 *   committed nothing) hands the same batch over again with backoff while the partition
 *   stays here; any other stops the consumer and `done` rejects with it. A handler error caused by this
 *   process being fenced on a partition instead drops that partition (onRevoked) and waits
 *   for the rebalance that moved it. A kafkajs crash it will not recover from also ends
 *   the consumer; one it restarts from counts as losing every partition.
 */
import type { Admin, Consumer as KafkaJsConsumer, EachBatchPayload, Kafka, RetryOptions } from 'kafkajs';
import { deferred } from '../rocks/deferred.js';
import type { Consumer, ConsumerHandlers, ConsumerOptions, TopicPartition } from '../port.js';
import { tpKey } from '../port.js';
import { byTopic, chunks, diffAssignment, flattenAssignment } from './assignment.js';
import { classifyKafkaError, KafkaLogError } from './errors.js';

/** Backoff of a batch retried while the cluster is unavailable. */
const RETRY_FIRST_MS = 200;
const RETRY_MAX_MS = 2000;

/**
 * kafkajs's own retries of the consumer (fetch, join, heartbeat). The waits are capped
 * short because kafkajs restarts a crashed consumer only after the last wait: with its
 * default cap an outage ends in up to ten more seconds of waiting once the broker is back.
 */
const CONSUMER_RETRY: RetryOptions = { retries: 10, initialRetryTime: 200, maxRetryTime: 1_000 };

/** Backoff of a rebalance whose restore or transactional producer initialisation failed retryably. */
const REBALANCE_RETRY_FIRST_MS = 250;
const REBALANCE_RETRY_MAX_MS = 5_000;

/** A handler failure that trying again later can fix: the cluster was unreachable or busy. */
function isRetryable(err: unknown): boolean {
  return err instanceof KafkaLogError ? err.retryable : classifyKafkaError(err) === 'unavailable';
}
import type { Logger, ResolvedKafkaLogOptions } from './options.js';
import type { PartitionReader } from './partition-reader.js';
import { toLogRecord } from './records.js';
import type { TopicCatalog } from './topics.js';
import { partitionTransactionalId, type TransactionalProducers } from './transactions.js';

/** How often caught-up partitions are reported to onIdle (as the embedded consumer does). */
export const IDLE_INTERVAL_MS = 200;
const DEFAULT_MAX_BATCH_RECORDS = 500;

export interface ConsumerContext {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly options: ResolvedKafkaLogOptions;
  readonly logger: Logger;
  readonly topics: TopicCatalog;
  readonly reader: PartitionReader;
  readonly transactions: TransactionalProducers;
  /** Whether `group` has stores with a changelog. */
  hasChangelogs(group: string): boolean;
  /** Creates the changelog topics of `group`'s stores, with as many partitions as `inputTopic`. */
  prepareChangelogs(group: string, inputTopic: string): Promise<void>;
  /** Fences earlier owners of the partitions, then restores `group`'s changelog stores for them. */
  restore(group: string, inputTopic: string, partitions: readonly number[]): Promise<void>;
  /** Called once the consumer has stopped. */
  forget(consumer: KafkaLogConsumer): void;
}

/** What this member knows of one of its partitions. */
interface Owned {
  readonly tp: TopicPartition;
  /** onAssigned has run and fetching resumed. */
  ready: boolean;
  /** The last fetched range reached the high watermark. */
  caughtUp: boolean;
}

const noop = (): void => undefined;

function isFenced(err: unknown): boolean {
  return classifyKafkaError(err) === 'fenced';
}

export class KafkaLogConsumer implements Consumer {
  private readonly settled = deferred<void>();
  readonly done: Promise<void> = this.settled.promise;
  private readonly maxBatchRecords: number;
  private readonly owned = new Map<string, Owned>();
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private failure: { error: unknown } | null = null;
  private stopping: Promise<void> | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private lastIdle = 0;
  private readonly consumer: KafkaJsConsumer;
  /** When kafkajs last fetched or a batch made progress; 0 after a crash or while a batch waits for the cluster. */
  private progressAt = 0;
  private readonly staleAfterMs: number;

  private constructor(
    private readonly context: ConsumerContext,
    private readonly options: ConsumerOptions,
    private readonly handlers: ConsumerHandlers,
  ) {
    const max = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxBatchRecords must be a positive integer, got ${max}`);
    this.maxBatchRecords = max;
    // The failure is logged and reported through `done`; an owner that never looks at
    // `done` must not get an unhandled rejection on top.
    this.done.catch(noop);
    const timings = context.options.consumer;
    this.consumer = context.kafka.consumer({
      groupId: options.group,
      sessionTimeout: timings.sessionTimeoutMs,
      heartbeatInterval: timings.heartbeatIntervalMs,
      rebalanceTimeout: timings.rebalanceTimeoutMs,
      maxWaitTimeInMs: timings.maxWaitTimeMs,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      retry: CONSUMER_RETRY,
    });
    this.staleAfterMs = Math.max(5_000, 4 * timings.maxWaitTimeMs);
  }

  /**
   * In its group and fetching: kafkajs fetched (an idle fetch returns every maxWaitTimeMs)
   * or a batch made progress recently. False from a crash, and while a batch waits for the
   * cluster, until the next fetch: after an outage, until the group has rejoined.
   */
  get consuming(): boolean {
    return !this.closing && Date.now() - this.progressAt < this.staleAfterMs;
  }

  private progressed(): void {
    this.progressAt = Date.now();
  }

  static async start(context: ConsumerContext, options: ConsumerOptions, handlers: ConsumerHandlers): Promise<KafkaLogConsumer> {
    if (options.topics.length === 0) throw new Error('consume() needs at least one topic');
    for (const topic of options.topics) await context.topics.partitionCount(topic);
    if (context.hasChangelogs(options.group)) {
      if (options.topics.length !== 1) {
        throw new KafkaLogError(
          'invalid',
          `group ${options.group} has stores with a changelog, so it must consume exactly one topic (one changelog partition per input partition)`,
        );
      }
      await context.prepareChangelogs(options.group, options.topics[0]!);
    }
    const consumer = new KafkaLogConsumer(context, options, handlers);
    await consumer.run();
    return consumer;
  }

  get group(): string {
    return this.options.group;
  }

  /** Lets the batch in progress finish, then leaves the group; resolves also after a failure. */
  async stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    await this.stopping;
  }

  private get closing(): boolean {
    return this.stopping !== null || this.failure !== null;
  }

  private async run(): Promise<void> {
    const { consumer } = this;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => this.onGroupJoin(flattenAssignment(payload.memberAssignment)));
    consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
      const owned = this.owned.get(tpKey(payload.topic, payload.partition));
      if (owned !== undefined) owned.caughtUp = payload.offsetLag === '0';
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => this.onCrash(payload.error, payload.restart));
    consumer.on(consumer.events.FETCH, () => this.progressed());
    consumer.on(consumer.events.END_BATCH_PROCESS, () => this.progressed());
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...this.options.topics], fromBeginning: true });
      await this.runConsumer();
    } catch (err) {
      await consumer.disconnect().catch(noop);
      throw err;
    }
    this.idleTimer = setInterval(() => this.maybeIdle(), IDLE_INTERVAL_MS / 2);
    this.idleTimer.unref();
  }

  private runConsumer(): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /** Runs handler work in order, one task at a time. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.queued++;
    const run = this.queue.then(task).finally(() => this.queued--);
    this.queue = run.then(noop, noop);
    return run;
  }

  /** Synchronous, before kafkajs fetches under the new assignment. */
  private onGroupJoin(next: readonly TopicPartition[]): void {
    const { added, revoked } = diffAssignment(this.owned.keys(), next);
    const lost: Owned[] = [];
    for (const { topic, partition } of revoked) {
      const key = tpKey(topic, partition);
      lost.push(this.owned.get(key)!);
      this.owned.delete(key);
    }
    const fresh = added.map((tp): Owned => ({ tp, ready: false, caughtUp: false }));
    for (const owned of fresh) this.owned.set(tpKey(owned.tp.topic, owned.tp.partition), owned);
    if (fresh.length > 0) this.whileRunning(() => this.consumer.pause(byTopic(added)));
    this.context.logger.debug(
      { group: this.options.group, added: added.map((p) => tpKey(p.topic, p.partition)), revoked: revoked.map((p) => tpKey(p.topic, p.partition)) },
      'kafka log consumer assignment changed',
    );
    if (lost.length > 0 || fresh.length > 0) {
      this.enqueue(() => this.rebalance(lost, fresh)).catch((err: unknown) => this.fail(err));
    }
  }

  /**
   * Runs in the queue, after everything queued before the assignment changed. A partition
   * lost before its own onAssigned ran (two rebalances in quick succession) was never
   * handed to the handlers, so it is not revoked from them either.
   */
  private async rebalance(lost: readonly Owned[], fresh: readonly Owned[]): Promise<void> {
    if (this.closing) return;
    const revoked = lost.filter((owned) => owned.ready).map((owned) => owned.tp);
    if (revoked.length > 0) await this.revoke(revoked);
    const current = fresh.filter((owned) => this.owned.get(tpKey(owned.tp.topic, owned.tp.partition)) === owned);
    if (current.length === 0 || this.closing) return;
    const tps = current.map((owned) => owned.tp);
    const { group } = this.options;

    if (this.context.hasChangelogs(group)) {
      const topic = this.options.topics[0]!;
      const stillMine = () => current.some((owned) => this.owned.get(tpKey(owned.tp.topic, owned.tp.partition)) === owned);
      // A transactional producer cannot initialise while its coordinator moves (a broker
      // restarting, a rebalance under way): the restore is tried again, not the process ended.
      for (let attempt = 0; ; attempt++) {
        try {
          await this.context.restore(group, topic, tps.map((tp) => tp.partition));
          break;
        } catch (err) {
          if (!isRetryable(err) || this.closing || !stillMine()) throw err;
          const delay = Math.min(REBALANCE_RETRY_MAX_MS, REBALANCE_RETRY_FIRST_MS * 2 ** attempt);
          this.context.logger.warn({ err, group, attempt, delayMs: delay }, 'kafka log consumer: restoring newly assigned partitions failed while the cluster is unavailable; retrying');
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
      if (this.closing || !stillMine()) return;
    }
    const starts = (await this.handlers.onAssigned?.(tps)) || new Map<string, number>();
    if (this.closing) return;
    const commits: { topic: string; partition: number; offset: string }[] = [];
    for (const { topic, partition } of tps) {
      const start = starts.get(tpKey(topic, partition));
      if (start === undefined) continue;
      if (!Number.isSafeInteger(start) || start < 0) {
        throw new RangeError(`onAssigned gave ${topic}/${partition} the invalid start offset ${start}`);
      }
      this.whileRunning(() => this.consumer.seek({ topic, partition, offset: String(start) }));
      commits.push({ topic, partition, offset: String(start) });
    }
    // The group offset follows the handler's own position, so that kafkajs, which starts
    // from the group offset after every rebalance, agrees with it.
    if (commits.length > 0) {
      await this.consumer.commitOffsets(commits).catch((err: unknown) => {
        this.context.logger.debug({ err, group }, 'kafka log could not commit the start offsets (a rebalance is under way)');
      });
    }
    await this.markCaughtUp(current, starts).catch((err: unknown) => {
      // Only onIdle depends on it: it leaves these partitions out until a fetch reaches their end.
      this.context.logger.warn({ err, group }, 'kafka log could not tell whether newly assigned partitions are caught up');
    });
    for (const owned of current) owned.ready = true;
    this.whileRunning(() => this.consumer.resume(byTopic(tps)));
  }

  /** kafkajs refuses pause, resume and seek once it has stopped; by then they do not matter. */
  private whileRunning(action: () => void): void {
    if (this.stopping !== null) return;
    try {
      action();
    } catch (err) {
      if (this.stopping === null) throw err;
    }
  }

  /** A partition whose start offset is at the end has nothing to fetch, so no batch will say so. */
  private async markCaughtUp(current: readonly Owned[], starts: ReadonlyMap<string, number>): Promise<void> {
    const { group } = this.options;
    for (const topic of new Set(current.map((o) => o.tp.topic))) {
      const mine = current.filter((o) => o.tp.topic === topic);
      const [{ start, stable }, committed] = await Promise.all([
        this.context.reader.offsets(topic, await this.context.topics.partitionCount(topic)),
        this.context.admin.fetchOffsets({ groupId: group, topics: [topic] }),
      ]);
      const groupOffsets = new Map((committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      for (const owned of mine) {
        const { partition } = owned.tp;
        const stored = groupOffsets.get(partition) ?? -1;
        const position = starts.get(tpKey(topic, partition)) ?? (stored >= 0 ? stored : (start[partition] ?? 0));
        owned.caughtUp = position >= (stable[partition] ?? 0);
      }
    }
  }

  private async revoke(partitions: readonly TopicPartition[]): Promise<void> {
    await this.handlers.onRevoked?.(partitions);
    await Promise.all(
      partitions.map(({ topic, partition }) =>
        this.context.transactions.release(partitionTransactionalId(this.options.group, topic, partition)),
      ),
    );
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const owned = this.owned.get(tpKey(batch.topic, batch.partition));
    if (owned === undefined || this.closing) return;
    let started = false;
    const run = this.enqueue(async () => {
      started = true;
      await this.deliver(payload, owned);
    });
    // Keep the membership alive while a restore or onIdle ahead in the queue runs.
    const interval = this.context.options.consumer.heartbeatIntervalMs;
    for (let settled = false; !settled; ) {
      let timer: NodeJS.Timeout | undefined;
      settled = await Promise.race([
        run.then(
          () => true,
          () => true,
        ),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), interval))),
      ]);
      clearTimeout(timer);
      if (!settled && !started) await payload.heartbeat().catch(noop);
    }
    await run;
  }

  private async deliver(payload: EachBatchPayload, owned: Owned): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const key = tpKey(topic, partition);
    const parts = chunks(batch.messages, this.maxBatchRecords);
    for (const [i, part] of parts.entries()) {
      if (this.closing || !payload.isRunning() || payload.isStale() || this.owned.get(key) !== owned || !owned.ready) return;
      const last = part.at(-1)!;
      const records = part.map((message) => toLogRecord(topic, partition, message));
      // A unit that could not commit because the cluster is away left nothing behind: the
      // same batch is handed over again once it may succeed, for as long as the partition
      // stays with this member. Any other failure ends the consumer.
      for (let attempt = 0; ; attempt++) {
        try {
          await this.handlers.eachBatch({ topic, partition, records, highWatermark: Number(batch.highWatermark) });
          break;
        } catch (err) {
          if (!isRetryable(err) || this.closing || !payload.isRunning() || payload.isStale() || this.owned.get(key) !== owned) {
            await this.handlerFailed(err, [owned.tp]);
            return;
          }
          this.progressAt = 0;
          const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
          this.context.logger.warn({ err, group: this.options.group, partition: key, attempt, delayMs: delay }, 'kafka log consumer: batch failed while the cluster is unavailable; retrying it');
          await new Promise((resolve) => setTimeout(resolve, delay));
          await payload.heartbeat().catch(noop);
        }
      }
      this.progressed();
      payload.resolveOffset(last.offset); // kafkajs moves the last one past trailing transaction markers
      const next = i === parts.length - 1 ? Number(batch.lastOffset()) + 1 : Number(last.offset) + 1;
      if (this.owned.get(key) === owned) {
        await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: String(next) }] }] });
      }
      await payload.heartbeat();
    }
  }

  private maybeIdle(): void {
    if (this.handlers.onIdle === undefined || this.closing || this.queued > 0) return;
    const now = Date.now();
    if (now - this.lastIdle < IDLE_INTERVAL_MS) return;
    const idle = [...this.owned.values()].filter((owned) => owned.ready && owned.caughtUp);
    if (idle.length === 0) return;
    this.lastIdle = now;
    this.enqueue(async () => {
      const still = idle.filter((owned) => this.owned.get(tpKey(owned.tp.topic, owned.tp.partition)) === owned && owned.ready);
      if (still.length === 0 || this.closing) return;
      try {
        await this.handlers.onIdle?.(still.map((owned) => owned.tp));
      } catch (err) {
        // Idle work is done again at the next idle tick: an unavailable cluster only delays it.
        if (isRetryable(err)) {
          this.context.logger.warn({ err, group: this.options.group }, 'kafka log consumer: idle work failed while the cluster is unavailable; it runs again at the next idle tick');
          return;
        }
        await this.handlerFailed(
          err,
          still.map((owned) => owned.tp),
        );
      }
    }).catch((err: unknown) => this.fail(err));
  }

  /**
   * A handler failed. If a unit found this process fenced on some of `partitions`, another
   * member owns them now: they are dropped here (paused, onRevoked) until the rebalance
   * that moved them reaches this member. Any other error stops the consumer.
   */
  private async handlerFailed(err: unknown, partitions: readonly TopicPartition[]): Promise<void> {
    if (isFenced(err)) {
      const { group } = this.options;
      const lost = partitions.filter(({ topic, partition }) => this.context.transactions.isFenced(partitionTransactionalId(group, topic, partition)));
      if (lost.length > 0) {
        this.context.logger.warn(
          { group, partitions: lost.map((p) => tpKey(p.topic, p.partition)) },
          'kafka log consumer was fenced: another member owns these partitions now; dropping them until the rebalance arrives',
        );
        for (const { topic, partition } of lost) this.owned.delete(tpKey(topic, partition));
        this.whileRunning(() => this.consumer.pause(byTopic(lost)));
        try {
          await this.revoke(lost);
          return;
        } catch (revokeErr) {
          this.fail(revokeErr);
          return;
        }
      }
    }
    this.fail(err);
  }

  private onCrash(error: Error, restart: boolean): void {
    // kafkajs gives up for good on some errors that only mean the cluster is not back yet
    // (a group coordinator not found right after a broker restart): those restart here.
    const restartHere = !restart && classifyKafkaError(error) === 'unavailable' && !this.closing;
    if (!restart && !restartHere) {
      this.fail(error);
      return;
    }
    this.progressAt = 0;
    this.context.logger.warn(
      { err: error, group: this.options.group },
      restartHere ? 'kafka log consumer crashed while the cluster is unavailable; it restarts and rejoins the group' : 'kafka log consumer crashed; kafkajs restarts it and it rejoins the group',
    );
    const lost = [...this.owned.values()];
    this.owned.clear();
    this.enqueue(() => this.rebalance(lost, [])).catch((err: unknown) => this.fail(err));
    if (restartHere) this.restartAfterCrash(RETRY_FIRST_MS);
  }

  /**
   * Starts kafkajs again after a crash it did not restart from (it has disconnected by
   * then); tried with backoff until it runs or this consumer stops.
   */
  private restartAfterCrash(delayMs: number): void {
    const timer = setTimeout(() => {
      if (this.closing) return;
      this.consumer
        .connect()
        .then(() => this.runConsumer())
        .catch((err: unknown) => {
          if (this.closing) return;
          if (classifyKafkaError(err) !== 'unavailable') return this.fail(err);
          this.context.logger.warn({ err, group: this.options.group }, 'kafka log consumer restart failed; trying again');
          void this.consumer.disconnect().catch(noop);
          this.restartAfterCrash(Math.min(delayMs * 2, RETRY_MAX_MS));
        });
    }, delayMs);
    timer.unref();
  }

  /** Records the first failure and stops (not awaited: this may run inside a handler call). */
  private fail(error: unknown): void {
    if (this.failure !== null) return;
    this.failure = { error };
    this.context.logger.error({ err: error, group: this.options.group }, 'kafka log consumer stopped on an error');
    setImmediate(() => void this.stop());
  }

  private async shutdown(): Promise<void> {
    if (this.idleTimer !== null) clearInterval(this.idleTimer);
    try {
      await this.consumer.stop();
    } catch (err) {
      this.context.logger.warn({ err, group: this.options.group }, 'kafka log consumer did not stop cleanly');
    }
    await this.queue;
    const ready = [...this.owned.values()].filter((owned) => owned.ready).map((owned) => owned.tp);
    this.owned.clear();
    if (ready.length > 0 && this.failure === null) {
      try {
        await this.revoke(ready);
      } catch (err) {
        this.failure = { error: err };
      }
    } else if (ready.length > 0) {
      await Promise.all(
        ready.map(({ topic, partition }) => this.context.transactions.release(partitionTransactionalId(this.options.group, topic, partition))),
      );
    }
    await this.consumer.disconnect().catch((err: unknown) => this.context.logger.warn({ err }, 'kafka log consumer did not disconnect cleanly'));
    this.context.forget(this);
    if (this.failure === null) this.settled.resolve();
    else this.settled.reject(this.failure.error);
  }
}
