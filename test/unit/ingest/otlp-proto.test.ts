/**
 * OTLP protobuf decoding: payloads are built with the same protobufjs message types the
 * decoder uses (from the OTLP .proto files under proto/), encoded to bytes and decoded.
 */
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { TracefoldError } from '../../../src/model/errors.js';
import type { AnyValue, CanonicalSpan, KeyValue } from '../../../src/model/span.js';
import {
  decodeOtlpProto,
  encodeExportResponse,
  ExportTraceServiceRequest,
  ExportTraceServiceResponse,
} from '../../../src/ingest/otlp/proto.js';
import { decodeOtlpJson } from '../../../src/ingest/otlp/json.js';

const ctx = { tenantId: 'tenant-a', receivedAtMs: 1_700_000_100_000 };

const TRACE_HEX = '5b8efff798038103d269b633813fc60c';
const SPAN_HEX = 'eee19b7ec3c1b174';
const PARENT_HEX = '00f067aa0ba902b7';
const LINK_TRACE_HEX = '4bf92f3577b34da6a3ce929d0e0e4736';
const LINK_SPAN_HEX = '53995c3f42cd8ad8';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');

function encode(request: Record<string, unknown>): Uint8Array {
  return ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(request)).finish();
}

function span(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId: hex(TRACE_HEX),
    spanId: hex(SPAN_HEX),
    name: 'chat gpt-4o',
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000001500000000',
    ...overrides,
  };
}

function request(spans: unknown[], resource: Record<string, unknown> = {}): Record<string, unknown> {
  return { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'test' }, spans }] }] };
}

function decodeOne(spanFields: Record<string, unknown>): CanonicalSpan {
  const result = decodeOtlpProto(encode(request([span(spanFields)])), ctx);
  expect(result.rejected).toEqual([]);
  expect(result.spans).toHaveLength(1);
  return result.spans[0]!;
}

function attributeMap(attributes: readonly KeyValue[]): Map<string, AnyValue> {
  return new Map(attributes.map((kv) => [kv.key, kv.value]));
}

function bytesOf(value: AnyValue | undefined): number[] | undefined {
  return value?.type === 'bytes' ? Array.from(value.value) : undefined;
}

describe('decodeOtlpProto: a full span', () => {
  const body = {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'agent-svc' } },
            { key: 'host.cpus', value: { intValue: 8 } },
          ],
          droppedAttributesCount: 1,
        },
        schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        scopeSpans: [
          {
            scope: {
              name: 'openai-instrumentation',
              version: '2.1.0',
              attributes: [{ key: 'scope.flag', value: { boolValue: true } }],
              droppedAttributesCount: 2,
            },
            schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
            spans: [
              span({
                parentSpanId: hex(PARENT_HEX),
                traceState: 'vendor=a,other=b',
                flags: 0x301,
                kind: 3,
                attributes: [
                  { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                  { key: 'gen_ai.usage.input_tokens', value: { intValue: 1200 } },
                ],
                droppedAttributesCount: 3,
                events: [
                  {
                    timeUnixNano: '1700000000250000000',
                    name: 'gen_ai.content.prompt',
                    attributes: [{ key: 'gen_ai.prompt', value: { stringValue: 'hello' } }],
                    droppedAttributesCount: 4,
                  },
                  { timeUnixNano: '1700000001000000000', name: 'exception' },
                ],
                droppedEventsCount: 5,
                links: [
                  {
                    traceId: hex(LINK_TRACE_HEX),
                    spanId: hex(LINK_SPAN_HEX),
                    traceState: 'k=v',
                    attributes: [{ key: 'link.kind', value: { stringValue: 'follows' } }],
                    droppedAttributesCount: 6,
                    flags: 0x101,
                  },
                ],
                droppedLinksCount: 7,
                status: { code: 2, message: 'rate limited' },
              }),
            ],
          },
        ],
      },
    ],
  };

  it('keeps ids, resource, scope, schema urls, events, links, status, flags, trace state and dropped counts', () => {
    const result = decodeOtlpProto(encode(body), ctx);
    expect(result.rejected).toEqual([]);
    expect(result.spans).toHaveLength(1);
    const s = result.spans[0]!;
    expect(s).toMatchObject({
      tenantId: 'tenant-a',
      traceId: TRACE_HEX,
      spanId: SPAN_HEX,
      parentSpanId: PARENT_HEX,
      traceState: 'vendor=a,other=b',
      flags: 0x301,
      name: 'chat gpt-4o',
      kind: 3,
      startTimeUnixNano: 1_700_000_000_000_000_000n,
      endTimeUnixNano: 1_700_000_001_500_000_000n,
      droppedAttributesCount: 3,
      droppedEventsCount: 5,
      droppedLinksCount: 7,
      status: { code: 2, message: 'rate limited' },
      source: 'otlp-proto',
      receivedAtMs: ctx.receivedAtMs,
    });
    expect(s.attributes).toEqual([
      { key: 'gen_ai.operation.name', value: { type: 'string', value: 'chat' } },
      { key: 'gen_ai.usage.input_tokens', value: { type: 'int', value: 1200n } },
    ]);
    expect(s.events).toEqual([
      {
        timeUnixNano: 1_700_000_000_250_000_000n,
        name: 'gen_ai.content.prompt',
        attributes: [{ key: 'gen_ai.prompt', value: { type: 'string', value: 'hello' } }],
        droppedAttributesCount: 4,
      },
      { timeUnixNano: 1_700_000_001_000_000_000n, name: 'exception', attributes: [], droppedAttributesCount: 0 },
    ]);
    expect(s.links).toEqual([
      {
        traceId: LINK_TRACE_HEX,
        spanId: LINK_SPAN_HEX,
        traceState: 'k=v',
        attributes: [{ key: 'link.kind', value: { type: 'string', value: 'follows' } }],
        droppedAttributesCount: 6,
        flags: 0x101,
      },
    ]);
    expect(s.resource).toEqual({
      attributes: [
        { key: 'service.name', value: { type: 'string', value: 'agent-svc' } },
        { key: 'host.cpus', value: { type: 'int', value: 8n } },
      ],
      droppedAttributesCount: 1,
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
    });
    expect(s.scope).toEqual({
      name: 'openai-instrumentation',
      version: '2.1.0',
      attributes: [{ key: 'scope.flag', value: { type: 'bool', value: true } }],
      droppedAttributesCount: 2,
      schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
    });
  });

  it('gives the same canonical span as the OTLP/JSON encoding of the same request', () => {
    const fromProto = decodeOtlpProto(encode(body), ctx).spans[0]!;
    // The OTLP/JSON form of the same message: hex ids, as the OTLP JSON encoding writes them.
    const json = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.fromObject(body), { longs: String, enums: Number, bytes: String });
    const fixIds = (o: Record<string, unknown>) => {
      for (const key of ['traceId', 'spanId', 'parentSpanId']) {
        if (typeof o[key] === 'string') o[key] = Buffer.from(o[key], 'base64').toString('hex');
      }
    };
    for (const rs of json.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          fixIds(s);
          for (const link of s.links ?? []) fixIds(link);
        }
      }
    }
    const fromJson = decodeOtlpJson(JSON.parse(JSON.stringify(json)), ctx).spans[0]!;
    expect({ ...fromProto, source: 'x' }).toEqual({ ...fromJson, source: 'x' });
  });

  it('defaults absent fields as protobuf means them', () => {
    const s = decodeOne({ name: '', endTimeUnixNano: undefined });
    expect(s).toMatchObject({
      parentSpanId: '',
      traceState: '',
      flags: 0,
      name: '',
      kind: 0,
      endTimeUnixNano: s.startTimeUnixNano,
      attributes: [],
      events: [],
      links: [],
      status: { code: 0, message: '' },
    });
    expect(s.scope).toEqual({ name: 'test', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: '' });
    expect(s.resource).toEqual({ attributes: [], droppedAttributesCount: 0, schemaUrl: '' });
  });

  it('treats an all-zero parent span id as a root', () => {
    expect(decodeOne({ parentSpanId: Buffer.alloc(8) }).parentSpanId).toBe('');
  });

  it('keeps a status with code and no message, and a message with code OK', () => {
    expect(decodeOne({ status: { code: 2 } }).status).toEqual({ code: 2, message: '' });
    expect(decodeOne({ status: { code: 1, message: 'fine' } }).status).toEqual({ code: 1, message: 'fine' });
  });
});

describe('decodeOtlpProto: attribute values', () => {
  const INT64_MAX = 9_223_372_036_854_775_807n;
  const INT64_MIN = -9_223_372_036_854_775_808n;

  const attributes = [
    { key: 'string', value: { stringValue: 'gpt-4o' } },
    { key: 'string-empty', value: { stringValue: '' } },
    { key: 'bool-true', value: { boolValue: true } },
    { key: 'bool-false', value: { boolValue: false } },
    { key: 'int', value: { intValue: 42 } },
    { key: 'int-zero', value: { intValue: 0 } },
    { key: 'int-negative', value: { intValue: -7 } },
    { key: 'int64-max', value: { intValue: INT64_MAX.toString() } },
    { key: 'int64-min', value: { intValue: INT64_MIN.toString() } },
    { key: 'int-beyond-2^53', value: { intValue: '9007199254740993' } },
    { key: 'double', value: { doubleValue: 0.25 } },
    { key: 'double-zero', value: { doubleValue: 0 } },
    { key: 'double-whole', value: { doubleValue: 3 } },
    { key: 'double-nan', value: { doubleValue: Number.NaN } },
    { key: 'double-inf', value: { doubleValue: Number.POSITIVE_INFINITY } },
    { key: 'double-neg-inf', value: { doubleValue: Number.NEGATIVE_INFINITY } },
    { key: 'double-max', value: { doubleValue: Number.MAX_VALUE } },
    { key: 'bytes', value: { bytesValue: Buffer.from([0, 1, 2, 0xff]) } },
    { key: 'bytes-empty', value: { bytesValue: Buffer.alloc(0) } },
    { key: 'empty', value: {} },
    { key: 'no-value' },
    {
      key: 'array',
      value: {
        arrayValue: {
          values: [
            { stringValue: 'a' },
            { intValue: 1 },
            { doubleValue: 1.5 },
            { boolValue: false },
            { bytesValue: Buffer.from([9]) },
            {},
            { arrayValue: { values: [{ intValue: 2 }, { arrayValue: {} }] } },
            {
              kvlistValue: {
                values: [
                  { key: 'inner-string', value: { stringValue: 'x' } },
                  { key: 'inner-list', value: { kvlistValue: { values: [{ key: 'deep', value: { intValue: INT64_MIN.toString() } }] } } },
                ],
              },
            },
          ],
        },
      },
    },
    { key: 'array-empty', value: { arrayValue: {} } },
    {
      key: 'kvlist',
      value: {
        kvlistValue: {
          values: [
            { key: 'model', value: { stringValue: 'gpt-4o' } },
            { key: 'tokens', value: { arrayValue: { values: [{ intValue: 1 }, { intValue: 2 }] } } },
          ],
        },
      },
    },
    { key: 'kvlist-empty', value: { kvlistValue: {} } },
  ];

  const decoded = () => attributeMap(decodeOne({ attributes }).attributes);

  it('keeps every scalar type exactly', () => {
    const byKey = decoded();
    expect(byKey.get('string')).toStrictEqual({ type: 'string', value: 'gpt-4o' });
    expect(byKey.get('string-empty')).toStrictEqual({ type: 'string', value: '' });
    expect(byKey.get('bool-true')).toStrictEqual({ type: 'bool', value: true });
    expect(byKey.get('bool-false')).toStrictEqual({ type: 'bool', value: false });
    expect(byKey.get('int')).toStrictEqual({ type: 'int', value: 42n });
    expect(byKey.get('int-zero')).toStrictEqual({ type: 'int', value: 0n });
    expect(byKey.get('int-negative')).toStrictEqual({ type: 'int', value: -7n });
    expect(byKey.get('int64-max')).toStrictEqual({ type: 'int', value: INT64_MAX });
    expect(byKey.get('int64-min')).toStrictEqual({ type: 'int', value: INT64_MIN });
    expect(byKey.get('int-beyond-2^53')).toStrictEqual({ type: 'int', value: 9_007_199_254_740_993n });
    expect(byKey.get('double')).toStrictEqual({ type: 'double', value: 0.25 });
    expect(byKey.get('double-zero')).toStrictEqual({ type: 'double', value: 0 });
    expect(byKey.get('double-whole')).toStrictEqual({ type: 'double', value: 3 });
    expect(byKey.get('double-nan')).toStrictEqual({ type: 'double', value: Number.NaN });
    expect(byKey.get('double-inf')).toStrictEqual({ type: 'double', value: Number.POSITIVE_INFINITY });
    expect(byKey.get('double-neg-inf')).toStrictEqual({ type: 'double', value: Number.NEGATIVE_INFINITY });
    expect(byKey.get('double-max')).toStrictEqual({ type: 'double', value: Number.MAX_VALUE });
    expect(bytesOf(byKey.get('bytes'))).toEqual([0, 1, 2, 0xff]);
    const bytes = byKey.get('bytes');
    expect(bytes?.type === 'bytes' && bytes.value).toBeInstanceOf(Uint8Array);
    expect(bytesOf(byKey.get('bytes-empty'))).toEqual([]);
    expect(byKey.get('empty')).toStrictEqual({ type: 'empty' });
    expect(byKey.get('no-value')).toStrictEqual({ type: 'empty' });
  });

  it('keeps nested arrays and kvlists, including a kvlist inside an array', () => {
    const byKey = decoded();
    const array = byKey.get('array');
    expect(array?.type).toBe('array');
    if (array?.type !== 'array') return;
    const [s, i, d, b, by, empty, nested, kv] = array.values;
    expect(s).toStrictEqual({ type: 'string', value: 'a' });
    expect(i).toStrictEqual({ type: 'int', value: 1n });
    expect(d).toStrictEqual({ type: 'double', value: 1.5 });
    expect(b).toStrictEqual({ type: 'bool', value: false });
    expect(bytesOf(by)).toEqual([9]);
    expect(empty).toStrictEqual({ type: 'empty' });
    expect(nested).toStrictEqual({ type: 'array', values: [{ type: 'int', value: 2n }, { type: 'array', values: [] }] });
    expect(kv).toStrictEqual({
      type: 'kvlist',
      values: [
        { key: 'inner-string', value: { type: 'string', value: 'x' } },
        { key: 'inner-list', value: { type: 'kvlist', values: [{ key: 'deep', value: { type: 'int', value: INT64_MIN } }] } },
      ],
    });
    expect(byKey.get('array-empty')).toStrictEqual({ type: 'array', values: [] });
    expect(byKey.get('kvlist')).toStrictEqual({
      type: 'kvlist',
      values: [
        { key: 'model', value: { type: 'string', value: 'gpt-4o' } },
        { key: 'tokens', value: { type: 'array', values: [{ type: 'int', value: 1n }, { type: 'int', value: 2n }] } },
      ],
    });
    expect(byKey.get('kvlist-empty')).toStrictEqual({ type: 'kvlist', values: [] });
  });

  it('keeps fixed64 timestamps beyond 2^53 exact, up to the int64 limit of the raw topic', () => {
    const s = decodeOne({ startTimeUnixNano: '9007199254740993', endTimeUnixNano: '9223372036854775807' });
    expect(s.startTimeUnixNano).toBe(9_007_199_254_740_993n);
    expect(s.endTimeUnixNano).toBe(9_223_372_036_854_775_807n);
    const result = decodeOtlpProto(encode(request([span({ endTimeUnixNano: '18446744073709551615' })])), ctx);
    expect(result.rejected).toEqual([
      {
        path: 'resourceSpans[0].scopeSpans[0].spans[0].endTimeUnixNano',
        reason: 'later than the latest supported time (2^63-1 ns, in the year 2262), got 18446744073709551615',
      },
    ]);
  });

  it('rejects AnyValue nesting deeper than 32 levels by path', () => {
    let value: Record<string, unknown> = { intValue: 1 };
    for (let i = 0; i < 40; i++) value = { arrayValue: { values: [value] } };
    const result = decodeOtlpProto(encode(request([span({ attributes: [{ key: 'deep', value }] })])), ctx);
    expect(result.spans).toEqual([]);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]!.path).toMatch(/^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes\[0\]\.value(\.arrayValue\.values\[0\])+$/);
  });
});

describe('decodeOtlpProto: rejection', () => {
  it('rejects a span with an all-zero trace id by path and accepts its siblings', () => {
    const body = request([
      span({ name: 'first', spanId: hex('0000000000000001') }),
      span({ name: 'zero-trace', traceId: Buffer.alloc(16) }),
      span({ name: 'third', spanId: hex('0000000000000003') }),
    ]);
    const result = decodeOtlpProto(encode(body), ctx);
    expect(result.spans.map((s) => s.name)).toEqual(['first', 'third']);
    expect(result.rejected).toEqual([{ path: 'resourceSpans[0].scopeSpans[0].spans[1].traceId', reason: 'an all-zero trace id is invalid' }]);
  });

  it('rejects spans exactly as the JSON decoder does, at the same paths', () => {
    const spans = [
      span({ name: 'ok' }),
      span({ name: 'no-trace-id', traceId: undefined }),
      span({ name: 'short-span-id', spanId: Buffer.from([1, 2, 3]) }),
      span({ name: 'zero-span-id', spanId: Buffer.alloc(8) }),
      span({ name: 'no-start', startTimeUnixNano: undefined }),
      span({ name: 'end-before-start', endTimeUnixNano: '1' }),
      span({ name: 'bad-kind', kind: 9 }),
      span({ name: 'bad-link', links: [{ traceId: hex(LINK_TRACE_HEX) }] }),
      span({ name: 'bad-parent', parentSpanId: Buffer.from([1]) }),
      span({ name: 'ok-too', spanId: hex('0000000000000002') }),
    ];
    const result = decodeOtlpProto(encode(request(spans)), ctx);
    expect(result.spans.map((s) => s.name)).toEqual(['ok', 'ok-too']);
    const prefix = 'resourceSpans[0].scopeSpans[0].spans';
    expect(result.rejected).toEqual([
      { path: `${prefix}[1].traceId`, reason: 'missing or empty' },
      { path: `${prefix}[2].spanId`, reason: 'expected 8 bytes, got 3' },
      { path: `${prefix}[3].spanId`, reason: 'an all-zero span id is invalid' },
      { path: `${prefix}[4].startTimeUnixNano`, reason: 'zero: OTLP requires a start time' },
      { path: `${prefix}[5].endTimeUnixNano`, reason: 'before the start time (1 < 1700000000000000000)' },
      { path: `${prefix}[6].kind`, reason: 'expected a span kind (0..5 or its name), got the number 9' },
      { path: `${prefix}[7].links[0].spanId`, reason: 'missing or empty' },
      { path: `${prefix}[8].parentSpanId`, reason: 'expected 8 bytes, got 1' },
    ]);
  });

  it('rejects every span under a resource whose attributes are invalid', () => {
    let value: Record<string, unknown> = { intValue: 1 };
    for (let i = 0; i < 40; i++) value = { arrayValue: { values: [value] } };
    const result = decodeOtlpProto(encode(request([span(), span()], { attributes: [{ key: 'deep', value }] })), ctx);
    expect(result.spans).toEqual([]);
    expect(result.rejected.map((r) => r.path)).toEqual(['resourceSpans[0].scopeSpans[0].spans[0]', 'resourceSpans[0].scopeSpans[0].spans[1]']);
    expect(result.rejected[0]!.reason).toMatch(/^invalid resource: resourceSpans\[0\]\.resource\.attributes\[0\]\.value/);
  });

  it('rejects bytes that are not an ExportTraceServiceRequest with a 400 naming the problem', () => {
    const cases = [
      Buffer.from([0x0a, 0xff, 0xff]), // a length beyond the end
      Buffer.from([0x0c]), // wire type 4 (end group) at the top level
      Buffer.from('{"resourceSpans": []}'),
      Buffer.from([0x0a, 0x02, 0x12, 0x05]), // a nested length beyond its message
    ];
    for (const bytes of cases) {
      let caught: unknown;
      try {
        decodeOtlpProto(bytes, ctx);
      } catch (error) {
        caught = error;
      }
      expect(caught, bytes.toString('hex')).toBeInstanceOf(TracefoldError);
      expect((caught as TracefoldError).statusCode).toBe(400);
      expect((caught as TracefoldError).message).toMatch(/^body: not a valid protobuf ExportTraceServiceRequest \(.+\)$/);
    }
  });

  it('rejects messages nested beyond the protobuf recursion limit (100, as protoc) with a 400', () => {
    let value: Record<string, unknown> = { intValue: 1 };
    for (let i = 0; i < 40; i++) value = { kvlistValue: { values: [{ key: 'k', value }] } };
    const limit = protobuf.util.recursionLimit;
    protobuf.util.recursionLimit = 1000;
    let bytes: Uint8Array;
    try {
      bytes = encode(request([span({ attributes: [{ key: 'deep', value }] })]));
    } finally {
      protobuf.util.recursionLimit = limit;
    }
    expect(() => decodeOtlpProto(bytes, ctx)).toThrow(/^body: not a valid protobuf ExportTraceServiceRequest \(messages nested deeper than 100 levels\)$/);
  });

  it('decodes an empty body as an empty request', () => {
    expect(decodeOtlpProto(new Uint8Array(0), ctx)).toEqual({ spans: [], rejected: [] });
  });

  it('never throws anything but a TracefoldError on truncated or bit-flipped payloads', () => {
    const valid = Buffer.from(
      encode(
        request(
          [span({ attributes: [{ key: 'a', value: { arrayValue: { values: [{ kvlistValue: { values: [{ key: 'k', value: { doubleValue: 1 } }] } }] } } }] })],
          { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        ),
      ),
    );
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      const mutated = Buffer.from(valid.subarray(0, i % 3 === 0 ? random() % valid.length : valid.length));
      for (let flips = random() % 4; flips >= 0 && mutated.length > 0; flips--) mutated[random() % mutated.length] = random() & 0xff;
      try {
        decodeOtlpProto(mutated, ctx);
      } catch (error) {
        expect(error).toBeInstanceOf(TracefoldError);
        expect((error as TracefoldError).statusCode).toBe(400);
      }
    }
  });
});

describe('encodeExportResponse', () => {
  it('is empty on full success and carries partial_success otherwise', () => {
    expect(encodeExportResponse(0, '')).toHaveLength(0);
    const decoded = ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(encodeExportResponse(3, 'spans[1].traceId: missing')), {
      longs: String,
    });
    expect(decoded).toEqual({ partialSuccess: { rejectedSpans: '3', errorMessage: 'spans[1].traceId: missing' } });
  });
});
