import { describe, expect, it } from 'vitest';
import { planAppend, routeRecords } from '../../../src/log/embedded/append.js';
import { PartitionState } from '../../../src/log/embedded/partition.js';
import type { TopicState } from '../../../src/log/embedded/topics.js';
import { createRoundRobin } from '../../../src/log/partitioner.js';
import type { Headers } from '../../../src/log/port.js';

function topicState(partitions: number): TopicState {
  return {
    declaration: { name: 't', partitions, cleanupPolicy: 'delete', retentionMs: -1, key: '', valueSchema: '', description: '' },
    partitions: Array.from({ length: partitions }, (_, p) => new PartitionState('t', p, 0, 0)),
    roundRobin: createRoundRobin(),
  };
}

describe('PartitionState', () => {
  it('keeps readers below an earlier append that has not settled', () => {
    const partition = new PartitionState('t', 0, 10, 0);
    const first = partition.reserve(3);
    const second = partition.reserve(2);
    expect([first, second, partition.next]).toEqual([10, 13, 15]);
    expect(partition.stableEnd).toBe(10);
    partition.release(second); // the later batch landed first
    expect(partition.stableEnd).toBe(10);
    partition.release(first);
    expect(partition.stableEnd).toBe(15);
  });

  it('lets a failed append become a gap instead of a stall', () => {
    const partition = new PartitionState('t', 0, 0, 0);
    const failed = partition.reserve(2);
    partition.reserve(1);
    partition.release(failed);
    expect(partition.stableEnd).toBe(2);
  });
});

describe('append planning', () => {
  it('assigns consecutive offsets per partition in input order', () => {
    const topic = topicState(2);
    const plan = planAppend(
      routeRecords(
        topic,
        [0, 1, 0, 0, 1].map((partition) => ({ key: null, value: null, partition })),
        1,
      ),
    );
    expect(plan.results.map((r) => [r.partition, r.offset])).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
      [0, 2],
      [1, 1],
    ]);
    expect(topic.partitions.map((p) => p.stableEnd)).toEqual([0, 0]);
    plan.release();
    expect(topic.partitions.map((p) => p.stableEnd)).toEqual([3, 2]);
  });

  it('reserves nothing when a record is rejected', () => {
    const topic = topicState(2);
    const badHeaders = { broken: 42 } as unknown as Headers;
    expect(() => routeRecords(topic, [{ key: null, value: null, partition: 0 }, { key: null, value: null, headers: badHeaders }], 1)).toThrow();
    expect(() => routeRecords(topic, [{ key: null, value: null, partition: 2 }], 1)).toThrow(/has 2 partitions/);
    expect(() => routeRecords(topic, [{ key: null, value: null, timestamp: Number.NaN }], 1)).toThrow(/timestamp/);
    expect(topic.partitions.map((p) => [p.next, p.stableEnd])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });
});
