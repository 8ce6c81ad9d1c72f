/**
 * The topics this process knows: their partition counts (cached, refreshed on demand) and
 * ensureTopics, which creates, grows and reconfigures topics after their declarations.
 */
import kafkajs, { type Admin } from 'kafkajs';
import { createRoundRobin, type RoundRobin } from '../partitioner.js';
import type { TopicDeclaration } from '../port.js';
import { KafkaLogError, kafkaLogError } from './errors.js';
import type { Logger } from './options.js';
import type { ResolvedKafkaLogOptions } from './options.js';
import {
  chooseReplication,
  declaredConfigs,
  planTopic,
  UnderReplicatedError,
  validateDeclaration,
  type ExistingTopic,
  type Replication,
  type TopicPlan,
} from './topic-plan.js';

// Node sees only some of kafkajs's exports as named ESM exports; these come from the object.
const { ConfigResourceTypes, ConfigSource } = kafkajs;

/** Attempts of one ensureTopics call; the waits between them add up to about 3 s. */
const RECONCILE_ATTEMPTS = 5;
/** Metadata reads of topics just created, until every broker asked lists them. */
const LISTED_ATTEMPTS = 8;
const LISTED_FIRST_WAIT_MS = 100;

/** A create that lost the race to another process: the next plan finds the topic there. */
function isTopicRace(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 16; e = (e as { cause?: unknown }).cause, depth++) {
    const { type } = e as { type?: unknown };
    if (type === 'TOPIC_ALREADY_EXISTS' || type === 'UNKNOWN_TOPIC_OR_PARTITION' || type === 'LEADER_NOT_AVAILABLE') return true;
  }
  return false;
}

export class TopicCatalog {
  private readonly partitions = new Map<string, number>();
  private readonly roundRobins = new Map<string, RoundRobin>();
  /** ensureTopics calls run one after the other: each sees what the previous did. */
  private ensuring: Promise<unknown> = Promise.resolve();
  /** The most replicas any topic had when this process looked: the cluster's size, at least. */
  private replicasSeen = 0;
  private announced: string | null = null;

  constructor(
    private readonly admin: Admin,
    private readonly requestTimeoutMs: number,
    private readonly replication: ResolvedKafkaLogOptions['replication'],
    private readonly logger: Logger,
  ) {}

  /** The cached partition count; throws for a topic this process has not seen. */
  partitionsOf(topic: string): number {
    const count = this.partitions.get(topic);
    if (count === undefined) {
      throw new KafkaLogError('invalid', `unknown topic "${topic}": declare it with ensureTopics() before using it`);
    }
    return count;
  }

  /** The cached partition count, if this process has seen the topic. */
  cachedPartitions(topic: string): number | undefined {
    return this.partitions.get(topic);
  }

  /** The partition count, asking the cluster when the topic is not cached yet. */
  async partitionCount(topic: string): Promise<number> {
    const cached = this.partitions.get(topic);
    if (cached !== undefined) return cached;
    await this.refresh([topic]);
    return this.partitionsOf(topic);
  }

  /** Per topic, as kafkajs keeps its counters, for records without a key. */
  roundRobin(topic: string): RoundRobin {
    let roundRobin = this.roundRobins.get(topic);
    if (roundRobin === undefined) {
      roundRobin = createRoundRobin();
      this.roundRobins.set(topic, roundRobin);
    }
    return roundRobin;
  }

  /**
   * Reads the partition counts of `topics` from the cluster. Topics that do not exist
   * are forgotten; asking kafkajs for their metadata would make it retry for seconds.
   */
  async refresh(topics: readonly string[]): Promise<void> {
    try {
      const existing = new Set(await this.admin.listTopics());
      const present = topics.filter((topic) => existing.has(topic));
      for (const topic of topics) if (!existing.has(topic)) this.partitions.delete(topic);
      if (present.length === 0) return;
      const { topics: metadata } = await this.admin.fetchTopicMetadata({ topics: present });
      for (const { name, partitions } of metadata) this.partitions.set(name, partitions.length);
    } catch (err) {
      throw kafkaLogError(`cannot read the metadata of ${topics.join(', ')}`, err);
    }
  }

  /**
   * refresh() for topics that exist (just created or just described): the broker that
   * answers may not list a topic created a moment ago through another, so a missing one
   * is asked for again until it shows, never forgotten.
   */
  private async refreshExisting(topics: readonly string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.refresh(topics);
      const missing = topics.filter((topic) => !this.partitions.has(topic));
      if (missing.length === 0) return;
      if (attempt >= LISTED_ATTEMPTS) {
        throw new KafkaLogError('unavailable', `the cluster does not list the topics ${missing.join(', ')} yet, though they exist`);
      }
      await new Promise((resolve) => setTimeout(resolve, LISTED_FIRST_WAIT_MS * 2 ** (attempt - 1)));
    }
  }

  ensure(declarations: readonly TopicDeclaration[]): Promise<string[]> {
    const run = this.ensuring.then(() => this.reconcile(declarations));
    this.ensuring = run.catch(() => undefined);
    return run;
  }

  /**
   * Processes that start together race to create the same topics: one sees a topic listed
   * before its partitions have leaders, another's create finds it already made. Each such
   * race is settled by planning again from what the cluster now says.
   */
  private async reconcile(declarations: readonly TopicDeclaration[]): Promise<string[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.reconcileOnce(declarations);
      } catch (err) {
        if (attempt >= RECONCILE_ATTEMPTS || !(isTopicRace(err) || (err instanceof KafkaLogError && err.retryable))) throw err;
        this.logger.warn({ attempt, err: err instanceof Error ? err.message : String(err) }, 'ensureTopics raced another process or a moving leader; planning again');
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)));
      }
    }
  }

  private async reconcileOnce(declarations: readonly TopicDeclaration[]): Promise<string[]> {
    const wanted = new Map<string, TopicDeclaration>();
    for (const declaration of declarations) {
      validateDeclaration(declaration);
      wanted.set(declaration.name, declaration);
    }
    if (wanted.size === 0) return [];
    try {
      const brokers = (await this.admin.describeCluster()).brokers.length;
      const existing = await this.describe([...wanted.keys()], [...wanted.values()]);
      for (const topic of existing.values()) this.replicasSeen = Math.max(this.replicasSeen, topic.replicationFactor);
      const replication = chooseReplication(this.replication, brokers, this.replicasSeen);
      this.announce(replication);
      const plans = [...wanted.values()].map((declaration) => planTopic(declaration, existing.get(declaration.name) ?? null, replication, brokers));
      await this.apply(plans, existing);
      await this.refreshExisting([...wanted.keys()]);
      return plans.flatMap((plan) => plan.drift);
    } catch (err) {
      // Brokers that are away may come back: worth another attempt, and a 503 meanwhile.
      if (err instanceof UnderReplicatedError) throw new KafkaLogError('unavailable', err.message, { cause: err });
      throw kafkaLogError('ensureTopics failed', err);
    }
  }

  /** Says once, and again whenever it changes, which replication topics get. */
  private announce(replication: Replication): void {
    const said = `${replication.replicationFactor}/${replication.minInsyncReplicas}`;
    if (this.announced === said) return;
    this.announced = said;
    const fields = { replicationFactor: replication.replicationFactor, minInsyncReplicas: replication.minInsyncReplicas };
    if (replication.singleBroker) {
      this.logger.warn(
        fields,
        'kafka log: the cluster has ONE broker, so topics get replication factor 1 and min.insync.replicas 1: losing that broker loses data. ' +
          'Fine for development; in production run three brokers or set TRACEFOLD_KAFKA_REPLICATION_FACTOR',
      );
    } else {
      this.logger.info(fields, 'kafka log: topics are kept with this replication');
    }
  }

  /** Partition count, replication factor and the declared configs of the topics that exist. */
  private async describe(names: readonly string[], declarations: readonly TopicDeclaration[]): Promise<Map<string, ExistingTopic & { dynamic: Record<string, string> }>> {
    const all = new Set(await this.admin.listTopics());
    const present = names.filter((name) => all.has(name));
    const result = new Map<string, ExistingTopic & { dynamic: Record<string, string> }>();
    if (present.length === 0) return result;
    const { topics } = await this.admin.fetchTopicMetadata({ topics: present });
    const described = await this.admin.describeConfigs({
      resources: present.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
      includeSynonyms: false,
    });
    for (const { name, partitions } of topics) {
      const declaration = declarations.find((d) => d.name === name);
      const entries = described.resources.find((r) => r.resourceName === name)?.configEntries ?? [];
      const configs: Record<string, string> = {};
      const dynamic: Record<string, string> = {};
      for (const entry of entries) {
        if (declaration !== undefined && entry.configName in declaredConfigs(declaration, { minInsyncReplicas: 1 })) configs[entry.configName] = entry.configValue;
        if (entry.configSource === ConfigSource.TOPIC_CONFIG) dynamic[entry.configName] = entry.configValue;
      }
      const replicationFactor = Math.max(0, ...partitions.map((p) => p.replicas.length));
      result.set(name, { partitions: partitions.length, replicationFactor, configs, dynamic });
    }
    return result;
  }

  private async apply(plans: readonly TopicPlan[], existing: ReadonlyMap<string, { dynamic: Record<string, string> }>): Promise<void> {
    const create = plans.flatMap((plan) =>
      plan.create === undefined
        ? []
        : [
            {
              topic: plan.name,
              numPartitions: plan.create.partitions,
              replicationFactor: plan.create.replicationFactor,
              configEntries: Object.entries(plan.create.configs).map(([name, value]) => ({ name, value })),
            },
          ],
    );
    if (create.length > 0) {
      // false means another process created them first, which is just as good.
      await this.admin.createTopics({ topics: create, waitForLeaders: true, timeout: this.requestTimeoutMs });
      this.logger.info({ topics: create.map((t) => t.topic) }, 'kafka log created topics');
    }
    const grow = plans.flatMap((plan) => (plan.growTo === undefined ? [] : [{ topic: plan.name, count: plan.growTo }]));
    if (grow.length > 0) {
      await this.admin.createPartitions({ topicPartitions: grow, timeout: this.requestTimeoutMs });
      this.logger.info({ topics: grow }, 'kafka log added partitions');
    }
    // AlterConfigs replaces a topic's whole set of overrides, so the ones the declaration
    // does not mention are sent along unchanged.
    const alter = plans
      .filter((plan) => Object.keys(plan.alter).length > 0)
      .map((plan) => ({
        type: ConfigResourceTypes.TOPIC,
        name: plan.name,
        configEntries: Object.entries({ ...(existing.get(plan.name)?.dynamic ?? {}), ...plan.alter }).map(([name, value]) => ({ name, value })),
      }));
    if (alter.length > 0) {
      await this.admin.alterConfigs({ validateOnly: false, resources: alter });
      this.logger.info({ topics: alter.map((r) => r.name) }, 'kafka log changed topic configs');
    }
  }
}
