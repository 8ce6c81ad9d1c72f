import { randomBytes } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createRoundRobin, murmur2, partitionFor, toPositive } from '../../../src/log/partitioner.js';

function kafkajsPartition(key: Buffer, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    offlineReplicas: [],
  }));
  return partitioner({ topic: 'parity', partitionMetadata, message: { key, value: null } });
}

describe('murmur2', () => {
  it("matches the vectors of Kafka's UtilsTest.testMurmur2", () => {
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [input, expected] of vectors) expect(murmur2(Buffer.from(input)), input).toBe(expected);
  });

  it('clears only the sign bit in toPositive', () => {
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(12345)).toBe(12345);
  });
});

describe('partitionFor', () => {
  it("agrees with kafkajs's DefaultPartitioner on random keys for 1 to 16 partitions", () => {
    let compared = 0;
    for (let i = 0; i < 400; i++) {
      // Lengths 0..40 exercise every tail length of the 4-byte blocks.
      const key = randomBytes(i % 41);
      for (let partitions = 1; partitions <= 16; partitions++) {
        expect(partitionFor(key, partitions), `key ${key.toString('hex')}, ${partitions} partitions`).toBe(
          kafkajsPartition(key, partitions),
        );
        compared++;
      }
    }
    expect(compared).toBe(400 * 16);
  });

  it('spreads records without a key round-robin', () => {
    const roundRobin = createRoundRobin();
    const chosen = Array.from({ length: 8 }, () => partitionFor(null, 4, roundRobin));
    expect(chosen).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
  });

  it('rejects a partition count that is not a positive integer', () => {
    expect(() => partitionFor(Buffer.from('k'), 0)).toThrow(RangeError);
    expect(() => partitionFor(Buffer.from('k'), 1.5)).toThrow(RangeError);
  });
});
