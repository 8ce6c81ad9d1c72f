/**
 * The Kafka adapter's pure parts, without a broker: topic reconciliation plans, offsets
 * of coalesced appends, assignment differences, read_committed filtering, error
 * classification, option checks and changelog records of store writes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { partitionFor, createRoundRobin } from '../../../src/log/partitioner.js';
import type { TopicDeclaration } from '../../../src/log/port.js';
import {
  assignOffsets,
  changelogEntries,
  changelogTopicName,
  classifyKafkaError,
  chooseReplication,
  diffAssignment,
  flattenAssignment,
  isCoordinatorError,
  withCoordinatorRetry,
  KafkaLogError,
  nextOffset,
  partitionTransactionalId,
  planTopic,
  UnderReplicatedError,
  visibleRecords,
} from '../../../src/log/kafka/index.js';
import { resolveOptions } from '../../../src/log/kafka/options.js';
import { routeRecords, toLogRecord } from '../../../src/log/kafka/records.js';
import { LocalState } from '../../../src/log/kafka/state.js';
import { silentLogger } from '../../../src/log/rocks/logger.js';
import { declareTopic, tempDir } from './helpers.js';

const buf = (s: string) => Buffer.from(s);

describe('kafka topic plans', () => {
  const declaration: TopicDeclaration = declareTopic('tracefold.raw.v1', 6, { retentionMs: 604_800_000, config: { 'max.message.bytes': '16777216' } });
  const configs = { 'cleanup.policy': 'delete', 'retention.ms': '604800000', 'max.message.bytes': '16777216', 'min.insync.replicas': '2' };
  const three = chooseReplication({ replicationFactor: null, minInsyncReplicas: null }, 3, 0);
  const single = chooseReplication({ replicationFactor: null, minInsyncReplicas: null }, 1, 0);

  it('creates a missing topic with its configs, three replicas and min.insync.replicas 2', () => {
    expect(three).toEqual({ replicationFactor: 3, minInsyncReplicas: 2, singleBroker: false });
    expect(planTopic(declaration, null, three, 5)).toEqual({
      name: 'tracefold.raw.v1',
      create: { partitions: 6, replicationFactor: 3, configs },
      alter: {},
      drift: [],
    });
  });

  it('chooses one replica only on a one-broker cluster that never showed a topic with more', () => {
    expect(single).toEqual({ replicationFactor: 1, minInsyncReplicas: 1, singleBroker: true });
    // One broker answering, but a topic has three replicas: two brokers are away.
    expect(chooseReplication({ replicationFactor: null, minInsyncReplicas: null }, 1, 3)).toMatchObject({ replicationFactor: 3, singleBroker: false });
    expect(chooseReplication({ replicationFactor: null, minInsyncReplicas: null }, 2, 0)).toMatchObject({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(chooseReplication({ replicationFactor: 2, minInsyncReplicas: null }, 1, 0)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1, singleBroker: false });
    expect(chooseReplication({ replicationFactor: 5, minInsyncReplicas: 3 }, 5, 0)).toEqual({ replicationFactor: 5, minInsyncReplicas: 3, singleBroker: false });
  });

  it('refuses to create a topic on fewer brokers than its replication factor, never lowering it', () => {
    expect(() => planTopic(declaration, null, three, 2)).toThrow(UnderReplicatedError);
    expect(() => planTopic(declaration, null, three, 1)).toThrow(/refusing to create topic tracefold\.raw\.v1 with replication factor 3: the cluster has 1 broker available/);
    // An existing topic is not created, so brokers away do not matter to its plan.
    expect(planTopic(declaration, { partitions: 6, replicationFactor: 3, configs }, three, 1)).toEqual({ name: 'tracefold.raw.v1', alter: {}, drift: [] });
    expect(planTopic(declaration, null, single, 1).create?.replicationFactor).toBe(1);
  });

  it('sets min.insync.replicas on a topic that lacks it', () => {
    const { 'min.insync.replicas': _, ...without } = configs;
    expect(planTopic(declaration, { partitions: 6, replicationFactor: 3, configs: without }, three, 3).alter).toEqual({ 'min.insync.replicas': '2' });
  });

  it('grows partitions and changes configs that differ, including retention -1', () => {
    const forever = { ...declaration, retentionMs: -1 };
    const plan = planTopic(forever, { partitions: 4, replicationFactor: 3, configs: { ...configs, 'max.message.bytes': '1048588' } }, three, 3);
    expect(plan.growTo).toBe(6);
    expect(plan.alter).toEqual({ 'retention.ms': '-1', 'max.message.bytes': '16777216' });
    expect(plan.drift).toEqual([]);
  });

  it('reports what it cannot fix: fewer partitions than exist, another replication factor', () => {
    const existing = { partitions: 8, replicationFactor: 1, configs };
    const { drift, growTo } = planTopic(declaration, existing, three, 3);
    expect(drift).toHaveLength(2);
    expect(drift[0]).toMatch(/tracefold\.raw\.v1 is declared with 6 partitions but has 8/);
    expect(drift[1]).toMatch(/replication factor 1 but 3 is wanted/);
    expect(growTo).toBeUndefined();
  });
});

describe('kafka append offsets', () => {
  it('gives each record of a coalesced request base + its position in its partition', () => {
    const results = assignOffsets(
      [
        { topic: 'a', partitions: [0, 1, 0] },
        { topic: 'b', partitions: [0] },
        { topic: 'a', partitions: [1, 0] },
      ],
      [
        { topicName: 'a', partition: 0, baseOffset: '10' },
        { topicName: 'a', partition: 1, baseOffset: '3' },
        { topicName: 'b', partition: 0, baseOffset: '0' },
      ],
    );
    expect(results.map((call) => call.map((r) => `${r.topic}/${r.partition}@${r.offset}`))).toEqual([
      ['a/0@10', 'a/1@3', 'a/0@11'],
      ['b/0@0'],
      ['a/1@4', 'a/0@12'],
    ]);
    expect(() => assignOffsets([{ topic: 'c', partitions: [0] }], [])).toThrow(/no offset for c:0/);
  });

  it('routes keys with the partitioner the embedded log uses and checks explicit partitions', () => {
    const messages = routeRecords(
      't',
      5,
      [
        { key: buf('tenant/trace'), value: buf('v'), headers: { a: '1' }, timestamp: 1_700_000_000_000 },
        { key: null, value: null, partition: 4 },
      ],
      createRoundRobin(),
      42,
    );
    expect(messages[0]).toMatchObject({ partition: partitionFor(buf('tenant/trace'), 5), headers: { a: '1' }, timestamp: '1700000000000' });
    expect(messages[1]).toMatchObject({ partition: 4, value: null, timestamp: '42' });
    expect(() => routeRecords('t', 5, [{ key: null, value: null, partition: 5 }], createRoundRobin(), 0)).toThrow(/t has 5 partitions; a record names partition 5/);
    expect(() => routeRecords('t', 5, [{ key: null, value: null, timestamp: Number.NaN }], createRoundRobin(), 0)).toThrow(/invalid record timestamp/);
  });

  it('reads kafkajs messages back as log records with string headers', () => {
    const record = toLogRecord('t', 2, {
      key: buf('k'),
      value: null,
      timestamp: '1700000000001',
      attributes: 0,
      offset: '17',
      headers: { a: buf('x'), b: 'y', c: [buf('1'), buf('2')], d: undefined },
    });
    expect(record).toEqual({ topic: 't', partition: 2, offset: 17, key: buf('k'), value: null, headers: { a: 'x', b: 'y', c: '2' }, timestamp: 1_700_000_000_001 });
  });
});

describe('kafka consumer assignments', () => {
  it('derives added and revoked partitions from successive assignments', () => {
    const first = flattenAssignment({ t: [2, 0], u: [1] });
    expect(first).toEqual([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 2 },
      { topic: 'u', partition: 1 },
    ]);
    expect(diffAssignment([], first)).toEqual({ added: first, revoked: [] });
    const { added, revoked } = diffAssignment(['t:0', 't:2', 'u:1'], flattenAssignment({ t: [0, 1] }));
    expect(added).toEqual([{ topic: 't', partition: 1 }]);
    expect(revoked).toEqual([
      { topic: 't', partition: 2 },
      { topic: 'u', partition: 1 },
    ]);
    expect(diffAssignment(['a.b:c:3'], []).revoked).toEqual([{ topic: 'a.b:c', partition: 3 }]);
  });
});

describe('kafka read_committed filtering', () => {
  const record = (offset: number, producerId: string, opts: { control?: 'commit' | 'abort'; inTransaction?: boolean; first?: number; delta?: number } = {}) => ({
    offset: String(offset),
    key: opts.control === undefined ? buf(`k${offset}`) : Buffer.from([0, 0, 0, opts.control === 'abort' ? 0 : 1]),
    isControlRecord: opts.control !== undefined,
    batchContext: { firstOffset: String(opts.first ?? offset), lastOffsetDelta: opts.delta ?? 0, producerId, inTransaction: opts.inTransaction ?? opts.control !== undefined },
  });

  it('drops markers and records of aborted transactions, keeps committed and plain ones', () => {
    const records = [
      record(0, '-1'),
      record(1, '7', { inTransaction: true }), // aborted below
      record(2, '8', { inTransaction: true }), // committed below
      record(3, '7', { control: 'abort' }),
      record(4, '8', { control: 'commit' }),
      record(5, '7', { inTransaction: true }), // a later, committed transaction of 7
      record(6, '7', { control: 'commit' }),
    ];
    const visible = visibleRecords(records, [{ producerId: '7', firstOffset: '1' }], 0);
    expect(visible.map((r) => r.offset)).toEqual(['0', '2', '5']);
    expect(visibleRecords(records, [{ producerId: '7', firstOffset: '1' }], 3).map((r) => r.offset)).toEqual(['5']);
    expect(nextOffset(records, 0)).toBe(7);
    expect(nextOffset([], 12)).toBe(12);
    // A compacted batch ends past its last record.
    expect(nextOffset([record(20, '-1', { first: 18, delta: 9 })], 18)).toBe(28);
  });
});

describe('kafka error classification', () => {
  it('tells retryable transport failures from permanent and fencing ones, keeping the cause', () => {
    const retriesExceeded = Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      retriable: false,
      cause: Object.assign(new Error('ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true }),
    });
    expect(classifyKafkaError(retriesExceeded)).toBe('unavailable');
    const leader = Object.assign(new Error('There is no leader for this topic-partition'), { name: 'KafkaJSProtocolError', type: 'LEADER_NOT_AVAILABLE', retriable: true });
    expect(classifyKafkaError(leader)).toBe('unavailable');
    // kafkajs calls a coordinator it could not find final; with the brokers away it is not.
    const coordinator = Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound', retriable: false });
    expect(classifyKafkaError(new Error('transaction failed', { cause: coordinator }))).toBe('unavailable');
    const tooLarge = Object.assign(new Error('too large'), {
      name: 'KafkaJSNonRetriableError',
      retriable: false,
      cause: Object.assign(new Error('too large'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE', retriable: false }),
    });
    expect(classifyKafkaError(tooLarge)).toBe('rejected');
    const fenced = Object.assign(new Error('epoch'), { name: 'KafkaJSProtocolError', type: 'INVALID_PRODUCER_EPOCH', retriable: false });
    expect(classifyKafkaError(new Error('wrapped', { cause: fenced }))).toBe('fenced');
    expect(classifyKafkaError(new TypeError('bug'))).toBe('rejected');
    // A coordinator that moved with a broker restart, even where kafkajs gave up on it.
    for (const type of ['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS']) {
      const moved = Object.assign(new Error('This is not the correct coordinator for this group'), { name: 'KafkaJSProtocolError', type, retriable: false });
      expect(classifyKafkaError(new Error('offsets', { cause: moved }))).toBe('unavailable');
      expect(isCoordinatorError(moved)).toBe(true);
    }
    expect(isCoordinatorError(leader)).toBe(false);

    const error = new KafkaLogError('unavailable', 'append failed', { cause: leader });
    expect(error).toMatchObject({ retryable: true, code: 'unavailable', cause: leader });
    expect(new KafkaLogError('fenced', 'x').retryable).toBe(false);
  });
});

describe('kafka coordinator retry', () => {
  it('tries again while the coordinator moves, and not on other errors', async () => {
    const moved = Object.assign(new Error('not coordinator'), { name: 'KafkaJSProtocolError', type: 'NOT_COORDINATOR', retriable: true });
    let calls = 0;
    await expect(withCoordinatorRetry(async () => (++calls < 3 ? Promise.reject(moved) : 'offsets'), 4, 1)).resolves.toBe('offsets');
    expect(calls).toBe(3);
    calls = 0;
    await expect(withCoordinatorRetry(async () => Promise.reject(moved).finally(() => calls++), 4, 1)).rejects.toBe(moved);
    expect(calls).toBe(4);
    calls = 0;
    const other = new TypeError('bug');
    await expect(withCoordinatorRetry(async () => Promise.reject(other).finally(() => calls++), 4, 1)).rejects.toBe(other);
    expect(calls).toBe(1);
  });
});

describe('kafka log options and names', () => {
  const base = { brokers: ['127.0.0.1:9092'], clientId: 'tracefold', dataDir: '/tmp/x', instanceId: 'api-1' };

  it('fills in defaults and names the offending key', () => {
    expect(resolveOptions(base)).toMatchObject({ requestTimeoutMs: 10_000, consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, maxWaitTimeMs: 500 } });
    expect(() => resolveOptions({ ...base, brokers: [] })).toThrow(/brokers must name at least one/);
    expect(() => resolveOptions({ ...base, brokers: ['localhost'] })).toThrow(/"localhost" is not host:port/);
    expect(() => resolveOptions({ ...base, instanceId: 'a b' })).toThrow(/instanceId/);
    expect(() => resolveOptions({ ...base, requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs/);
    expect(() => resolveOptions({ ...base, consumer: { sessionTimeoutMs: 1000, heartbeatIntervalMs: 3000 } })).toThrow(/heartbeatIntervalMs/);
    expect(resolveOptions(base).replication).toEqual({ replicationFactor: null, minInsyncReplicas: null });
    expect(() => resolveOptions({ ...base, replication: { replicationFactor: 0 } })).toThrow(/replication\.replicationFactor/);
    expect(() => resolveOptions({ ...base, replication: { replicationFactor: 2, minInsyncReplicas: 3 } })).toThrow(/must not exceed/);
  });

  it('names changelog topics and transactional ids after group, store and input partition', () => {
    expect(changelogTopicName('tracefold-trace-stage', 'windows')).toBe('tracefold-trace-stage-windows-changelog');
    expect(() => changelogTopicName('group with spaces', 'windows')).toThrow(/cannot have a changelog/);
    expect(partitionTransactionalId('tracefold-trace-stage', 'tracefold.raw.v1', 3)).toBe('tracefold-tracefold-trace-stage-tracefold.raw.v1-3');
  });
});

describe('kafka changelog records', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let state: LocalState;

  beforeEach(async () => {
    dir = await tempDir();
    state = await LocalState.open(dir.path, silentLogger);
  });

  afterEach(async () => {
    await state.close();
    await dir.remove();
  });

  it('turns a range delete into tombstones for the keys that exist in the store or earlier in the unit', async () => {
    const store = state.store('g', 's', 'g-s-changelog');
    await state.write((batch) =>
      store.put(batch, [
        { type: 'put', key: buf('a/1'), value: buf('x') },
        { type: 'put', key: buf('a/2'), value: buf('x') },
        { type: 'put', key: buf('b/1'), value: buf('x') },
      ]),
    );
    const entries = await changelogEntries(store, [
      { type: 'put', key: buf('a/3'), value: buf('y') },
      { type: 'del', key: buf('a/1') },
      { type: 'delRange', gte: buf('a/'), lt: buf('a0') },
      { type: 'put', key: buf('a/2'), value: buf('z') },
      { type: 'delRange', gte: buf('z'), lt: buf('a') }, // empty range
    ]);
    expect(entries.map((e) => [e.key.toString(), e.value?.toString() ?? null])).toEqual([
      ['a/3', 'y'],
      ['a/1', null],
      ['a/2', null],
      ['a/3', null],
      ['a/2', 'z'],
    ]);
  });
});
