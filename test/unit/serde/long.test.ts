import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { bigintLongType } from '../../../src/log/serde/index.js';

const nativeLong = avro.Type.forSchema('long');

/** Straightforward zig-zag varint, as the Avro specification defines it. */
function referenceVarint(value: bigint): Buffer {
  let z = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const bytes: number[] = [];
  do {
    const low = Number(z & 0x7fn);
    z >>= 7n;
    bytes.push(z > 0n ? low | 0x80 : low);
  } while (z > 0n);
  return Buffer.from(bytes);
}

const edges: bigint[] = [];
for (const bits of [0n, 6n, 7n, 13n, 14n, 31n, 32n, 48n, 49n, 50n, 51n, 52n, 53n, 55n, 56n, 62n]) {
  for (const delta of [-1n, 0n, 1n]) edges.push(2n ** bits + delta, -(2n ** bits) + delta);
}
edges.push(0n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n - 2n, -(2n ** 63n) + 1n);

function randomInt64(): bigint {
  const words = new BigUint64Array(1);
  crypto.getRandomValues(words);
  // Random magnitude too, so every varint length is covered.
  return BigInt.asIntN(64, words[0]! >> BigInt(Math.floor(Math.random() * 64)));
}

describe('bigint long', () => {
  it('writes the Avro zig-zag varint and reads it back exactly, at every length', () => {
    const values = [...edges, ...Array.from({ length: 2000 }, randomInt64)];
    for (const value of values) {
      const bytes = bigintLongType.toBuffer(value);
      expect(bytes.equals(referenceVarint(value)), `encoding of ${value}`).toBe(true);
      expect(bigintLongType.fromBuffer(bytes)).toBe(value);
    }
  });

  it('writes the same bytes as avsc does for numbers it encodes exactly', () => {
    // avsc's number long doubles the magnitude, which rounds beyond 2^52.
    for (const value of edges.filter((v) => v > -(2n ** 52n) && v < 2n ** 52n)) {
      expect(bigintLongType.toBuffer(value).equals(nativeLong.toBuffer(Number(value))), `encoding of ${value}`).toBe(true);
    }
  });

  it('accepts only bigints within int64', () => {
    expect(bigintLongType.isValid(5n)).toBe(true);
    expect(bigintLongType.isValid(5)).toBe(false);
    expect(bigintLongType.isValid(2n ** 63n)).toBe(false);
    expect(bigintLongType.isValid(-(2n ** 63n) - 1n)).toBe(false);
  });

  it('clones exactly, though JSON cannot carry bigints', () => {
    expect(bigintLongType.clone(2n ** 62n + 1n)).toBe(2n ** 62n + 1n);
    expect(bigintLongType.toString(2n ** 62n + 1n)).toBe('"4611686018427387905"');
    expect(bigintLongType.toString(-12n)).toBe('-12');
  });
});
