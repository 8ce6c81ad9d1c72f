/**
 * One suite of log port cases that every adapter must pass. Each adapter's test file calls defineLogConformance with a factory that
 * opens a fresh log; topic and group names carry a random suffix, so runs against a shared
 * broker never meet each other's data.
 *
 * Not here: "redelivery is absorbed by the views (no duplicate traces or detections
 * through the API)" needs the whole application and belongs to the end-to-end tests.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { partitionFor } from '../../../../src/log/partitioner.js';
import type { Batch, ConsumerHandlers, Log, StateStore, StoreOp, TopicPartition } from '../../../../src/log/port.js';
import { tpKey } from '../../../../src/log/port.js';
import { consumeUntil, declareTopic, text } from '../helpers.js';
import { eventually } from '../../../support/poll.js';

export interface LogUnderTest {
  readonly log: Log;
  /** Closes the log and opens it again on the same data. */
  reopen(): Promise<Log>;
  /** Closes the log and removes what the test left behind. */
  cleanup(): Promise<void>;
  /**
   * Closes the log, deletes its local state (not the log's own data) and opens it again.
   * Only for transports whose stores live apart from the log; without it the changelog
   * case checks that stores survive a reopen.
   */
  loseLocalState?(): Promise<Log>;
  /**
   * 'many' (default): consumers of one group in one process share its partitions.
   * 'one': every consumer of a group owns all its partitions (the embedded log), so the
   * rebalance case hands the group over from one consumer to the next instead.
   */
  readonly membersPerGroup?: 'one' | 'many';
}

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs`. */
async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  await eventually(what, async () => ((await condition()) ? true : undefined), { timeoutMs, intervalMs: 25 });
}

const buf = (s: string) => Buffer.from(s);

async function entries(store: StateStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const [key, value] of store.range({ gte: Buffer.alloc(0), lt: Buffer.from([0xff]) })) out[key.toString()] = value.toString();
  return out;
}

export function defineLogConformance(name: string, factory: () => Promise<LogUnderTest>): void {
  describe(`log port conformance: ${name}`, () => {
    let current: LogUnderTest | null = null;
    let id = '';

    async function open(): Promise<LogUnderTest> {
      current = await factory();
      id = randomBytes(4).toString('hex');
      return current;
    }
    const unique = (base: string) => `${base}-${id}`;

    afterEach(async () => {
      await current?.cleanup();
      current = null;
    });

    it('keeps each key’s records in append order across concurrent appends', async () => {
      const { log } = await open();
      const topic = unique('ordering');
      await log.ensureTopics([declareTopic(topic, 4)]);
      const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
      const sequence = new Map(keys.map((k) => [k, 0]));
      const calls = Array.from({ length: 100 }, (_, call) =>
        Array.from({ length: 5 }, (_, i) => {
          const key = keys[(call * 7 + i * 3) % keys.length]!;
          const n = sequence.get(key)!;
          sequence.set(key, n + 1);
          return { key: buf(key), value: buf(String(n)) };
        }),
      );
      const results = await Promise.all(calls.map((records) => log.append(topic, records)));
      expect(results.flat()).toHaveLength(500);

      const read = await consumeUntil(log, unique('ordering-reader'), [topic], (seen) => seen.length >= 500, {}, 20_000);
      expect(read).toHaveLength(500);
      const perKey = new Map<string, number[]>();
      for (const record of read) {
        const key = text(record.key)!;
        expect(record.partition).toBe(partitionFor(record.key, 4));
        perKey.set(key, [...(perKey.get(key) ?? []), Number(text(record.value))]);
      }
      for (const [key, count] of sequence) {
        expect(perKey.get(key), key).toEqual(Array.from({ length: count }, (_, i) => i));
      }
    });

    it('delivers every acknowledged record to a brand-new consumer after a reopen', async () => {
      const under = await open();
      const topic = unique('durable');
      await under.log.ensureTopics([declareTopic(topic, 3)]);
      const acked: { partition: number; offset: number; value: string }[] = [];
      for (let i = 0; i < 10; i++) {
        const values = Array.from({ length: 5 }, (_, j) => `v-${i}-${j}`);
        const results = await under.log.append(
          topic,
          values.map((value, j) => ({ key: buf(`k-${(i + j) % 7}`), value: buf(value), headers: { n: String(j) } })),
        );
        results.forEach((r, j) => acked.push({ partition: r.partition, offset: r.offset, value: values[j]! }));
      }
      const log = await under.reopen();
      const read = await consumeUntil(log, unique('fresh-group'), [topic], (seen) => seen.length >= acked.length, {}, 20_000);
      const stored = new Map(read.map((r) => [`${r.partition}@${r.offset}`, r]));
      for (const a of acked) {
        const record = stored.get(`${a.partition}@${a.offset}`);
        expect(text(record?.value ?? null), `${a.partition}@${a.offset}`).toBe(a.value);
        expect(record?.headers.n).toBeDefined();
      }
      expect(read).toHaveLength(acked.length);
      const ends = await log.endOffsets(topic);
      expect(ends.reduce((a, b) => a + b, 0)).toBe(acked.length);
    });

    it('resumes a group after its committed offsets when the log is reopened', async () => {
      const under = await open();
      const topic = unique('resume');
      const group = unique('resumer');
      await under.log.ensureTopics([declareTopic(topic, 2)]);
      await under.log.append(topic, Array.from({ length: 10 }, (_, i) => ({ key: null, value: buf(`old-${i}`), partition: i % 2 })));
      await consumeUntil(under.log, group, [topic], (seen) => seen.length === 10, {}, 20_000);
      expect(await under.log.committedOffsets(group, topic)).toEqual(new Map([[0, 5], [1, 5]]));

      const log = await under.reopen();
      expect(await log.committedOffsets(group, topic)).toEqual(new Map([[0, 5], [1, 5]]));
      await log.append(topic, [{ key: null, value: buf('new'), partition: 1 }]);
      const assigned: string[] = [];
      const read = await consumeUntil(log, group, [topic], (seen) => seen.some((r) => text(r.value) === 'new'), {
        async onAssigned(partitions) {
          assigned.push(...partitions.map((p) => tpKey(p.topic, p.partition)));
        },
      }, 20_000);
      expect(assigned.sort()).toEqual([tpKey(topic, 0), tpKey(topic, 1)]);
      expect(read.map((r) => [r.partition, r.offset, text(r.value)])).toEqual([[1, 5, 'new']]);
      expect(await log.committedOffsets(group, topic)).toEqual(new Map([[0, 5], [1, 6]]));
    });

    it('makes a unit’s outputs, store writes and consumed offset visible together, and an uncommitted unit leaves no trace', async () => {
      const under = await open();
      const input = unique('unit-in');
      const output = unique('unit-out');
      const group = unique('stage');
      await under.log.ensureTopics([declareTopic(input, 1), declareTopic(output, 2)]);
      let log = under.log;
      let store = await log.openStore(group, 'counts', { changelog: true });
      const views = await log.openStore(group, 'views');

      // Never committed: nothing of it may show, now or after a reopen.
      const pending = log.beginUnit(group, { partition: 0 });
      pending.append(output, [{ key: buf('ghost'), value: buf('boo') }]);
      pending.write(store, [{ type: 'put', key: buf('ghost'), value: buf('boo') }]);
      pending.consumed(input, 0, 42);
      expect(await log.endOffsets(output)).toEqual([0, 0]);
      expect(await store.get(buf('ghost'))).toBeNull();
      expect(await log.committedOffsets(group, input)).toEqual(new Map());

      await log.append(input, ['x', 'y', 'x'].map((k) => ({ key: buf(k), value: buf('1') })));
      let seenAtCommit: { ends: number[]; x: string | null } | null = null;
      const consumer = await log.consume(
        { group, topics: [input] },
        {
          async eachBatch(batch: Batch) {
            const unit = log.beginUnit(group, { partition: batch.partition });
            const counts = new Map<string, number>();
            for (const record of batch.records) counts.set(text(record.key)!, (counts.get(text(record.key)!) ?? 0) + 1);
            for (const [key, count] of counts) {
              unit.write(store, [{ type: 'put', key: buf(key), value: buf(String(count)) }]);
              unit.append(output, [{ key: buf(key), value: buf(String(count)) }]);
            }
            unit.consumed(batch.topic, batch.partition, batch.records.at(-1)!.offset + 1);
            await unit.commit();
            await expect(unit.commit()).rejects.toThrow(/already committed/);
            seenAtCommit = { ends: await log.endOffsets(output), x: text(await store.get(buf('x'))) };
          },
        },
      );
      await until('the unit committed', () => seenAtCommit !== null);
      // Outputs and store writes are there as soon as commit() resolves.
      expect(seenAtCommit).toEqual({ ends: expect.any(Array), x: '2' });
      expect(seenAtCommit!.ends.reduce((a, b) => a + b, 0)).toBe(2);
      // Kafka shows a transaction's offset commit once the coordinator has written its
      // markers, moments after the commit returned; the embedded log at once.
      await until('the consumed offset is visible', async () => (await log.committedOffsets(group, input)).get(0) === 3, 5_000);
      await consumer.stop();
      expect(await log.committedOffsets(group, input)).toEqual(new Map([[0, 3]]));

      const out = await consumeUntil(log, unique('downstream'), [output], (seen) => seen.length >= 2, {}, 20_000);
      expect(Object.fromEntries(out.map((r) => [text(r.key), text(r.value)]))).toEqual({ x: '2', y: '1' });

      // A unit without an input partition that writes only a local store (the views' kind).
      const local = log.beginUnit(group);
      local.write(views, [
        { type: 'put', key: buf('a'), value: buf('1') },
        { type: 'put', key: buf('b'), value: buf('2') },
      ]);
      local.consumed(output, 0, 1);
      await local.commit();
      expect(await entries(views)).toEqual({ a: '1', b: '2' });

      log = await under.reopen();
      store = await log.openStore(group, 'counts', { changelog: true });
      expect(await store.get(buf('ghost'))).toBeNull();
      expect(text(await store.get(buf('x')))).toBe('2');
      const ends = await log.endOffsets(output);
      expect(ends.reduce((a, b) => a + b, 0)).toBe(2);
      expect(await log.committedOffsets(group, input)).toEqual(new Map([[0, 3]]));
      expect(await entries(await log.openStore(group, 'views'))).toEqual({ a: '1', b: '2' });
    });

    it('reads a partition from an offset without a group: the last record sits one before the end', async () => {
      const { log } = await open();
      const topic = unique('peek');
      await log.ensureTopics([declareTopic(topic, 2)]);
      await log.append(topic, ['a', 'b', 'c'].map((v) => ({ key: null, value: buf(v), partition: 0 })));
      // A unit's outputs: in Kafka a transaction, whose marker follows them in the partition.
      const unit = log.beginUnit(unique('peeker'));
      unit.append(topic, ['d', 'e'].map((v) => ({ key: null, value: buf(v), partition: 0 })));
      await unit.commit();
      const values = (records: readonly { value: Buffer | null }[]) => records.map((r) => text(r.value));

      const ends = await log.endOffsets(topic);
      expect(ends[1]).toBe(0);
      const last = await log.readPartition(topic, 0, ends[0]! - 1, 1);
      expect(values(last)).toEqual(['e']);
      expect(last[0]).toMatchObject({ topic, partition: 0, offset: ends[0]! - 1, key: null, headers: {} });
      const first = await log.readPartition(topic, 0, 0, 2);
      expect(values(first)).toEqual(['a', 'b']);
      expect(first.map((r) => r.offset)).toEqual([0, 1]);
      expect(values(await log.readPartition(topic, 0, 0, 100))).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(await log.readPartition(topic, 0, ends[0]!, 1)).toEqual([]);
      expect(await log.readPartition(topic, 0, ends[0]! + 100, 1)).toEqual([]);
      expect(await log.readPartition(topic, 1, 0, 1)).toEqual([]);
      await expect(log.readPartition(topic, 2, 0, 1)).rejects.toThrow(/no partition 2/);
    });

    it('keeps a changelog store’s state when the local state is lost (or, without one, across a reopen)', async () => {
      const under = await open();
      const input = unique('commands');
      const group = unique('keeper');
      await under.log.ensureTopics([declareTopic(input, 2)]);
      const commands = (partition: number) =>
        ['set:k1=v1', 'set:k2=v2', 'set:tmp/x=1', 'set:k3=v3', 'set:tmp/y=2', 'del:k2', 'clear:tmp/', 'set:k1=v1b'].map((value) => ({
          key: null,
          value: buf(value),
          partition,
        }));
      await under.log.append(input, [...commands(0), ...commands(1)]);
      const expected = { '0/k1': 'v1b', '0/k3': 'v3', '1/k1': 'v1b', '1/k3': 'v3' };

      const run = async (log: Log, onAssigned?: ConsumerHandlers['onAssigned']) => {
        const store = await log.openStore(group, 'state', { changelog: true });
        let processed = 0;
        const consumer = await log.consume(
          { group, topics: [input], maxBatchRecords: 3 },
          {
            onAssigned,
            async eachBatch(batch) {
              const unit = log.beginUnit(group, { partition: batch.partition });
              const p = `${batch.partition}/`;
              const ops: StoreOp[] = batch.records.map((record): StoreOp => {
                const [verb, arg = ''] = text(record.value)!.split(':');
                if (verb === 'set') {
                  const [k, v] = arg.split('=');
                  return { type: 'put', key: buf(p + k), value: buf(v!) };
                }
                if (verb === 'del') return { type: 'del', key: buf(p + arg) };
                return { type: 'delRange', gte: buf(p + arg), lt: buf(p + arg.slice(0, -1) + String.fromCharCode(arg.charCodeAt(arg.length - 1) + 1)) };
              });
              unit.write(store, ops);
              unit.consumed(batch.topic, batch.partition, batch.records.at(-1)!.offset + 1);
              await unit.commit();
              processed += batch.records.length;
            },
          },
        );
        return { store, consumer, processed: () => processed };
      };

      const first = await run(under.log);
      await until('every command was applied', () => first.processed() === 16);
      await first.consumer.stop();
      expect(await entries(first.store)).toEqual(expected);

      const log = under.loseLocalState !== undefined ? await under.loseLocalState() : await under.reopen();
      let atAssignment: Record<string, string> | null = null;
      const second = await run(log, async (partitions: readonly TopicPartition[]) => {
        expect(partitions).toHaveLength(2);
        atAssignment = await entries(await log.openStore(group, 'state', { changelog: true }));
      });
      await until('the partitions were assigned', () => atAssignment !== null);
      await second.consumer.stop();
      expect(atAssignment).toEqual(expected);
      expect(await entries(second.store)).toEqual(expected);
      expect(second.processed()).toBe(0);
    });

    it('loses no record when a group’s partitions move between consumers', async () => {
      const under = await open();
      const { log } = under;
      const topic = unique('moving');
      const group = unique('movers');
      await log.ensureTopics([declareTopic(topic, 4)]);
      const processed = new Map<string, string[]>();
      /** Broken promises of the port, collected here: a throwing handler would only stop its consumer. */
      const violations: string[] = [];
      type Member = { assigned: Set<string>; events: string[]; ever: Set<string> };
      const start = async (name: string) => {
        const member: Member = { assigned: new Set(), events: [], ever: new Set() };
        const consumer = await log.consume(
          { group, topics: [topic], maxBatchRecords: 7 },
          {
            async onAssigned(partitions) {
              for (const p of partitions) {
                const key = tpKey(p.topic, p.partition);
                if (member.assigned.has(key)) violations.push(`${name} was given ${key} twice`);
                member.assigned.add(key);
                member.ever.add(key);
                member.events.push(`+${p.partition}`);
              }
            },
            async onRevoked(partitions) {
              for (const p of partitions) {
                const key = tpKey(p.topic, p.partition);
                if (!member.assigned.has(key)) violations.push(`${name} lost ${key} it did not have`);
                member.assigned.delete(key);
                member.events.push(`-${p.partition}`);
              }
            },
            async eachBatch(batch) {
              if (!member.assigned.has(tpKey(batch.topic, batch.partition))) {
                violations.push(`${name} got a batch of ${tpKey(batch.topic, batch.partition)}, which it does not own`);
              }
              for (const record of batch.records) {
                const value = text(record.value)!;
                processed.set(value, [...(processed.get(value) ?? []), name]);
              }
            },
          },
        );
        return { consumer, member };
      };
      let sent = 0;
      const appendSome = async (n: number) => {
        const records = Array.from({ length: n }, () => {
          const value = `r${sent++}`;
          return { key: buf(`key-${sent % 13}`), value: buf(value) };
        });
        await log.append(topic, records);
      };
      const all = () => Array.from({ length: sent }, (_, i) => `r${i}`).every((v) => processed.has(v));

      const a = await start('A');
      await appendSome(40);
      await until('A read the first records', all);
      let b: Awaited<ReturnType<typeof start>>;
      if ((under.membersPerGroup ?? 'many') === 'many') {
        b = await start('B');
        // Records keep coming while B joins: each small append is read (by A, or by B
        // once it holds partitions) before the next, so some land mid-rebalance.
        for (let i = 0; i < 8; i++) {
          await appendSome(5);
          await until('the records so far are read while B joins', all);
        }
        await until('B owns partitions', () => b.member.assigned.size > 0);
        await appendSome(20);
        await until('A and B read everything so far', all);
        await a.consumer.stop();
      } else {
        await a.consumer.stop();
        b = await start('B');
        for (let i = 0; i < 8; i++) await appendSome(5);
      }
      await appendSome(40);
      await until('B read everything', all);
      await until('B owns every partition', () => b.member.assigned.size === 4);
      await b.consumer.stop();

      expect(violations).toEqual([]);
      const missing = Array.from({ length: sent }, (_, i) => `r${i}`).filter((v) => !processed.has(v));
      expect(missing).toEqual([]);
      const duplicates = [...processed].filter(([, by]) => by.length > 1);
      expect(duplicates).toEqual([]);
      const everyPartition = [0, 1, 2, 3].map((p) => tpKey(topic, p));
      expect(new Set([...a.member.ever, ...b.member.ever])).toEqual(new Set(everyPartition));
      // Both stopped, so both gave back everything they were given.
      expect(a.member.assigned.size).toBe(0);
      expect(b.member.assigned.size).toBe(0);
      expect(processed.size).toBe(sent);
      const readBy = (name: string) => [...processed.values()].filter((by) => by.includes(name)).length;
      expect(readBy('A')).toBeGreaterThan(0);
      expect(readBy('B')).toBeGreaterThan(0);
    });
  });
}
