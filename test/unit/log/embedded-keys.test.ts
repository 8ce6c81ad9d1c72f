import { describe, expect, it } from 'vitest';
import {
  assertName,
  assertTopicName,
  encodeU64,
  groupOffsetKey,
  groupOffsetPrefix,
  offsetOfRecordKey,
  partitionOfGroupOffsetKey,
  prefixEnd,
  readU64,
  recordKey,
  recordPrefix,
  storePrefix,
} from '../../../src/log/embedded/keys.js';
import { decodeRecord, encodeRecord, timestampOf, type StoredRecord } from '../../../src/log/embedded/record-codec.js';

const inside = (key: Buffer, prefix: Buffer): boolean =>
  Buffer.compare(key, prefix) >= 0 && Buffer.compare(key, prefixEnd(prefix)) < 0;

describe('embedded log keys', () => {
  it('sorts record keys of a partition by numeric offset', () => {
    const prefix = recordPrefix('tracefold.raw.v1', 3);
    const offsets = [0, 1, 9, 10, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER];
    for (let i = 0; i < 200; i++) offsets.push(Math.floor(Math.random() * 2 ** 48));
    const shuffled = [...offsets].sort(() => Math.random() - 0.5);
    const sorted = shuffled.map((offset) => recordKey(prefix, offset)).sort((a, b) => Buffer.compare(a, b));
    expect(sorted.map(offsetOfRecordKey)).toEqual([...offsets].sort((a, b) => a - b));
  });

  it('keeps partitions in numeric order and apart from each other', () => {
    const partitions = [0, 1, 2, 255, 256, 1000, 65_535];
    const keys = partitions.map((partition) => recordKey(recordPrefix('t', partition), 5));
    expect([...keys].sort((a, b) => Buffer.compare(a, b))).toEqual(keys);
    const high = recordKey(recordPrefix('t', 1), Number.MAX_SAFE_INTEGER);
    expect(Buffer.compare(high, recordKey(recordPrefix('t', 2), 0))).toBeLessThan(0);
    expect(inside(recordKey(recordPrefix('t', 255), 3), recordPrefix('t', 255))).toBe(true);
    expect(inside(recordKey(recordPrefix('t', 256), 0), recordPrefix('t', 255))).toBe(false);
  });

  it('does not mix topics whose names share a prefix', () => {
    const a = recordPrefix('a', 0);
    expect(inside(recordKey(recordPrefix('a.b', 0), 0), a)).toBe(false);
    expect(inside(recordKey(recordPrefix('a', 0), 7), a)).toBe(true);
  });

  it('keeps groups, topics and stores apart', () => {
    expect(inside(groupOffsetKey('g', 't', 0), groupOffsetPrefix('g', 't'))).toBe(true);
    expect(inside(groupOffsetKey('g', 't.x', 0), groupOffsetPrefix('g', 't'))).toBe(false);
    expect(inside(groupOffsetKey('g2', 't', 0), groupOffsetPrefix('g', 't'))).toBe(false);
    expect(partitionOfGroupOffsetKey(groupOffsetKey('g', 't', 513))).toBe(513);
    const store = storePrefix('g', 'windows');
    expect(inside(Buffer.concat([storePrefix('g', 'windows2'), Buffer.from('k')]), store)).toBe(false);
    expect(inside(Buffer.concat([store, Buffer.from([0xff, 0xff])]), store)).toBe(true);
  });

  it('round-trips u64 values up to 2^53', () => {
    for (const value of [0, 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) expect(readU64(encodeU64(value), 0)).toBe(value);
    expect(() => encodeU64(-1)).toThrow(RangeError);
    expect(() => encodeU64(1.5)).toThrow(RangeError);
  });

  it('validates names so the separator never appears in them', () => {
    expect(() => assertTopicName('tracefold.raw.v1')).not.toThrow();
    expect(() => assertTopicName('bad\0name')).toThrow(/invalid topic name/);
    expect(() => assertTopicName('')).toThrow(/invalid topic name/);
    expect(() => assertTopicName('spaces are not allowed')).toThrow(/invalid topic name/);
    expect(() => assertName('group', 'trace-stage')).not.toThrow();
    expect(() => assertName('group', 'a\0b')).toThrow(/invalid group name/);
    expect(() => assertName('store', '')).toThrow(/invalid store name/);
  });

  it('computes the upper bound of prefixes ending in 0xff', () => {
    expect(prefixEnd(Buffer.from([1, 2, 0xff]))).toEqual(Buffer.from([1, 3]));
    expect(() => prefixEnd(Buffer.from([0xff]))).toThrow(RangeError);
  });
});

describe('embedded record codec', () => {
  it('round-trips keys, values, headers and timestamps, null included', () => {
    const records: StoredRecord[] = [
      { key: Buffer.from('k'), value: Buffer.from('v'), headers: { a: '1', 'ü': 'ñ' }, timestamp: 1_700_000_000_123 },
      { key: null, value: null, headers: {}, timestamp: 0 },
      { key: Buffer.alloc(0), value: Buffer.alloc(3000, 7), headers: { empty: '' }, timestamp: 42 },
    ];
    for (const record of records) {
      const encoded = encodeRecord(record);
      expect(decodeRecord(encoded)).toEqual(record);
      expect(timestampOf(encoded)).toBe(record.timestamp);
    }
  });

  it('refuses unknown versions and truncated records', () => {
    const encoded = encodeRecord({ key: Buffer.from('key'), value: Buffer.from('value'), headers: {}, timestamp: 1 });
    expect(() => decodeRecord(Buffer.concat([Buffer.from([9]), encoded.subarray(1)]))).toThrow(/version/);
    expect(() => decodeRecord(encoded.subarray(0, encoded.length - 3))).toThrow(RangeError);
  });
});
