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

/** Replicas per partition for a cluster of `brokers`: three where possible. */
export function replicationFactorFor(brokers: number): number {
  return Math.max(1, Math.min(3, brokers));
}

/** The topic configs a declaration sets: its cleanup policy, retention and own entries. */
export function declaredConfigs(declaration: TopicDeclaration): Record<string, string> {
  return {
    ...(declaration.config ?? {}),
    'cleanup.policy': declaration.cleanupPolicy,
    'retention.ms': String(declaration.retentionMs),
  };
}

export function planTopic(declaration: TopicDeclaration, existing: ExistingTopic | null, brokers: number): TopicPlan {
  const { name } = declaration;
  const configs = declaredConfigs(declaration);
  const replicationFactor = replicationFactorFor(brokers);
  if (existing === null) {
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
      `topic ${name} has replication factor ${existing.replicationFactor} but ${replicationFactor} is wanted ` +
        `(three, or one per broker on a cluster of ${brokers}); change it with a partition reassignment`,
    );
  }
  const alter: Record<string, string> = {};
  for (const [key, value] of Object.entries(configs)) {
    if (existing.configs[key] !== value) alter[key] = value;
  }
  return growTo === undefined ? { name, alter, drift } : { name, growTo, alter, drift };
}

/** Only the differences that ensureTopics cannot fix, one message each. */
export function describeTopicDrift(declaration: TopicDeclaration, existing: ExistingTopic | null, brokers: number): string[] {
  return [...planTopic(declaration, existing, brokers).drift];
}
