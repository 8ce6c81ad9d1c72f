import type { Logger } from '../rocks/logger.js';

/**
 * Consumer group timings. The defaults are shorter than kafkajs's so that the partitions of
 * a member that died without leaving (kill -9, a lost host) move within about ten seconds.
 */
export interface KafkaConsumerTimings {
  /** A member that sends no heartbeat for this long is removed from its group. */
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** How long the group waits for every member to rejoin during a rebalance. */
  readonly rebalanceTimeoutMs?: number;
  /**
   * How long a fetch waits at the broker for records. It bounds how quickly stop() returns
   * and how often an idle consumer looks again; records that arrive end the wait at once.
   */
  readonly maxWaitTimeMs?: number;
}

export interface KafkaLogOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Local state stores live in `<dataDir>/kafka-state` (one RocksDB for every group). */
  readonly dataDir: string;
  /**
   * Stable per process. Names this process's clients and the transactional producer of
   * units that name no input partition; the per-partition transactional ids deliberately
   * leave it out so that whoever owns a partition fences its previous owner.
   */
  readonly instanceId: string;
  readonly logger?: Logger;
  /** TCP connect timeout per broker (default 3000). */
  readonly connectionTimeoutMs?: number;
  /** Timeout of one request, and of the broker's wait for replicas on produce (default 10000). */
  readonly requestTimeoutMs?: number;
  /** How long a transaction may stay open before the coordinator aborts it (default 60000). */
  readonly transactionTimeoutMs?: number;
  readonly consumer?: KafkaConsumerTimings;
  readonly replication?: KafkaReplication;
}

/**
 * Replicas of every topic this log creates, changelogs included. Unset fields mean: three
 * replicas and min.insync.replicas 2, or one and one on a cluster of exactly one broker
 * where no existing topic has more (a development broker), which is logged at start.
 */
export interface KafkaReplication {
  readonly replicationFactor?: number;
  readonly minInsyncReplicas?: number;
}

/** Options with every default filled in. */
export interface ResolvedKafkaLogOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly dataDir: string;
  readonly instanceId: string;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly transactionTimeoutMs: number;
  readonly consumer: Required<KafkaConsumerTimings>;
  /** Null fields are chosen from the cluster (see KafkaReplication). */
  readonly replication: { readonly replicationFactor: number | null; readonly minInsyncReplicas: number | null };
}

export const DEFAULTS = {
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 10_000,
  transactionTimeoutMs: 60_000,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 30_000,
  maxWaitTimeMs: 500,
} as const;

const NAME = /^[A-Za-z0-9._-]{1,100}$/;
const BROKER = /^[^\s:]+:\d{1,5}$/;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`kafka log: ${name} must be a positive integer of milliseconds, got ${value}`);
  return value;
}

function replicas(name: string, value: number | undefined): number | null {
  if (value === undefined) return null;
  if (!Number.isInteger(value) || value < 1 || value > 32_767) throw new RangeError(`kafka log: ${name} must be a whole number from 1 to 32767, got ${value}`);
  return value;
}

/** Checks the options once, naming the offending key, and fills in the defaults. */
export function resolveOptions(options: KafkaLogOptions): ResolvedKafkaLogOptions {
  if (options.brokers.length === 0) throw new Error('kafka log: brokers must name at least one host:port');
  for (const broker of options.brokers) {
    if (!BROKER.test(broker)) throw new Error(`kafka log: brokers: ${JSON.stringify(broker)} is not host:port`);
  }
  if (!NAME.test(options.clientId)) throw new Error(`kafka log: clientId must be 1-100 of [A-Za-z0-9._-], got ${JSON.stringify(options.clientId)}`);
  if (!NAME.test(options.instanceId)) {
    throw new Error(`kafka log: instanceId must be 1-100 of [A-Za-z0-9._-], got ${JSON.stringify(options.instanceId)}`);
  }
  if (options.dataDir.trim() === '') throw new Error('kafka log: dataDir must not be empty');
  const timings = options.consumer ?? {};
  const consumer = {
    sessionTimeoutMs: positive('consumer.sessionTimeoutMs', timings.sessionTimeoutMs, DEFAULTS.sessionTimeoutMs),
    heartbeatIntervalMs: positive('consumer.heartbeatIntervalMs', timings.heartbeatIntervalMs, DEFAULTS.heartbeatIntervalMs),
    rebalanceTimeoutMs: positive('consumer.rebalanceTimeoutMs', timings.rebalanceTimeoutMs, DEFAULTS.rebalanceTimeoutMs),
    maxWaitTimeMs: positive('consumer.maxWaitTimeMs', timings.maxWaitTimeMs, DEFAULTS.maxWaitTimeMs),
  };
  if (consumer.heartbeatIntervalMs >= consumer.sessionTimeoutMs) {
    throw new RangeError('kafka log: consumer.heartbeatIntervalMs must be shorter than consumer.sessionTimeoutMs');
  }
  const replication = options.replication ?? {};
  const replicationFactor = replicas('replication.replicationFactor', replication.replicationFactor);
  const minInsyncReplicas = replicas('replication.minInsyncReplicas', replication.minInsyncReplicas);
  if (replicationFactor !== null && minInsyncReplicas !== null && minInsyncReplicas > replicationFactor) {
    throw new RangeError(
      `kafka log: replication.minInsyncReplicas (${minInsyncReplicas}) must not exceed replication.replicationFactor (${replicationFactor}): no append could ever succeed`,
    );
  }
  return Object.freeze({
    brokers: Object.freeze([...options.brokers]),
    clientId: options.clientId,
    dataDir: options.dataDir,
    instanceId: options.instanceId,
    connectionTimeoutMs: positive('connectionTimeoutMs', options.connectionTimeoutMs, DEFAULTS.connectionTimeoutMs),
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs, DEFAULTS.requestTimeoutMs),
    transactionTimeoutMs: positive('transactionTimeoutMs', options.transactionTimeoutMs, DEFAULTS.transactionTimeoutMs),
    consumer: Object.freeze(consumer),
    replication: Object.freeze({ replicationFactor, minInsyncReplicas }),
  });
}

export type { Logger };
