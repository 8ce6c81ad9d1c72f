import { describe, expect, it } from 'vitest';
import { parseTupleKey, prefixEnd, str, tupleKey, u16, u64 } from '../../../../src/log/store-keys.js';
import {
  expiryKey,
  expiryRange,
  parseExpiryKey,
  spanKey,
  spanRange,
  traceRef,
  windowKey,
} from '../../../../src/stages/trace/window-keys.js';

const within = (key: Buffer, r: { gte: Buffer; lt: Buffer }) => Buffer.compare(key, r.gte) >= 0 && Buffer.compare(key, r.lt) < 0;

describe('traceRef', () => {
  it('keeps ("ab", "c") apart from ("a", "bc")', () => {
    expect(traceRef('ab', 'c').equals(traceRef('a', 'bc'))).toBe(false);
  });
});

describe('expiry keys', () => {
  const ref = traceRef('acme', 'trace-1');

  it('sort by deadline as bytes', () => {
    const deadlines = [5_000, 0, 256, 1_700_000_000_000, 255, 2 ** 40, 65_536, 1];
    const keys = deadlines.map((d, i) => expiryKey(0, d, traceRef('acme', `t${deadlines.length - i}`)));
    const sorted = [...keys].sort((a, b) => Buffer.compare(a, b)).map((k) => parseExpiryKey(k).deadlineMs);
    expect(sorted).toEqual([...deadlines].sort((a, b) => a - b));
  });

  it('are inverted by parseExpiryKey', () => {
    const parsed = parseExpiryKey(expiryKey(7, 1_700_000_123_456, ref));
    expect(parsed.deadlineMs).toBe(1_700_000_123_456);
    expect(parsed.ref.equals(ref)).toBe(true);
  });

  it('fall in expiryRange up to and including the deadline, and only for their partition', () => {
    const range = expiryRange(2, 1_000);
    expect(within(expiryKey(2, 0, ref), range)).toBe(true);
    expect(within(expiryKey(2, 1_000, ref), range)).toBe(true);
    expect(within(expiryKey(2, 1_001, ref), range)).toBe(false);
    expect(within(expiryKey(1, 500, ref), range)).toBe(false);
    expect(within(expiryKey(3, 500, ref), range)).toBe(false);
    expect(within(windowKey(2, ref), range)).toBe(false);
  });
});

describe('span keys', () => {
  const refA = traceRef('acme', 'a');
  const refAb = traceRef('acme', 'ab');

  it('of one trace all fall in its spanRange', () => {
    const range = spanRange(4, refA);
    for (const spanId of ['', '00f067aa0ba902b7', 'zzzz', 'ü'.repeat(100), 'x'.repeat(65_535)]) {
      expect(within(spanKey(4, refA, spanId), range), spanId.slice(0, 20)).toBe(true);
    }
  });

  it('of a trace whose id extends another\'s stay out of the shorter one\'s range, and back', () => {
    expect(within(spanKey(4, refAb, 'span-1'), spanRange(4, refA))).toBe(false);
    expect(within(spanKey(4, refA, 'span-1'), spanRange(4, refAb))).toBe(false);
    expect(within(spanKey(4, refAb, 'span-1'), spanRange(4, refAb))).toBe(true);
  });

  it('of another tenant, partition or kind stay out of the range', () => {
    const range = spanRange(4, refA);
    expect(within(spanKey(4, traceRef('acme2', 'a'), 's'), range)).toBe(false);
    expect(within(spanKey(5, refA, 's'), range)).toBe(false);
    expect(within(spanKey(3, refA, 's'), range)).toBe(false);
    expect(within(windowKey(4, refA), range)).toBe(false);
    expect(within(expiryKey(4, 0, refA), range)).toBe(false);
  });
});

// The building blocks of src/log/store-keys.ts that these keys are made of.

describe('u64', () => {
  it('sorts as bytes in numeric order', () => {
    const numbers = [0, 1, 255, 256, 65_535, 65_536, 2 ** 32, 2 ** 40 + 3, 1_700_000_000_000, Number.MAX_SAFE_INTEGER];
    const shuffled = [numbers[5]!, numbers[0]!, numbers[9]!, numbers[2]!, numbers[7]!, numbers[1]!, numbers[8]!, numbers[3]!, numbers[6]!, numbers[4]!];
    const sorted = shuffled.map(u64).sort((a, b) => Buffer.compare(a, b)).map((b) => Number(b.readBigUInt64BE(0)));
    expect(sorted).toEqual(numbers);
  });

  it('clamps negatives to zero and floors fractions', () => {
    expect(u64(-5).equals(u64(0))).toBe(true);
    expect(u64(7.9).equals(u64(7))).toBe(true);
  });
});

describe('str and u16', () => {
  it('prefix a string with its UTF-8 byte length', () => {
    expect(u16(258)).toEqual(Buffer.from([1, 2]));
    expect(str('é')).toEqual(Buffer.from([0, 2, 0xc3, 0xa9]));
    expect(str('')).toEqual(Buffer.from([0, 0]));
  });
});

describe('tupleKey', () => {
  it('is inverted by parseTupleKey', () => {
    const parts = ['acme', 1_700_000_000_000, 'trace/with|odd chars', 0, ''];
    const key = tupleKey('det', ...parts);
    expect(parseTupleKey(key, 'det', ['s', 'n', 's', 'n', 's'])).toEqual(parts);
  });

  it('sorts by a number part numerically', () => {
    const keys = [300, 2, 70_000, 1].map((n) => tupleKey('t', 'acme', n));
    const sorted = [...keys].sort((a, b) => Buffer.compare(a, b)).map((k) => parseTupleKey(k, 't', ['s', 'n'])[1]);
    expect(sorted).toEqual([1, 2, 300, 70_000]);
  });

  it('keeps one string part from being a prefix of another', () => {
    const a = tupleKey('k', 'a');
    const ab = tupleKey('k', 'ab');
    expect(ab.subarray(0, a.length).equals(a)).toBe(false);
  });
});

describe('prefixEnd', () => {
  it('is above every key extending the prefix and below the next prefix', () => {
    const prefix = tupleKey('trace', 'acme');
    const end = prefixEnd(prefix);
    for (const key of [tupleKey('trace', 'acme', 'x'), tupleKey('trace', 'acme', 2 ** 40), tupleKey('trace', 'acme', 'ü'.repeat(300))]) {
      expect(Buffer.compare(key, prefix)).toBeGreaterThan(0);
      expect(Buffer.compare(key, end)).toBeLessThan(0);
    }
    expect(Buffer.compare(tupleKey('trace', 'acmf'), end)).toBeGreaterThan(0);
    expect(Buffer.compare(tupleKey('trace', 'acme2'), end)).toBeGreaterThan(0);
  });
});
