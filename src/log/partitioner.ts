/**
 * Kafka's default partitioner, so a key lands in the same partition whichever adapter
 * wrote it: murmur2 of the key bytes (Java `Utils.murmur2`, seed 0x9747b28c), made
 * positive by masking the sign bit, modulo the partition count. kafkajs's
 * DefaultPartitioner computes the same (test/unit/log/partitioner.test.ts checks it).
 * Records without a key are spread round-robin, as kafkajs does.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (32-bit, little-endian blocks) as a signed 32-bit integer. */
export function murmur2(data: Buffer): number {
  const length = data.length;
  let h = SEED ^ length;
  const blocksEnd = length & ~3;
  for (let i = 0; i < blocksEnd; i += 4) {
    let k = data.readInt32LE(i);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  switch (length & 3) {
    case 3:
      h ^= data.readUInt8(blocksEnd + 2) << 16;
    // falls through
    case 2:
      h ^= data.readUInt8(blocksEnd + 1) << 8;
    // falls through
    case 1:
      h ^= data.readUInt8(blocksEnd);
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not the absolute value). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** Chooses partitions for records without a key. */
export interface RoundRobin {
  next(partitions: number): number;
}

export function createRoundRobin(): RoundRobin {
  let counter = 0;
  return {
    next(partitions) {
      const partition = counter % partitions;
      counter = (counter + 1) % 0x7fffffff;
      return partition;
    },
  };
}

const sharedRoundRobin = createRoundRobin();

export function partitionFor(key: Buffer | null, partitions: number, roundRobin: RoundRobin = sharedRoundRobin): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partition count must be a positive integer, got ${partitions}`);
  }
  return key === null ? roundRobin.next(partitions) : toPositive(murmur2(key)) % partitions;
}
