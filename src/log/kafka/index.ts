/**
 * The Kafka log adapter: the log port on a
 * Kafka cluster through kafkajs, with state stores in a local RocksDB at
 * `<dataDir>/kafka-state`, backed by changelog topics where a stage asks for them.
 *
 *   append.ts            idempotent, coalescing producer behind append()
 *   topics.ts            partition counts and ensureTopics (plan in topic-plan.ts)
 *   consumer.ts          the consumer runtime behind consume()
 *   unit.ts              work units: one transaction, then one local batch
 *   transactions.ts      transactional producers per input partition
 *   changelog.ts         changelog records and restore
 *   partition-reader.ts  group-less reads (restore, endOffsets)
 *   state.ts             the local RocksDB
 */
import { Kafka, logLevel } from 'kafkajs';
import { silentLogger } from '../rocks/logger.js';
import { AppendProducer, APPEND_RETRY } from './append.js';
import { KafkaLogError, kafkaLogError } from './errors.js';
import { HealthCheck } from './health.js';
import { KafkaLogImpl, type KafkaLog } from './log.js';
import { KAFKAJS_LOG_LEVEL, kafkajsLogCreator } from './logging.js';
import { resolveOptions, type KafkaLogOptions } from './options.js';
import { PartitionReader } from './partition-reader.js';
import { LocalState } from './state.js';
import { TopicCatalog } from './topics.js';
import { TransactionalProducers } from './transactions.js';

export type { KafkaLog } from './log.js';
export type { KafkaConsumerTimings, KafkaLogOptions, Logger } from './options.js';
export { KafkaLogError, classifyKafkaError, isCoordinatorError, withCoordinatorRetry, type KafkaLogErrorCode } from './errors.js';
export { chooseReplication, planTopic, declaredConfigs, UnderReplicatedError, type ExistingTopic, type Replication, type TopicPlan } from './topic-plan.js';
export { assignOffsets } from './records.js';
export { diffAssignment, flattenAssignment } from './assignment.js';
export { changelogTopicName, changelogEntries } from './changelog.js';
export { visibleRecords, nextOffset } from './visible-records.js';
export { partitionTransactionalId, instanceTransactionalId } from './transactions.js';

/** The health probe waits at most this long for the cluster. */
const HEALTH_TIMEOUT_MS = 2_000;

/**
 * Connects to the cluster (failing fast with a retryable KafkaLogError when it does not
 * answer) and opens the local state. Topics are not touched until ensureTopics().
 */
export async function createKafkaLog(options: KafkaLogOptions): Promise<KafkaLog> {
  const resolved = resolveOptions(options);
  const logger = options.logger ?? silentLogger;
  const client = {
    brokers: [...resolved.brokers],
    clientId: resolved.clientId,
    connectionTimeout: resolved.connectionTimeoutMs,
    requestTimeout: resolved.requestTimeoutMs,
    logLevel: KAFKAJS_LOG_LEVEL,
    logCreator: kafkajsLogCreator(logger),
  };
  const kafka = new Kafka(client);
  // Appends answer HTTP requests: they must fail in seconds, not minutes.
  const fast = new Kafka({ ...client, retry: APPEND_RETRY });
  let reader: PartitionReader;
  try {
    reader = PartitionReader.create(kafka); // checks the kafkajs internals it needs; connects later
  } catch (err) {
    throw new KafkaLogError('invalid', err instanceof Error ? err.message : String(err), { cause: err });
  }

  const admin = kafka.admin();
  // The probe's answer is its result: it logs nothing, or an outage would log every second.
  const healthAdmin = new Kafka({ ...client, logLevel: logLevel.NOTHING }).admin({ retry: { retries: 0 } });
  // A probe with the short retries first: a cluster that is not there fails the start in
  // seconds, while the admin client kept for later has kafkajs's usual patience.
  const probe = fast.admin();
  try {
    await probe.connect();
    await admin.connect();
  } catch (err) {
    await admin.disconnect().catch(() => undefined);
    throw kafkaLogError(`cannot reach the Kafka cluster at ${resolved.brokers.join(',')}`, err);
  } finally {
    await probe.disconnect().catch(() => undefined);
  }

  let state: LocalState;
  try {
    state = await LocalState.open(resolved.dataDir, logger);
  } catch (err) {
    await admin.disconnect().catch(() => undefined);
    throw err;
  }
  logger.info({ brokers: resolved.brokers, instanceId: resolved.instanceId, state: state.dir }, 'kafka log opened');
  const health = new HealthCheck(healthAdmin, Math.min(HEALTH_TIMEOUT_MS, resolved.requestTimeoutMs));
  await health.start();
  return new KafkaLogImpl({
    options: resolved,
    logger,
    kafka,
    admin,
    topics: new TopicCatalog(admin, resolved.requestTimeoutMs, resolved.replication, logger),
    appender: new AppendProducer(fast, resolved.requestTimeoutMs, logger),
    transactions: new TransactionalProducers(kafka, resolved.transactionTimeoutMs, logger),
    reader,
    state,
    health,
  });
}
