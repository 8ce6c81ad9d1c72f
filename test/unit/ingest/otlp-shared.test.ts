import { describe, expect, it } from 'vitest';
import { convertAnyValue, convertKeyValues, MAX_ANY_VALUE_DEPTH } from '../../../src/ingest/otlp/any-value.js';
import { decodeBase64 } from '../../../src/ingest/otlp/base64.js';
import { normalizeId, normalizeParentSpanId, normalizeSpanId, normalizeTraceId } from '../../../src/ingest/otlp/ids.js';
import { toDouble, toInt64, toUint32, toUint64, type LongLike } from '../../../src/ingest/otlp/numbers.js';
import { decodeTraceRequest } from '../../../src/ingest/otlp/request.js';
import { convertResource, convertScope, convertSpan } from '../../../src/ingest/otlp/span.js';
import { OtlpValueError } from '../../../src/ingest/otlp/value-error.js';

/** The shape long.js / protobufjs use for 64-bit integers. */
function long(value: bigint, unsigned: boolean): LongLike {
  const bits = BigInt.asUintN(64, value);
  return { low: Number(bits & 0xffff_ffffn) | 0, high: Number(bits >> 32n) | 0, unsigned };
}

function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function thrown(fn: () => unknown): OtlpValueError {
  try {
    fn();
  } catch (error) {
    if (error instanceof OtlpValueError) return error;
    throw error;
  }
  throw new Error('expected an OtlpValueError');
}

describe('ids', () => {
  it('normalises raw bytes to lowercase hex and checks their length', () => {
    expect(normalizeTraceId(hexBytes('4bed859fd97a00be8874a9e922934b80'))).toBe('4bed859fd97a00be8874a9e922934b80');
    expect(normalizeSpanId(hexBytes('0123456789ABCDEF'))).toBe('0123456789abcdef');
    expect(normalizeSpanId(new Uint8Array(0))).toBe('');
    expect(thrown(() => normalizeSpanId(new Uint8Array(5))).reason).toBe('expected 8 bytes, got 5');
    expect(thrown(() => normalizeTraceId(new Uint8Array(16))).reason).toMatch(/all-zero trace id/);
    expect(normalizeParentSpanId(new Uint8Array(8))).toBe('');
  });

  it('takes only padded, canonical base64 of the exact length as an encoded id', () => {
    expect(normalizeId('ASNFZ4mrze8=', 8)).toBe('0123456789abcdef');
    expect(normalizeId('ASNFZ4mrze8', 8)).toBe('ASNFZ4mrze8');
    expect(normalizeId('ASNFZ4mrze9=', 8)).toBe('ASNFZ4mrze9=');
    expect(normalizeId('S-2Fn9l6AL6IdKnpIpNLgA==', 16)).toBe('4bed859fd97a00be8874a9e922934b80');
    expect(normalizeId('S+2Fn9l6AL6IdKnpIpNLgA==', 8)).toBe('S+2Fn9l6AL6IdKnpIpNLgA==');
  });

  it('rejects non-string, non-bytes ids', () => {
    expect(thrown(() => normalizeTraceId({})).reason).toBe('expected a string, got an object');
    expect(thrown(() => normalizeTraceId(12)).reason).toBe('expected a string, got the number 12');
  });
});

describe('numbers', () => {
  it('accepts Long-like values, signed and unsigned', () => {
    expect(toUint64(long(1_700_000_000_000_000_000n, true))).toBe(1_700_000_000_000_000_000n);
    expect(toUint64(long(0xffff_ffff_ffff_ffffn, true))).toBe(0xffff_ffff_ffff_ffffn);
    expect(toInt64(long(-42n, false))).toBe(-42n);
    expect(toInt64(long(-(2n ** 63n), false))).toBe(-(2n ** 63n));
    expect(toInt64(long(2n ** 63n - 1n, false))).toBe(2n ** 63n - 1n);
    expect(toUint32({ low: 7, high: 0, unsigned: true })).toBe(7);
    expect(thrown(() => toUint64(long(-1n, false))).reason).toMatch(/negative/);
  });

  it('accepts bigints within range', () => {
    expect(toUint64(5n)).toBe(5n);
    expect(toInt64(-5n)).toBe(-5n);
    expect(thrown(() => toUint64(2n ** 64n)).reason).toMatch(/uint64 range/);
    expect(thrown(() => toInt64(2n ** 63n)).reason).toMatch(/int64 range/);
  });

  it('is strict about decimal strings', () => {
    for (const text of ['', ' 1', '1 ', '0x10', '1e3', '+1', '1.0', '1_000', '9'.repeat(41)]) {
      expect(() => toInt64(text)).toThrow(OtlpValueError);
    }
    expect(toInt64('-0')).toBe(0n);
    expect(toUint64('000123')).toBe(123n);
  });

  it('parses doubles as proto3 JSON allows', () => {
    expect(toDouble('-1.5e2')).toBe(-150);
    expect(toDouble('.5')).toBe(0.5);
    expect(Number.isNaN(toDouble('NaN'))).toBe(true);
    for (const text of ['', 'inf', '0x1', '1,5', ' 1']) expect(() => toDouble(text)).toThrow(OtlpValueError);
  });
});

describe('base64', () => {
  it('decodes standard and URL-safe alphabets, with or without padding', () => {
    expect(Array.from(decodeBase64('+/8=') ?? [])).toEqual([0xfb, 0xff]);
    expect(Array.from(decodeBase64('-_8') ?? [])).toEqual([0xfb, 0xff]);
    expect(Array.from(decodeBase64('') ?? [1])).toEqual([]);
  });

  it('rejects malformed input that a lenient decoder would skip', () => {
    for (const text of ['a', 'ab=', 'abc==', 'a=bc', 'ab cd', 'ab\ncd', '====', 'abcd=']) {
      expect(decodeBase64(text)).toBeUndefined();
    }
  });
});

describe('AnyValue', () => {
  it('converts protobuf-shaped values: Long ints, bytes as Uint8Array', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(convertAnyValue({ intValue: long(-7n, false) })).toStrictEqual({ type: 'int', value: -7n });
    const converted = convertAnyValue({ bytesValue: bytes });
    expect(converted).toStrictEqual({ type: 'bytes', value: bytes });
  });

  it('treats null fields as absent, as decoded protobuf messages carry them', () => {
    // protobufjs messages keep unset oneof members as null on the prototype.
    class AnyValueMessage {
      stringValue: string | null = null;
      boolValue: boolean | null = null;
      intValue: LongLike | null = null;
      doubleValue: number | null = null;
    }
    const message = new AnyValueMessage();
    message.doubleValue = 2.5;
    expect(convertAnyValue(message)).toStrictEqual({ type: 'double', value: 2.5 });
    expect(convertAnyValue(new AnyValueMessage())).toStrictEqual({ type: 'empty' });
  });

  it('reports depth relative to the value given', () => {
    let value: unknown = { stringValue: 'leaf' };
    for (let i = 1; i < MAX_ANY_VALUE_DEPTH; i++) value = { kvlistValue: { values: [{ key: 'k', value }] } };
    expect(convertAnyValue(value).type).toBe('kvlist');
    const error = thrown(() => convertAnyValue({ arrayValue: { values: [value] } }));
    expect(error.path).toBe(`.arrayValue.values[0]${'.kvlistValue.values[0].value'.repeat(MAX_ANY_VALUE_DEPTH - 1)}`);
  });

  it('rejects a non-array attribute list with an empty relative path', () => {
    const error = thrown(() => convertKeyValues('x'));
    expect(error.path).toBe('');
    expect(error.reason).toBe('expected an array, got the string "x"');
  });
});

describe('convertSpan with protobuf-shaped input', () => {
  const context = { tenantId: 't', receivedAtMs: 5, source: 'otlp-proto' as const };

  it('produces the same canonical span as the JSON form', () => {
    const resource = convertResource({ attributes: [{ key: 'service.name', value: { stringValue: 's' } }] }, '');
    const scope = convertScope({ name: 'lib' }, '');
    const span = convertSpan(
      {
        traceId: hexBytes('5b8efff798038103d269b633813fc60c'),
        spanId: hexBytes('eee19b7ec3c1b174'),
        parentSpanId: new Uint8Array(0),
        name: 'op',
        kind: 2,
        startTimeUnixNano: long(1_700_000_000_000_000_000n, true),
        endTimeUnixNano: long(1_700_000_000_500_000_000n, true),
        attributes: [{ key: 'n', value: { intValue: long(9_223_372_036_854_775_807n, false) } }],
        events: [{ timeUnixNano: long(0n, true), name: 'e', attributes: [], droppedAttributesCount: 0 }],
        links: [{ traceId: hexBytes('5b8efff798038103d269b633813fc60c'), spanId: hexBytes('0000000000000001'), flags: 256 }],
        status: { code: 2, message: 'boom' },
      },
      resource,
      scope,
      context,
    );
    expect(span).toMatchObject({
      tenantId: 't',
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      parentSpanId: '',
      kind: 2,
      startTimeUnixNano: 1_700_000_000_000_000_000n,
      endTimeUnixNano: 1_700_000_000_500_000_000n,
      attributes: [{ key: 'n', value: { type: 'int', value: 9_223_372_036_854_775_807n } }],
      events: [{ timeUnixNano: 0n, name: 'e', attributes: [], droppedAttributesCount: 0 }],
      links: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: '0000000000000001', traceState: '', flags: 256 }],
      status: { code: 2, message: 'boom' },
      source: 'otlp-proto',
      receivedAtMs: 5,
    });
    expect(span.resource).toBe(resource);
    expect(span.scope).toBe(scope);
  });

  it('rejects a protobuf span whose start time is the default 0', () => {
    const error = thrown(() =>
      convertSpan(
        { traceId: hexBytes('5b8efff798038103d269b633813fc60c'), spanId: hexBytes('eee19b7ec3c1b174'), name: 'op', startTimeUnixNano: long(0n, true) },
        convertResource(null, ''),
        convertScope(null, ''),
        context,
      ),
    );
    expect(error.path).toBe('.startTimeUnixNano');
  });

  it('decodeTraceRequest labels spans with the given source', () => {
    const result = decodeTraceRequest(
      {
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  { traceId: hexBytes('5b8efff798038103d269b633813fc60c'), spanId: hexBytes('eee19b7ec3c1b174'), name: 'op', startTimeUnixNano: 10n },
                ],
              },
            ],
          },
        ],
      },
      { tenantId: 't', receivedAtMs: 1 },
      'otlp-proto',
    );
    expect(result.rejected).toEqual([]);
    expect(result.spans[0]).toMatchObject({ source: 'otlp-proto', startTimeUnixNano: 10n, endTimeUnixNano: 10n });
  });
});
