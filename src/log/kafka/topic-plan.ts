/**
 * Pure reconciliation of a topic declaration with what the cluster has: what to create,
 * grow or reconfigure, and the drift that cannot be fixed from here. ensureTopics
 * (topics.ts) carries the plan out.
 */
import type { TopicDeclaration } from '../port.js';

/** Kafka's rule for topic names (the embedded log enforces the same). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** What the cluster reports for an existing topic. */
export interface ExistingTopic {
  readonly partitions: number;
  readonly replicationFactor: number;
  /** The topic's effective values of the configs the declaration sets. */
  readonly configs: Readonly<Record<string, string>>;
}

export interface TopicPlan {
  readonly name: string;
  /** Set when the topic does not exist yet. */
  readonly create?: {
    readonly partitions: number;
    readonly replicationFactor: number;
    readonly configs: Readonly<Record<string, string>>;
  };
  /** The partition count to grow to. */
  readonly growTo?: number;
  /** Config entries whose value differs from the declaration (name → wanted value). */
  readonly alter: Readonly<Record<string, string>>;
  /** One human-readable message per difference that ensureTopics cannot fix. */
  readonly drift: readonly string[];
}

export function validateDeclaration(declaration: TopicDeclaration): void {
  if (!TOPIC_NAME.test(declaration.name)) {
    throw new Error(`invalid topic name ${JSON.stringify(declaration.name)}: use 1-249 characters of [a-zA-Z0-9._-]`);
  }
  if (!Number.isInteger(declaration.partitions) || declaration.partitions < 1) {
    throw new RangeError(`topic ${declaration.name}: partitions must be a positive integer, got ${declaration.partitions}`);
  }
  if (!Number.isInteger(declaration.retentionMs) || (declaration.retentionMs !== -1 && declaration.retentionMs < 1)) {
    throw new RangeError(`topic ${declaration.name}: retentionMs must be -1 or a positive integer, got ${declaration.retentionMs}`);
  }
}

/** The replicas every topic gets, and how many must have an append before it is acknowledged. */
export interface Replication {
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  /** Chosen as one because the cluster has a single broker and no topic with more replicas. */
  readonly singleBroker: boolean;
}

/**
 * The replication to create and keep topics with. What is configured wins; otherwise three
 * replicas with min.insync.replicas 2 (an append survives one broker lost, a second loss
 * stops appends rather than risking them), or one and one on a cluster that has exactly
 * one broker and has never had a topic with more replicas (`replicasSeen`): a cluster that
 * has shown more is a cluster with brokers away, not a development broker.
 */
export function chooseReplication(
  configured: { readonly replicationFactor: number | null; readonly minInsyncReplicas: number | null },
  brokers: number,
  replicasSeen: number,
): Replication {
  const singleBroker = configured.replicationFactor === null && brokers === 1 && replicasSeen <= 1;
  const replicationFactor = configured.replicationFactor ?? (singleBroker ? 1 : 3);
  const minInsyncReplicas = configured.minInsyncReplicas ?? Math.max(1, Math.min(2, replicationFactor - 1));
  return { replicationFactor, minInsyncReplicas, singleBroker };
}

/** Thrown by planTopic: creating the topic now would give it fewer replicas than wanted. */
export class UnderReplicatedError extends Error {
  constructor(
    readonly topic: string,
    readonly wanted: number,
    readonly brokers: number,
  ) {
    super(
      `refusing to create topic ${topic} with replication factor ${wanted}: the cluster has ${brokers} broker${brokers === 1 ? '' : 's'} available. ` +
        'Start the missing brokers, or set TRACEFOLD_KAFKA_REPLICATION_FACTOR to what the cluster really has',
    );
    this.name = 'UnderReplicatedError';
  }
}

/** The topic configs a declaration sets: its cleanup policy, retention, own entries and min.insync.replicas. */
export function declaredConfigs(declaration: TopicDeclaration, replication?: Pick<Replication, 'minInsyncReplicas'>): Record<string, string> {
  return {
    ...(declaration.config ?? {}),
    'cleanup.policy': declaration.cleanupPolicy,
    'retention.ms': String(declaration.retentionMs),
    ...(replication === undefined ? {} : { 'min.insync.replicas': String(replication.minInsyncReplicas) }),
  };
}

/**
 * Throws UnderReplicatedError rather than create a topic on fewer brokers than its
 * replication factor: Kafka would refuse it anyway, and a lower factor, once created, stays.
 */
export function planTopic(declaration: TopicDeclaration, existing: ExistingTopic | null, replication: Replication, brokers: number): TopicPlan {
  const { name } = declaration;
  const configs = declaredConfigs(declaration, replication);
  const { replicationFactor } = replication;
  if (existing === null) {
    if (brokers < replicationFactor) throw new UnderReplicatedError(name, replicationFactor, brokers);
    return { name, create: { partitions: declaration.partitions, replicationFactor, configs }, alter: {}, drift: [] };
  }
  const drift: string[] = [];
  let growTo: number | undefined;
  if (declaration.partitions > existing.partitions) growTo = declaration.partitions;
  else if (declaration.partitions < existing.partitions) {
    drift.push(
      `topic ${name} is declared with ${declaration.partitions} partitions but has ${existing.partitions}; ` +
        'partitions cannot be removed, so it keeps them',
    );
  }
  if (existing.replicationFactor !== replicationFactor) {
    drift.push(
      `topic ${name} has replication factor ${existing.replicationFactor} but ${replicationFactor} is wanted; ` +
        'change it with a partition reassignment (kafka-reassign-partitions), or set TRACEFOLD_KAFKA_REPLICATION_FACTOR',
    );
  }
  const alter: Record<string, string> = {};
  for (const [key, value] of Object.entries(configs)) {
    if (existing.configs[key] !== value) alter[key] = value;
  }
  return growTo === undefined ? { name, alter, drift } : { name, growTo, alter, drift };
}
