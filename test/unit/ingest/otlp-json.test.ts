import { describe, expect, it } from 'vitest';
import { TracefoldError } from '../../../src/model/errors.js';
import type { AnyValue, CanonicalSpan } from '../../../src/model/span.js';
import { decodeOtlpJson, type DecodeResult } from '../../../src/ingest/otlp/json.js';
import { largeOtlpPayload } from '../../../bench/payloads.js';
import { walkthroughTrace as walkthrough } from '../../support/walkthrough.js';

const ctx = { tenantId: 'tenant-a', receivedAtMs: 1_700_000_100_000 };

const TRACE_HEX = '5b8efff798038103d269b633813fc60c';
const SPAN_HEX = 'eee19b7ec3c1b174';


function str(value: string): AnyValue {
  return { type: 'string', value };
}
function int(value: bigint): AnyValue {
  return { type: 'int', value };
}

/** A request with one resource and one scope around `spans`. */
function request(spans: unknown[], extra: { resource?: unknown; scope?: unknown } = {}): unknown {
  return {
    resourceSpans: [{ resource: extra.resource ?? { attributes: [] }, scopeSpans: [{ scope: extra.scope, spans }] }],
  };
}

/** A minimal valid span with hex ids; `overrides` replace or add fields. */
function span(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId: TRACE_HEX,
    spanId: SPAN_HEX,
    name: 'op',
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000001000000000',
    ...overrides,
  };
}

function only(result: DecodeResult): CanonicalSpan {
  expect(result.rejected).toEqual([]);
  expect(result.spans).toHaveLength(1);
  return result.spans[0]!;
}

function decodeOne(overrides: Record<string, unknown>): CanonicalSpan {
  return only(decodeOtlpJson(request([span(overrides)]), ctx));
}

function rejectedOne(overrides: Record<string, unknown>): { path: string; reason: string } {
  const result = decodeOtlpJson(request([span(overrides)]), ctx);
  expect(result.spans).toEqual([]);
  expect(result.rejected).toHaveLength(1);
  return result.rejected[0]!;
}

function attributeValue(value: unknown): AnyValue {
  return decodeOne({ attributes: [{ key: 'k', value }] }).attributes[0]!.value;
}

describe('decodeOtlpJson: the walkthrough payload', () => {
  it('decodes both spans with every field', () => {
    const { spans, rejected } = decodeOtlpJson(walkthrough, ctx);
    expect(rejected).toEqual([]);
    const resource = { attributes: [{ key: 'service.name', value: str('demo-pipeline') }], droppedAttributesCount: 0, schemaUrl: '' };
    const scope = { name: '', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: '' };
    const common = {
      tenantId: 'tenant-a',
      traceId: 'demo-trace-001',
      traceState: '',
      flags: 0,
      kind: 1,
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: { code: 1, message: '' },
      resource,
      scope,
      source: 'otlp-json',
      receivedAtMs: 1_700_000_100_000,
    };
    expect(spans).toStrictEqual([
      {
        ...common,
        spanId: 'span-001',
        parentSpanId: '',
        name: 'research_step',
        startTimeUnixNano: 1_700_000_000_000_000_000n,
        endTimeUnixNano: 1_700_000_002_000_000_000n,
        attributes: [
          { key: 'gen_ai.agent.name', value: str('researcher') },
          { key: 'gen_ai.request.model', value: str('claude-sonnet-4') },
          { key: 'gen_ai.usage.prompt_tokens', value: int(2000n) },
          { key: 'gen_ai.usage.completion_tokens', value: int(1500n) },
          { key: 'gen_ai.state', value: str('{"task": "research pricing", "status": "complete"}') },
        ],
      },
      {
        ...common,
        spanId: 'span-002',
        parentSpanId: 'span-001',
        name: 'writing_step',
        startTimeUnixNano: 1_700_000_002_000_000_000n,
        endTimeUnixNano: 1_700_000_005_000_000_000n,
        attributes: [
          { key: 'gen_ai.agent.name', value: str('writer') },
          { key: 'gen_ai.request.model', value: str('claude-sonnet-4') },
          { key: 'gen_ai.usage.prompt_tokens', value: int(3000n) },
          { key: 'gen_ai.usage.completion_tokens', value: int(2000n) },
          { key: 'gen_ai.state', value: str('{"task": "write report", "status": "complete"}') },
        ],
      },
    ]);
    // Spans of one resource and scope share those objects rather than copies.
    expect(spans[0]!.resource).toBe(spans[1]!.resource);
    expect(spans[0]!.scope).toBe(spans[1]!.scope);
  });

  it('decodes it the same after a JSON round trip and does not modify the input', () => {
    const text = JSON.stringify(walkthrough);
    const body: unknown = JSON.parse(text);
    const result = decodeOtlpJson(body, ctx);
    expect(result.spans).toHaveLength(2);
    expect(JSON.stringify(body)).toBe(text);
  });
});

describe('decodeOtlpJson: full fidelity', () => {
  it('keeps resource, scope, schema urls, events, links, status, flags, trace state and dropped counts', () => {
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }], droppedAttributesCount: 2 },
          schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
          scopeSpans: [
            {
              scope: { name: 'agent-sdk', version: '1.2.3', attributes: [{ key: 's', value: { boolValue: true } }], droppedAttributesCount: 1 },
              schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
              spans: [
                span({
                  parentSpanId: '0123456789ABCDEF',
                  traceState: 'vendor=abc',
                  flags: 257,
                  kind: 'SPAN_KIND_CLIENT',
                  droppedAttributesCount: 3,
                  droppedEventsCount: 4,
                  droppedLinksCount: 5,
                  events: [
                    {
                      timeUnixNano: '1700000000500000000',
                      name: 'gen_ai.content.prompt',
                      attributes: [{ key: 'gen_ai.prompt', value: { stringValue: 'hi' } }],
                      droppedAttributesCount: 6,
                    },
                    { timeUnixNano: 1_700_000_000_600, name: 'exception' },
                  ],
                  links: [
                    {
                      traceId: 'AAAAAAAAAAAAAAAAAAAAAQ==',
                      spanId: '00000000000000AB',
                      traceState: 'x=y',
                      attributes: [{ key: 'link.kind', value: { stringValue: 'follows' } }],
                      droppedAttributesCount: 7,
                      flags: 1,
                    },
                  ],
                  status: { code: 'STATUS_CODE_ERROR', message: 'tool failed' },
                }),
              ],
            },
          ],
        },
      ],
    };
    const s = only(decodeOtlpJson(body, ctx));
    expect(s.resource).toStrictEqual({
      attributes: [{ key: 'service.name', value: str('svc') }],
      droppedAttributesCount: 2,
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
    });
    expect(s.scope).toStrictEqual({
      name: 'agent-sdk',
      version: '1.2.3',
      attributes: [{ key: 's', value: { type: 'bool', value: true } }],
      droppedAttributesCount: 1,
      schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
    });
    expect(s.parentSpanId).toBe('0123456789abcdef');
    expect(s.traceState).toBe('vendor=abc');
    expect(s.flags).toBe(257);
    expect(s.kind).toBe(3);
    expect([s.droppedAttributesCount, s.droppedEventsCount, s.droppedLinksCount]).toEqual([3, 4, 5]);
    expect(s.events).toStrictEqual([
      {
        timeUnixNano: 1_700_000_000_500_000_000n,
        name: 'gen_ai.content.prompt',
        attributes: [{ key: 'gen_ai.prompt', value: str('hi') }],
        droppedAttributesCount: 6,
      },
      { timeUnixNano: 1_700_000_000_600n, name: 'exception', attributes: [], droppedAttributesCount: 0 },
    ]);
    expect(s.links).toStrictEqual([
      {
        traceId: '00000000000000000000000000000001',
        spanId: '00000000000000ab',
        traceState: 'x=y',
        attributes: [{ key: 'link.kind', value: str('follows') }],
        droppedAttributesCount: 7,
        flags: 1,
      },
    ]);
    expect(s.status).toStrictEqual({ code: 2, message: 'tool failed' });
  });

  it('defaults absent optional fields', () => {
    const s = decodeOne({ endTimeUnixNano: undefined });
    expect(s).toMatchObject({
      parentSpanId: '',
      traceState: '',
      flags: 0,
      kind: 0,
      attributes: [],
      droppedAttributesCount: 0,
      events: [],
      links: [],
      status: { code: 0, message: '' },
      resource: { attributes: [], droppedAttributesCount: 0, schemaUrl: '' },
      scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: '' },
    });
  });
});

describe('decodeOtlpJson: AnyValue', () => {
  it('converts every value type', () => {
    const s = decodeOne({
      attributes: [
        { key: 'string', value: { stringValue: 'text' } },
        { key: 'empty-string', value: { stringValue: '' } },
        { key: 'bool', value: { boolValue: false } },
        { key: 'int-number', value: { intValue: 42 } },
        { key: 'int-string', value: { intValue: '42' } },
        { key: 'int-max', value: { intValue: '9223372036854775807' } },
        { key: 'int-min', value: { intValue: '-9223372036854775808' } },
        { key: 'int-negative', value: { intValue: -17 } },
        { key: 'int-zero', value: { intValue: 0 } },
        { key: 'double', value: { doubleValue: 1.5 } },
        { key: 'double-int', value: { doubleValue: 3 } },
        { key: 'double-nan', value: { doubleValue: 'NaN' } },
        { key: 'double-inf', value: { doubleValue: 'Infinity' } },
        { key: 'double-neg-inf', value: { doubleValue: '-Infinity' } },
        { key: 'double-string', value: { doubleValue: '2.5e-3' } },
        { key: 'bytes', value: { bytesValue: 'aGVsbG8=' } },
        { key: 'bytes-url-unpadded', value: { bytesValue: '_-8' } },
        { key: 'bytes-empty', value: { bytesValue: '' } },
        { key: 'empty-object', value: {} },
        { key: 'missing-value' },
        { key: 'null-value', value: null },
        { key: 'unknown-fields', value: { somethingElse: 1 } },
      ],
    });
    const byKey = new Map(s.attributes.map((kv) => [kv.key, kv.value]));
    expect(byKey.get('string')).toStrictEqual(str('text'));
    expect(byKey.get('empty-string')).toStrictEqual(str(''));
    expect(byKey.get('bool')).toStrictEqual({ type: 'bool', value: false });
    expect(byKey.get('int-number')).toStrictEqual(int(42n));
    expect(byKey.get('int-string')).toStrictEqual(int(42n));
    expect(byKey.get('int-max')).toStrictEqual(int(9_223_372_036_854_775_807n));
    expect(byKey.get('int-min')).toStrictEqual(int(-9_223_372_036_854_775_808n));
    expect(byKey.get('int-negative')).toStrictEqual(int(-17n));
    expect(byKey.get('int-zero')).toStrictEqual(int(0n));
    expect(byKey.get('double')).toStrictEqual({ type: 'double', value: 1.5 });
    expect(byKey.get('double-int')).toStrictEqual({ type: 'double', value: 3 });
    expect(byKey.get('double-nan')).toStrictEqual({ type: 'double', value: Number.NaN });
    expect(byKey.get('double-inf')).toStrictEqual({ type: 'double', value: Number.POSITIVE_INFINITY });
    expect(byKey.get('double-neg-inf')).toStrictEqual({ type: 'double', value: Number.NEGATIVE_INFINITY });
    expect(byKey.get('double-string')).toStrictEqual({ type: 'double', value: 0.0025 });
    const bytes = byKey.get('bytes');
    expect(bytes?.type).toBe('bytes');
    expect(bytes?.type === 'bytes' && Array.from(bytes.value)).toEqual([104, 101, 108, 108, 111]);
    const urlBytes = byKey.get('bytes-url-unpadded');
    expect(urlBytes?.type === 'bytes' && Array.from(urlBytes.value)).toEqual([0xff, 0xef]);
    const emptyBytes = byKey.get('bytes-empty');
    expect(emptyBytes?.type === 'bytes' && emptyBytes.value.length).toBe(0);
    for (const key of ['empty-object', 'missing-value', 'null-value', 'unknown-fields']) {
      expect(byKey.get(key)).toStrictEqual({ type: 'empty' });
    }
  });

  it('decodes bytes into a Uint8Array of their own (not a view of a shared pool)', () => {
    const value = attributeValue({ bytesValue: 'AQID' });
    expect(value.type).toBe('bytes');
    if (value.type !== 'bytes') return;
    expect(value.value).toBeInstanceOf(Uint8Array);
    expect(value.value.byteOffset).toBe(0);
    expect(value.value.buffer.byteLength).toBe(3);
  });

  it('converts nested arrays and kvlists, including a kvlist inside an array', () => {
    const value = attributeValue({
      arrayValue: {
        values: [
          { stringValue: 'a' },
          { intValue: '-5' },
          {
            kvlistValue: {
              values: [
                { key: 'inner', value: { doubleValue: 0.25 } },
                { key: 'list', value: { arrayValue: { values: [{ boolValue: true }, {}] } } },
                { key: 'no-value' },
              ],
            },
          },
          { arrayValue: {} },
          { kvlistValue: { values: [] } },
        ],
      },
    });
    expect(value).toStrictEqual({
      type: 'array',
      values: [
        str('a'),
        int(-5n),
        {
          type: 'kvlist',
          values: [
            { key: 'inner', value: { type: 'double', value: 0.25 } },
            { key: 'list', value: { type: 'array', values: [{ type: 'bool', value: true }, { type: 'empty' }] } },
            { key: 'no-value', value: { type: 'empty' } },
          ],
        },
        { type: 'array', values: [] },
        { type: 'kvlist', values: [] },
      ],
    });
  });

  it('accepts nesting up to 32 levels and rejects deeper', () => {
    const nested = (levels: number): unknown => {
      let value: unknown = { stringValue: 'leaf' };
      for (let i = 1; i < levels; i++) value = { arrayValue: { values: [value] } };
      return value;
    };
    expect(attributeValue(nested(32)).type).toBe('array');
    const rejection = rejectedOne({ attributes: [{ key: 'deep', value: nested(33) }] });
    expect(rejection.path).toBe(
      `resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value${'.arrayValue.values[0]'.repeat(32)}`,
    );
    expect(rejection.reason).toMatch(/deeper than 32/);
  });

  it.each([
    [{ intValue: 1.5 }, '.intValue', /expected an integer/],
    [{ intValue: 'abc' }, '.intValue', /expected an integer/],
    [{ intValue: '1e3' }, '.intValue', /expected an integer/],
    [{ intValue: ' 12' }, '.intValue', /expected an integer/],
    [{ intValue: '9223372036854775808' }, '.intValue', /int64 range/],
    [{ intValue: true }, '.intValue', /expected an integer/],
    [{ doubleValue: 'abc' }, '.doubleValue', /expected a number/],
    [{ doubleValue: 'nan' }, '.doubleValue', /expected a number/],
    [{ bytesValue: 'not base64!' }, '.bytesValue', /expected base64/],
    [{ bytesValue: 'QQ=' }, '.bytesValue', /expected base64/],
    [{ stringValue: 5 }, '.stringValue', /expected a string/],
    [{ boolValue: 'true' }, '.boolValue', /expected a boolean/],
    [{ arrayValue: { values: 'x' } }, '.arrayValue.values', /expected an array/],
    [{ arrayValue: [] }, '.arrayValue', /expected an object/],
    [{ kvlistValue: { values: [{ key: 1 }] } }, '.kvlistValue.values[0].key', /expected a string/],
    [{ kvlistValue: { values: [{ key: 'a', value: { intValue: 'x' } }] } }, '.kvlistValue.values[0].value.intValue', /expected an integer/],
    ['just a string', '', /expected an AnyValue object/],
  ])('rejects the span for the invalid value %j, naming the attribute path', (value, suffix, reason) => {
    const rejection = rejectedOne({ attributes: [{ key: 'ok', value: { stringValue: 'x' } }, { key: 'bad', value }] });
    expect(rejection.path).toBe(`resourceSpans[0].scopeSpans[0].spans[0].attributes[1].value${suffix}`);
    expect(rejection.reason).toMatch(reason);
  });

  it('rejects attributes that are not a list of key/value objects', () => {
    expect(rejectedOne({ attributes: { key: 'a' } })).toMatchObject({
      path: 'resourceSpans[0].scopeSpans[0].spans[0].attributes',
      reason: expect.stringMatching(/expected an array/) as unknown,
    });
    expect(rejectedOne({ attributes: ['a'] }).path).toBe('resourceSpans[0].scopeSpans[0].spans[0].attributes[0]');
  });
});

describe('decodeOtlpJson: ids', () => {
  it('lowercases hex ids of the right length', () => {
    const s = decodeOne({ traceId: TRACE_HEX.toUpperCase(), spanId: SPAN_HEX.toUpperCase(), parentSpanId: 'ABCDEF0123456789' });
    expect([s.traceId, s.spanId, s.parentSpanId]).toEqual([TRACE_HEX, SPAN_HEX, 'abcdef0123456789']);
  });

  it('decodes base64 ids of 16 and 8 bytes to lowercase hex', () => {
    const s = decodeOne({ traceId: 'S+2Fn9l6AL6IdKnpIpNLgA==', spanId: 'ASNFZ4mrze8=', parentSpanId: '_ty6mHZUMhA=' });
    expect(s.traceId).toBe('4bed859fd97a00be8874a9e922934b80');
    expect(s.spanId).toBe('0123456789abcdef');
    expect(s.parentSpanId).toBe('fedcba9876543210');
  });

  it('keeps other ids verbatim', () => {
    const cases = [
      'demo-trace-001',
      ' spaced ',
      'ABCDEF', // hex, but not 16 bytes
      TRACE_HEX.slice(0, 16).toUpperCase(), // a 64-bit trace id: not the OTLP length, so verbatim
      'S+2Fn9l6AL6IdKnpIpNLgA', // unpadded base64: not taken as an encoded id
      'ASNFZ4mrze8=', // base64 of 8 bytes where a 16-byte trace id is expected
      'x'.repeat(256),
    ];
    for (const traceId of cases) expect(decodeOne({ traceId }).traceId).toBe(traceId);
    expect(decodeOne({ spanId: 'span-001' }).spanId).toBe('span-001');
    expect(decodeOne({ spanId: 'ASNFZ4mrze9=' }).spanId).toBe('ASNFZ4mrze9='); // non-canonical base64
  });

  it.each([
    [{ traceId: undefined }, '.traceId', /missing or empty/],
    [{ traceId: '' }, '.traceId', /missing or empty/],
    [{ traceId: null }, '.traceId', /missing or empty/],
    [{ spanId: '' }, '.spanId', /missing or empty/],
    [{ traceId: '0'.repeat(32) }, '.traceId', /all-zero trace id/],
    [{ traceId: 'AAAAAAAAAAAAAAAAAAAAAA==' }, '.traceId', /all-zero trace id/],
    [{ spanId: '0000000000000000' }, '.spanId', /all-zero span id/],
    [{ traceId: 'x'.repeat(257) }, '.traceId', /longer than 256/],
    [{ traceId: 123 }, '.traceId', /expected a string/],
    [{ parentSpanId: 'y'.repeat(300) }, '.parentSpanId', /longer than 256/],
    [{ links: [{ traceId: TRACE_HEX, spanId: '' }] }, '.links[0].spanId', /missing or empty/],
    [{ links: [{}, { traceId: '0'.repeat(32), spanId: SPAN_HEX }] }, '.links[0].traceId', /missing or empty/],
    [{ links: [{ traceId: TRACE_HEX, spanId: SPAN_HEX }, { traceId: '0'.repeat(32), spanId: SPAN_HEX }] }, '.links[1].traceId', /all-zero/],
  ])('rejects %j', (overrides, suffix, reason) => {
    const rejection = rejectedOne(overrides);
    expect(rejection.path).toBe(`resourceSpans[0].scopeSpans[0].spans[0]${suffix}`);
    expect(rejection.reason).toMatch(reason);
  });

  it('treats an empty, missing or all-zero parent span id as a root', () => {
    expect(decodeOne({ parentSpanId: '' }).parentSpanId).toBe('');
    expect(decodeOne({ parentSpanId: null }).parentSpanId).toBe('');
    expect(decodeOne({ parentSpanId: '0000000000000000' }).parentSpanId).toBe('');
    expect(decodeOne({ parentSpanId: 'AAAAAAAAAAA=' }).parentSpanId).toBe('');
  });
});

describe('decodeOtlpJson: times, kind, status, flags', () => {
  it('uses the start time when the end time is missing, zero or null', () => {
    for (const endTimeUnixNano of [undefined, null, '0', 0]) {
      const s = decodeOne({ endTimeUnixNano });
      expect(s.endTimeUnixNano).toBe(1_700_000_000_000_000_000n);
    }
  });

  it('accepts times as numbers and exact decimal strings beyond 2^53', () => {
    const s = decodeOne({ startTimeUnixNano: 1_000_000, endTimeUnixNano: '9223372036854775807' });
    expect(s.startTimeUnixNano).toBe(1_000_000n);
    expect(s.endTimeUnixNano).toBe(9_223_372_036_854_775_807n);
    expect(decodeOne({ startTimeUnixNano: '1700000000000000001', endTimeUnixNano: '1700000000000000001' }).startTimeUnixNano).toBe(
      1_700_000_000_000_000_001n,
    );
  });

  it.each([
    [{ startTimeUnixNano: undefined }, '.startTimeUnixNano', /missing/],
    [{ startTimeUnixNano: '0' }, '.startTimeUnixNano', /zero/],
    [{ startTimeUnixNano: '-5' }, '.startTimeUnixNano', /negative/],
    [{ startTimeUnixNano: -5 }, '.startTimeUnixNano', /negative/],
    [{ startTimeUnixNano: 'soon' }, '.startTimeUnixNano', /expected an integer/],
    [{ startTimeUnixNano: 1.5 }, '.startTimeUnixNano', /expected an integer/],
    [{ startTimeUnixNano: '18446744073709551616' }, '.startTimeUnixNano', /uint64 range/],
    // The raw topic stores times as int64 nanoseconds.
    [{ endTimeUnixNano: '9223372036854775808' }, '.endTimeUnixNano', /latest supported time/],
    [{ events: [{ timeUnixNano: '18446744073709551615' }] }, '.events[0].timeUnixNano', /latest supported time/],
    [{ endTimeUnixNano: 'later' }, '.endTimeUnixNano', /expected an integer/],
    [{ endTimeUnixNano: '1699999999999999999' }, '.endTimeUnixNano', /before the start time/],
    [{ name: undefined }, '.name', /OTLP requires a span name/],
    [{ name: 7 }, '.name', /expected a string/],
    [{ kind: 6 }, '.kind', /span kind/],
    [{ kind: 'SERVER' }, '.kind', /span kind/],
    [{ kind: '2' }, '.kind', /span kind/],
    [{ status: { code: 3 } }, '.status.code', /status code/],
    [{ status: { code: 'ERROR' } }, '.status.code', /status code/],
    [{ status: { message: 5 } }, '.status.message', /expected a string/],
    [{ status: 'ok' }, '.status', /expected an object/],
    [{ flags: -1 }, '.flags', /uint32 range/],
    [{ flags: 2 ** 32 }, '.flags', /uint32 range/],
    [{ droppedAttributesCount: 'many' }, '.droppedAttributesCount', /expected an integer/],
    [{ traceState: 1 }, '.traceState', /expected a string/],
    [{ events: {} }, '.events', /expected an array/],
    [{ events: [{ name: 'a' }, { timeUnixNano: 'x' }] }, '.events[1].timeUnixNano', /expected an integer/],
    [{ events: [{ attributes: [{ key: 'k', value: { intValue: 'x' } }] }] }, '.events[0].attributes[0].value.intValue', /integer/],
    [{ links: [{ traceId: TRACE_HEX, spanId: SPAN_HEX, flags: 'x' }] }, '.links[0].flags', /expected an integer/],
  ])('rejects %j', (overrides, suffix, reason) => {
    const rejection = rejectedOne(overrides);
    expect(rejection.path).toBe(`resourceSpans[0].scopeSpans[0].spans[0]${suffix}`);
    expect(rejection.reason).toMatch(reason);
  });

  it('accepts an empty name', () => {
    expect(decodeOne({ name: '' }).name).toBe('');
  });

  it('maps kind and status enum names to numbers', () => {
    const kinds = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
    kinds.forEach((kind, index) => {
      expect(decodeOne({ kind }).kind).toBe(index);
      expect(decodeOne({ kind: index }).kind).toBe(index);
    });
    const codes = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
    codes.forEach((code, index) => {
      expect(decodeOne({ status: { code, message: 'm' } }).status).toStrictEqual({ code: index, message: 'm' });
      expect(decodeOne({ status: { code: index } }).status).toStrictEqual({ code: index, message: '' });
    });
  });

  it('accepts flags and dropped counts as decimal strings (proto3 JSON)', () => {
    const s = decodeOne({ flags: '769', droppedLinksCount: '2' });
    expect(s.flags).toBe(769);
    expect(s.droppedLinksCount).toBe(2);
  });
});

describe('decodeOtlpJson: snake_case field names', () => {
  it('accepts the proto field names at every level', () => {
    const body = {
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }], dropped_attributes_count: 1 },
          schema_url: 'https://example.com/r',
          scope_spans: [
            {
              scope: { name: 'lib', version: '2', dropped_attributes_count: 2 },
              schema_url: 'https://example.com/s',
              spans: [
                {
                  trace_id: TRACE_HEX.toUpperCase(),
                  span_id: SPAN_HEX,
                  parent_span_id: '0123456789abcdef',
                  trace_state: 'a=b',
                  name: 'snake',
                  kind: 'SPAN_KIND_SERVER',
                  start_time_unix_nano: '1700000000000000000',
                  end_time_unix_nano: '1700000000000000009',
                  attributes: [
                    { key: 'i', value: { int_value: '9223372036854775807' } },
                    { key: 'd', value: { double_value: 'NaN' } },
                    { key: 'b', value: { bool_value: true } },
                    { key: 'y', value: { bytes_value: 'AQI=' } },
                    { key: 'a', value: { array_value: { values: [{ kvlist_value: { values: [{ key: 'k', value: { string_value: 'v' } }] } }] } } },
                  ],
                  dropped_attributes_count: 3,
                  events: [{ time_unix_nano: '1700000000000000001', name: 'e', dropped_attributes_count: 4 }],
                  dropped_events_count: 5,
                  links: [{ trace_id: TRACE_HEX, span_id: SPAN_HEX, trace_state: 't', dropped_attributes_count: 6 }],
                  dropped_links_count: 7,
                  status: { code: 'STATUS_CODE_OK' },
                },
              ],
            },
          ],
        },
      ],
    };
    const s = only(decodeOtlpJson(body, ctx));
    expect(s.resource).toStrictEqual({ attributes: [{ key: 'service.name', value: str('svc') }], droppedAttributesCount: 1, schemaUrl: 'https://example.com/r' });
    expect(s.scope).toStrictEqual({ name: 'lib', version: '2', attributes: [], droppedAttributesCount: 2, schemaUrl: 'https://example.com/s' });
    expect(s).toMatchObject({
      traceId: TRACE_HEX,
      spanId: SPAN_HEX,
      parentSpanId: '0123456789abcdef',
      traceState: 'a=b',
      name: 'snake',
      kind: 2,
      startTimeUnixNano: 1_700_000_000_000_000_000n,
      endTimeUnixNano: 1_700_000_000_000_000_009n,
      droppedAttributesCount: 3,
      droppedEventsCount: 5,
      droppedLinksCount: 7,
      status: { code: 1, message: '' },
    });
    expect(s.attributes.map((kv) => kv.value)).toStrictEqual([
      int(9_223_372_036_854_775_807n),
      { type: 'double', value: Number.NaN },
      { type: 'bool', value: true },
      { type: 'bytes', value: new Uint8Array([1, 2]) },
      { type: 'array', values: [{ type: 'kvlist', values: [{ key: 'k', value: str('v') }] }] },
    ]);
    expect(s.events).toStrictEqual([{ timeUnixNano: 1_700_000_000_000_000_001n, name: 'e', attributes: [], droppedAttributesCount: 4 }]);
    expect(s.links).toStrictEqual([{ traceId: TRACE_HEX, spanId: SPAN_HEX, traceState: 't', attributes: [], droppedAttributesCount: 6, flags: 0 }]);
  });

  it('names the snake_case keys the producer used in rejection paths', () => {
    const body = {
      resource_spans: [{ scope_spans: [{ spans: [{ trace_id: TRACE_HEX, span_id: SPAN_HEX, name: 'n', start_time_unix_nano: 'x' }] }] }],
    };
    expect(decodeOtlpJson(body, ctx).rejected).toEqual([
      { path: 'resource_spans[0].scope_spans[0].spans[0].start_time_unix_nano', reason: expect.stringMatching(/expected an integer/) as unknown },
    ]);
  });

  it('prefers the lowerCamelCase spelling when both are present', () => {
    expect(decodeOne({ trace_id: 'other-id' }).traceId).toBe(TRACE_HEX);
  });
});

describe('decodeOtlpJson: per-span rejection', () => {
  it('rejects only the invalid spans, with precise paths, and keeps the rest in order', () => {
    const body = {
      resourceSpans: [
        {
          scopeSpans: [
            { spans: [span({ name: 'a' })] },
            {
              spans: [
                span({ name: 'b' }),
                span({ name: 'bad-attr', attributes: [{ key: 'ok', value: { intValue: 1 } }, { key: 'n', value: { intValue: 'NaN' } }] }),
                span({ name: 'c' }),
                span({ name: 'bad-span-id', spanId: '0000000000000000' }),
                'not a span',
                span({ name: 'bad-end', endTimeUnixNano: '1' }),
                span({ name: 'd' }),
              ],
            },
          ],
        },
        { scopeSpans: [{ spans: [span({ name: 'e', startTimeUnixNano: undefined }), span({ name: 'f' })] }] },
      ],
    };
    const result = decodeOtlpJson(body, ctx);
    expect(result.spans.map((s) => s.name)).toEqual(['a', 'b', 'c', 'd', 'f']);
    expect(result.rejected.map((r) => r.path)).toEqual([
      'resourceSpans[0].scopeSpans[1].spans[1].attributes[1].value.intValue',
      'resourceSpans[0].scopeSpans[1].spans[3].spanId',
      'resourceSpans[0].scopeSpans[1].spans[4]',
      'resourceSpans[0].scopeSpans[1].spans[5].endTimeUnixNano',
      'resourceSpans[1].scopeSpans[0].spans[0].startTimeUnixNano',
    ]);
    expect(result.rejected.map((r) => r.reason)).toEqual([
      'expected an integer (number or decimal string), got the string "NaN"',
      'an all-zero span id is invalid',
      'expected a span object, got the string "not a span"',
      'before the start time (1 < 1700000000000000000)',
      'missing',
    ]);
  });

  it('rejects every span under a resource or scope whose content is invalid', () => {
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'x', value: { intValue: 'x' } }] },
          scopeSpans: [{ spans: [span(), span()] }, { spans: [span()] }],
        },
        {
          scopeSpans: [{ scope: { name: 5 }, spans: [span()] }, { scope: { name: 'fine' }, spans: [span({ name: 'kept' })] }],
        },
      ],
    };
    const result = decodeOtlpJson(body, ctx);
    expect(result.spans.map((s) => s.name)).toEqual(['kept']);
    const resourceReason = 'invalid resource: resourceSpans[0].resource.attributes[0].value.intValue: expected an integer (number or decimal string), got the string "x"';
    expect(result.rejected).toEqual([
      { path: 'resourceSpans[0].scopeSpans[0].spans[0]', reason: resourceReason },
      { path: 'resourceSpans[0].scopeSpans[0].spans[1]', reason: resourceReason },
      { path: 'resourceSpans[0].scopeSpans[1].spans[0]', reason: resourceReason },
      { path: 'resourceSpans[1].scopeSpans[0].spans[0]', reason: 'invalid scope: resourceSpans[1].scopeSpans[0].scope.name: expected a string, got the number 5' },
    ]);
  });
});

describe('decodeOtlpJson: request-level errors', () => {
  const cases: [unknown, string][] = [
    [null, 'request body: expected an object'],
    ['text', 'request body: expected an object'],
    [[], 'request body: expected an object'],
    [{ resourceSpans: {} }, 'resourceSpans: expected an array'],
    [{ resourceSpans: [5] }, 'resourceSpans[0]: expected an object'],
    [{ resourceSpans: [{ scopeSpans: 'x' }] }, 'resourceSpans[0].scopeSpans: expected an array'],
    [{ resourceSpans: [{ scopeSpans: [{}, 'x'] }] }, 'resourceSpans[0].scopeSpans[1]: expected an object'],
    [{ resourceSpans: [{ scopeSpans: [{ spans: {} }] }] }, 'resourceSpans[0].scopeSpans[0].spans: expected an array'],
    [{ resourceSpans: [{ resource: [] }] }, 'resourceSpans[0].resource: expected an object'],
    [{ resourceSpans: [{ schemaUrl: 1 }] }, 'resourceSpans[0].schemaUrl: expected a string'],
    [{ resourceSpans: [{ scopeSpans: [{ scope: 'lib' }] }] }, 'resourceSpans[0].scopeSpans[0].scope: expected an object'],
    [{ resource_spans: [{ scope_spans: [{ schema_url: false }] }] }, 'resource_spans[0].scope_spans[0].schema_url: expected a string'],
  ];

  it.each(cases)('rejects %j naming the path', (body, message) => {
    let thrown: unknown;
    try {
      decodeOtlpJson(body, ctx);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TracefoldError);
    expect(thrown).toMatchObject({ code: 'INVALID_REQUEST', statusCode: 400, message });
  });

  it('counts further problems in the message', () => {
    expect(() => decodeOtlpJson({ resourceSpans: [{ scopeSpans: 1 }, { scopeSpans: 2 }] }, ctx)).toThrow(
      'resourceSpans[0].scopeSpans: expected an array (and 1 more problem)',
    );
  });

  it('accepts an empty request and empty containers', () => {
    expect(decodeOtlpJson({}, ctx)).toEqual({ spans: [], rejected: [] });
    expect(decodeOtlpJson({ resourceSpans: [] }, ctx)).toEqual({ spans: [], rejected: [] });
    expect(decodeOtlpJson({ resourceSpans: [{}, { scopeSpans: [{}, { spans: [] }] }] }, ctx)).toEqual({ spans: [], rejected: [] });
    expect(decodeOtlpJson({ resourceSpans: null, partialSuccess: {} }, ctx)).toEqual({ spans: [], rejected: [] });
  });
});

describe('decodeOtlpJson: large payloads', () => {
  it('decodes a 1000-span payload with 20 attributes per span', () => {
    const { spans, rejected } = decodeOtlpJson(JSON.parse(largeOtlpPayload()), ctx);
    expect(rejected).toEqual([]);
    expect(spans).toHaveLength(1000);
    expect(spans.every((s) => s.attributes.length === 20)).toBe(true);
    expect(spans[17]!.attributes.slice(0, 5).map((kv) => kv.value.type)).toEqual(['string', 'int', 'double', 'bool', 'int']);
  });
});
