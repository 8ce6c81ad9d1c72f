/**
 * What only the Kafka adapter has: topic reconciliation on a real cluster, error
 * classification of real failures, transactions (abort, fencing, read_committed), the
 * end offsets views wait for, and the consumer runtime's batching, idling and failures.
 * The behaviour both adapters share is in conformance/cases.ts.
 */
import kafkajs from 'kafkajs';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createKafkaLog, type KafkaLog, KafkaLogError } from '../../../src/log/kafka/index.js';
import { AppendProducer, APPEND_RETRY } from '../../../src/log/kafka/append.js';
import type { LogRecord, StateStore } from '../../../src/log/port.js';
import { describeKafka, kafkaBrokers } from '../../support/kafka.js';
import { openKafkaLog, runId } from './fixtures/kafka-log.js';
import { consumeUntil, declareTopic, tempDir, text } from './helpers.js';

const { Kafka, ConfigResourceTypes } = kafkajs;
const buf = (s: string) => Buffer.from(s);
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

describeKafka('kafka log adapter', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let log: KafkaLog;
  let id: string;
  const extra: KafkaLog[] = [];
  const admin = new Kafka({ brokers: kafkaBrokers(), clientId: 'tracefold-test-admin', logLevel: 0 }).admin();
  const name = (base: string) => `${base}-${id}`;

  beforeAll(async () => {
    await admin.connect();
  });

  afterAll(async () => {
    await admin.disconnect();
  });

  beforeEach(async () => {
    dir = await tempDir();
    id = runId();
    log = await openKafkaLog(dir.path);
  });

  afterEach(async () => {
    for (const other of extra.splice(0)) await other.close();
    await log.close();
    await log.close(); // idempotent
    await dir.remove();
  });

  async function configsOf(topic: string): Promise<Record<string, string>> {
    const { resources } = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
    return Object.fromEntries((resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]));
  }

  it('creates topics, grows them, fixes configs that drifted and reports what it cannot fix', async () => {
    const topic = name('reconciled');
    const compacted = name('compacted');
    expect(
      await log.ensureTopics([
        declareTopic(topic, 2, { retentionMs: 3_600_000, config: { 'max.message.bytes': '2000000' } }),
        declareTopic(compacted, 1, { cleanupPolicy: 'compact' }),
      ]),
    ).toEqual([]);
    expect(log.partitionsOf(topic)).toBe(2);
    expect(await configsOf(topic)).toMatchObject({ 'cleanup.policy': 'delete', 'retention.ms': '3600000', 'max.message.bytes': '2000000' });
    expect(await configsOf(compacted)).toMatchObject({ 'cleanup.policy': 'compact', 'retention.ms': '-1' });

    // Someone changes the topic by hand, including a setting the declaration does not own.
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [
            { name: 'retention.ms', value: '60000' },
            { name: 'max.message.bytes', value: '2000000' },
            { name: 'segment.ms', value: '86400000' },
          ],
        },
      ],
    });
    expect(await log.ensureTopics([declareTopic(topic, 3, { retentionMs: 3_600_000, config: { 'max.message.bytes': '2000000' } })])).toEqual([]);
    expect(log.partitionsOf(topic)).toBe(3);
    expect(await configsOf(topic)).toMatchObject({ 'retention.ms': '3600000', 'max.message.bytes': '2000000', 'segment.ms': '86400000' });

    const drift = await log.ensureTopics([declareTopic(topic, 2, { retentionMs: 3_600_000, config: { 'max.message.bytes': '2000000' } })]);
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatch(new RegExp(`${topic} is declared with 2 partitions but has 3`));
    expect(log.partitionsOf(topic)).toBe(3);
  });

  it('lets processes that start together declare the same new topics at once', async () => {
    const topics = [1, 2, 3, 4, 5, 6].map((i) => name(`raced-${i}`));
    const others = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => openKafkaLog(`${dir.path}/race-${i}`)));
    extra.push(...others);
    const declarations = topics.map((topic, i) => declareTopic(topic, i + 1));
    const results = await Promise.all([log, ...others].map((each) => each.ensureTopics(declarations)));
    expect(results).toEqual(results.map(() => []));
    for (const each of [log, ...others]) expect(topics.map((topic) => each.partitionsOf(topic))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('names unknown topics and bad partitions, and refuses misuse of units and stores', async () => {
    const topic = name('known');
    const second = name('second');
    await log.ensureTopics([declareTopic(topic, 1), declareTopic(second, 1)]);
    expect(() => log.partitionsOf(name('missing'))).toThrow(/unknown topic/);
    await expect(log.append(name('missing'), [{ key: null, value: null }])).rejects.toThrow(/unknown topic/);
    await expect(log.append(topic, [{ key: null, value: null, partition: 1 }])).rejects.toMatchObject({ code: 'invalid', retryable: false });
    await expect(log.consume({ group: name('g'), topics: [name('missing')] }, { eachBatch: async () => undefined })).rejects.toThrow(/unknown topic/);

    const windows = await log.openStore(name('stage'), 'windows', { changelog: true });
    expect(() => log.beginUnit(name('stage')).write(windows, [{ type: 'put', key: buf('k'), value: buf('v') }])).toThrow(
      /has a changelog, so a unit that writes it must name its input partition/,
    );
    expect(() => log.beginUnit(name('intruder')).write(windows, [])).toThrow(/not opened by this log for group/);
    const orphan = log.beginUnit(name('stage'), { partition: 0 });
    orphan.write(windows, [{ type: 'put', key: buf('k'), value: buf('v') }]);
    await expect(orphan.commit()).rejects.toThrow(/cannot tell which topic's partition 0/);
    await expect(log.consume({ group: name('stage'), topics: [topic, second] }, { eachBatch: async () => undefined })).rejects.toThrow(
      /must consume exactly one topic/,
    );
  });

  it('fails fast and retryably when the cluster does not answer', async () => {
    const started = Date.now();
    const error = await createKafkaLog({ brokers: ['127.0.0.1:1'], clientId: 't', dataDir: dir.path, instanceId: 'x', logger: silent }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaLogError);
    expect(error).toMatchObject({ retryable: true, code: 'unavailable' });
    expect((error as Error).cause).toBeDefined();

    const producer = new AppendProducer(new Kafka({ brokers: ['127.0.0.1:1'], clientId: 't', retry: APPEND_RETRY, logLevel: 0 }), 1_000, silent);
    const appendError = await producer.append('t', [{ key: null, value: buf('v'), partition: 0 }]).catch((e: unknown) => e);
    await producer.close();
    expect(appendError).toMatchObject({ retryable: true, code: 'unavailable' });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await log.healthy()).toBe(true);
  });

  it('rejects only the append the cluster refuses, permanently, and keeps the others', async () => {
    const topic = name('small');
    await log.ensureTopics([declareTopic(topic, 1, { config: { 'max.message.bytes': '2000' } })]);
    const small = Array.from({ length: 5 }, (_, i) => log.append(topic, [{ key: null, value: buf(`ok-${i}`) }]));
    const large = log.append(topic, [{ key: null, value: Buffer.alloc(10_000) }]);
    const [results, error] = await Promise.all([Promise.all(small), large.catch((e: unknown) => e)]);
    expect(error).toMatchObject({ code: 'rejected', retryable: false });
    expect(results.map((r) => r[0]?.offset).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(await log.append(topic, [{ key: null, value: buf('after') }])).toEqual([{ topic, partition: 0, offset: 5 }]);
  });

  it('aborts a failed unit: read_committed readers never see its records, and endOffsets skips markers', async () => {
    const input = name('in');
    const output = name('out');
    const tiny = name('tiny');
    const group = name('stage');
    await log.ensureTopics([declareTopic(input, 1), declareTopic(output, 1), declareTopic(tiny, 1, { config: { 'max.message.bytes': '2000' } })]);

    const failing = log.beginUnit(group, { partition: 0 });
    failing.append(output, [{ key: buf('aborted'), value: buf('never') }]);
    failing.append(tiny, [{ key: buf('big'), value: Buffer.alloc(10_000) }]);
    failing.consumed(input, 0, 7);
    await expect(failing.commit()).rejects.toMatchObject({ code: 'rejected' });

    const ok = log.beginUnit(group, { partition: 0 });
    ok.append(output, [{ key: buf('kept'), value: buf('yes') }]);
    ok.consumed(input, 0, 8);
    await ok.commit();

    const ends = await log.endOffsets(output);
    // The aborted record precedes the kept one in the partition: once the reader has the
    // kept record, it would have had the aborted one before it.
    const read = await consumeUntil(log, name('reader'), [output], (seen) => seen.some((r) => text(r.key) === 'kept'));
    expect(read.map((r) => text(r.key))).toEqual(['kept']);
    // One past the kept record, below the high watermark that also counts its commit marker.
    expect(ends).toEqual([read[0]!.offset + 1]);
    await expect.poll(async () => Number((await admin.fetchTopicOffsets(output))[0]?.high)).toBeGreaterThan(read[0]!.offset + 1);
    await expect.poll(() => log.committedOffsets(group, input)).toEqual(new Map([[0, 8]]));
  });

  it('commits a unit without an input partition that appends records in a transaction of its own', async () => {
    const input = name('feedback');
    const output = name('audit');
    const group = name('tenant-stage');
    await log.ensureTopics([declareTopic(input, 2), declareTopic(output, 2)]);
    const unit = log.beginUnit(group);
    unit.append(output, [
      { key: buf('t1'), value: buf('a') },
      { key: buf('t2'), value: buf('b') },
    ]);
    unit.consumed(input, 1, 5);
    await unit.commit();
    expect((await log.endOffsets(output)).reduce((a, b) => a + b, 0)).toBe(2);
    await expect.poll(() => log.committedOffsets(group, input)).toEqual(new Map([[1, 5]]));
    const read = await consumeUntil(log, name('reader'), [output], (seen) => seen.length >= 2);
    expect(read.map((r) => text(r.value)).sort()).toEqual(['a', 'b']);
  });

  it('fences the previous owner of an input partition', async () => {
    const input = name('in');
    const output = name('out');
    const group = name('stage');
    await log.ensureTopics([declareTopic(input, 2), declareTopic(output, 1)]);
    const other = await openKafkaLog(dir.path + '-other');
    extra.push(other);
    const unit = (owner: KafkaLog, n: number) => {
      const u = owner.beginUnit(group, { partition: 1 });
      u.append(output, [{ key: buf(`k${n}`), value: buf(String(n)) }]);
      u.consumed(input, 1, n);
      return u.commit();
    };
    await unit(log, 1);
    await unit(other, 2); // the new owner initializes the partition's transactional id
    const error = await unit(log, 3).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'fenced', retryable: false });
    await expect(unit(log, 4)).rejects.toMatchObject({ code: 'fenced' });
    await unit(other, 5);
    const read = await consumeUntil(log, name('reader'), [output], (seen) => seen.length >= 3);
    expect(read.map((r) => text(r.value))).toEqual(['1', '2', '5']);
  });

  it('moves a changelog store with its partitions: a new member starts from the state the old one left', async () => {
    const input = name('events');
    const group = name('counter');
    await log.ensureTopics([declareTopic(input, 2)]);
    const other = await openKafkaLog(dir.path + '-other');
    extra.push(other);
    let processed = 0;
    const restoredAtAssignment = new Map<number, string | null>();
    const member = async (owner: KafkaLog, onAssigned?: (store: StateStore, partitions: readonly number[]) => Promise<void>) => {
      const store = await owner.openStore(group, 'counts', { changelog: true });
      const consumer = await owner.consume({ group, topics: [input], maxBatchRecords: 3 }, {
        onAssigned: onAssigned && (async (partitions) => onAssigned(store, partitions.map((p) => p.partition))),
        async eachBatch(batch) {
          const key = buf(`count-${batch.partition}`);
          const count = Number(text(await store.get(key)) ?? '0') + batch.records.length;
          const unit = owner.beginUnit(group, { partition: batch.partition });
          unit.write(store, [{ type: 'put', key, value: buf(String(count)) }]);
          unit.consumed(batch.topic, batch.partition, batch.records.at(-1)!.offset + 1);
          await unit.commit();
          processed += batch.records.length;
        },
      });
      return { store, consumer };
    };
    const appendRound = () => log.append(input, Array.from({ length: 20 }, (_, i) => ({ key: null, value: buf(String(i)), partition: i % 2 })));

    const a = await member(log);
    await appendRound();
    await expect.poll(() => processed, { timeout: 10_000 }).toBe(20);
    const b = await member(other, async (store, partitions) => {
      for (const p of partitions) restoredAtAssignment.set(p, text(await store.get(buf(`count-${p}`))));
    });
    await expect.poll(() => restoredAtAssignment.size, { timeout: 15_000 }).toBeGreaterThan(0);
    for (const count of restoredAtAssignment.values()) expect(count).toBe('10');
    await appendRound();
    await expect.poll(() => processed, { timeout: 15_000 }).toBe(40);
    await Promise.all([a.consumer.stop(), b.consumer.stop()]);

    for (const p of [0, 1]) {
      const owner = restoredAtAssignment.has(p) ? b.store : a.store;
      expect(text(await owner.get(buf(`count-${p}`))), `partition ${p}`).toBe('20');
    }
  });

  it('drops a partition whose transactional id another process took over, without failing', async () => {
    const input = name('in');
    const group = name('stage');
    // Partition 0 is taken over; a record on partition 1, which the consumer keeps, shows it still running.
    await log.ensureTopics([declareTopic(input, 2)]);
    const store = await log.openStore(group, 'state', { changelog: true });
    const revoked: number[] = [];
    const markers: (string | null)[] = [];
    let batches = 0;
    const consumer = await log.consume({ group, topics: [input] }, {
      async onRevoked(partitions) {
        revoked.push(...partitions.map((p) => p.partition));
      },
      async eachBatch(batch) {
        if (batch.partition === 1) {
          markers.push(...batch.records.map((r) => text(r.value)));
          return;
        }
        batches++;
        const unit = log.beginUnit(group, { partition: batch.partition });
        unit.write(store, [{ type: 'put', key: buf('last'), value: batch.records.at(-1)!.value! }]);
        unit.consumed(batch.topic, batch.partition, batch.records.at(-1)!.offset + 1);
        await unit.commit();
      },
    });
    await log.append(input, [{ key: null, value: buf('first'), partition: 0 }]);
    await expect.poll(() => batches, { timeout: 10_000 }).toBe(1);

    // A zombie's successor: another process initializes the same transactional id.
    const other = await openKafkaLog(dir.path + '-other');
    extra.push(other);
    const takeover = other.beginUnit(group, { partition: 0 });
    takeover.consumed(input, 0, 1);
    await takeover.commit();

    await log.append(input, [{ key: null, value: buf('second'), partition: 0 }]);
    await expect.poll(() => revoked, { timeout: 30_000 }).toEqual([0]);
    expect(batches).toBe(2);
    let settled = false;
    consumer.done.then(
      () => (settled = true),
      () => (settled = true),
    );
    // Still consuming after the drop: a later record on the kept partition arrives, and done has not settled.
    await log.append(input, [{ key: null, value: buf('still running'), partition: 1 }]);
    await expect.poll(() => markers, { timeout: 10_000 }).toEqual(['still running']);
    expect(settled).toBe(false);
    await consumer.stop();
    await consumer.done;
    expect(text(await store.get(buf('last')))).toBe('first');
  });

  it('splits batches to maxBatchRecords, commits after each, and calls onIdle also on a quiet topic', async () => {
    const topic = name('chunked');
    const quiet = name('quiet');
    const group = name('chunker');
    await log.ensureTopics([declareTopic(topic, 1), declareTopic(quiet, 1)]);

    const idle: string[][] = [];
    const idleConsumer = await log.consume({ group: name('idler'), topics: [quiet] }, {
      eachBatch: async () => undefined,
      async onIdle(partitions) {
        idle.push(partitions.map((p) => `${p.topic}:${p.partition}`));
      },
    });
    await expect.poll(() => idle.length, { timeout: 5_000 }).toBeGreaterThan(2);
    await idleConsumer.stop();
    expect(idle.every((call) => call.length === 1 && call[0] === `${quiet}:0`)).toBe(true);

    await log.append(topic, Array.from({ length: 30 }, (_, i) => ({ key: null, value: buf(String(i)) })));
    const sizes: number[] = [];
    const read: LogRecord[] = [];
    let idleAfter = 0;
    const consumer = await log.consume({ group, topics: [topic], maxBatchRecords: 4 }, {
      async eachBatch(batch) {
        sizes.push(batch.records.length);
        read.push(...batch.records);
        expect(batch.highWatermark).toBe(30);
      },
      async onIdle() {
        if (read.length === 30) idleAfter++;
      },
    });
    await expect.poll(() => idleAfter, { timeout: 10_000 }).toBeGreaterThan(0);
    await consumer.stop();
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    expect(read.map((r) => Number(text(r.value)))).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(await log.committedOffsets(group, topic)).toEqual(new Map([[0, 30]]));
  });

  it('reports a failing handler through done, stops, and does not let kafkajs retry it', async () => {
    const topic = name('failing');
    await log.ensureTopics([declareTopic(topic, 1)]);
    await log.append(topic, [{ key: null, value: buf('boom') }]);
    let calls = 0;
    const consumer = await log.consume({ group: name('fragile'), topics: [topic] }, {
      async eachBatch() {
        calls++;
        throw new Error('detector exploded');
      },
    });
    await expect(consumer.done).rejects.toThrow('detector exploded');
    // The error reached done, not kafkajs: had kafkajs caught it, it would have retried the
    // batch instead. stop() resolves once the kafkajs consumer is gone, so no call can follow.
    expect(calls).toBe(1);
    await consumer.stop();
    expect(calls).toBe(1);
    expect(await log.committedOffsets(name('fragile'), topic)).toEqual(new Map());
  });

  it('hands a batch over again when its unit failed because the cluster was unavailable', async () => {
    const topic = name('retried');
    await log.ensureTopics([declareTopic(topic, 1)]);
    await log.append(topic, [{ key: null, value: buf('once') }]);
    const seen: string[] = [];
    let delivered!: () => void;
    const done = new Promise<void>((resolve) => (delivered = resolve));
    const consumer = await log.consume({ group: name('patient'), topics: [topic] }, {
      async eachBatch(batch) {
        seen.push(...batch.records.map((r) => text(r.value) ?? ''));
        if (seen.length < 3) throw new KafkaLogError('unavailable', 'transaction failed: the coordinator is away');
        delivered();
      },
    });
    await done;
    expect(seen).toEqual(['once', 'once', 'once']);
    await consumer.stop();
    await expect(consumer.done).resolves.toBeUndefined();
  });

  it('reports health and refuses work after close', async () => {
    const topic = name('closing');
    await log.ensureTopics([declareTopic(topic, 1)]);
    const consumer = await log.consume({ group: name('g'), topics: [topic] }, { eachBatch: async () => undefined });
    // Healthy once the new consumer is in its group and fetching.
    await expect.poll(() => log.healthy(), { timeout: 30_000, interval: 100 }).toBe(true);
    await Promise.all([log.close(), log.close()]);
    await consumer.done;
    expect(await log.healthy()).toBe(false);
    await expect(log.append(topic, [{ key: null, value: null }])).rejects.toThrow(/closed/);
    expect(() => log.beginUnit(name('g'))).toThrow(/closed/);
  });
});
