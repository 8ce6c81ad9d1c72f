import { describe, expect, it } from 'vitest';
import { decodeFlatSpans, FlatSpanError } from '../../../src/ingest/flat/spans.js';
import { TimeError, toUnixNano } from '../../../src/ingest/flat/time.js';
import { jsonToAnyValue, MAX_JSON_DEPTH } from '../../../src/ingest/flat/values.js';
import { findAttribute, type CanonicalSpan } from '../../../src/model/span.js';

const context = { tenantId: 'acme', receivedAtMs: 1_760_000_000_000 };

function decodeOne(span: Record<string, unknown>): CanonicalSpan {
  const [out] = decodeFlatSpans({ spans: [{ trace_id: 't1', span_id: 's1', ...span }] }, context);
  return out!;
}

function rejection(body: unknown): string {
  try {
    decodeFlatSpans(body, context);
  } catch (error) {
    if (error instanceof FlatSpanError) return error.message;
    throw error;
  }
  throw new Error('expected a FlatSpanError');
}

describe('JSON attributes → typed AnyValues', () => {
  it('types every JSON value', () => {
    expect(jsonToAnyValue('x')).toEqual({ type: 'string', value: 'x' });
    expect(jsonToAnyValue(true)).toEqual({ type: 'bool', value: true });
    expect(jsonToAnyValue(42)).toEqual({ type: 'int', value: 42n });
    expect(jsonToAnyValue(-7)).toEqual({ type: 'int', value: -7n });
    expect(jsonToAnyValue(0.25)).toEqual({ type: 'double', value: 0.25 });
    expect(jsonToAnyValue(2 ** 60)).toEqual({ type: 'double', value: 2 ** 60 });
    expect(jsonToAnyValue(null)).toEqual({ type: 'empty' });
    expect(jsonToAnyValue([1, 'a', [false]])).toEqual({
      type: 'array',
      values: [
        { type: 'int', value: 1n },
        { type: 'string', value: 'a' },
        { type: 'array', values: [{ type: 'bool', value: false }] },
      ],
    });
    expect(jsonToAnyValue({ b: 1, a: { c: 'x' } })).toEqual({
      type: 'kvlist',
      values: [
        { key: 'b', value: { type: 'int', value: 1n } },
        { key: 'a', value: { type: 'kvlist', values: [{ key: 'c', value: { type: 'string', value: 'x' } }] } },
      ],
    });
  });

  it('keeps nesting beyond the depth limit as JSON text instead of refusing it', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < MAX_JSON_DEPTH + 5; i++) deep = { d: deep };
    let value = jsonToAnyValue(deep);
    let levels = 0;
    while (value.type === 'kvlist') {
      value = value.values[0]!.value;
      levels++;
    }
    expect(levels).toBe(MAX_JSON_DEPTH);
    expect(value.type).toBe('string');
  });
});

describe('times', () => {
  it('reads ISO 8601 to the nanosecond, with zones', () => {
    expect(toUnixNano('2026-04-16T18:18:18.491929Z')).toBe(1_776_363_498_491_929_000n);
    expect(toUnixNano('2026-04-16T18:18:18.123456789Z')).toBe(1_776_363_498_123_456_789n);
    expect(toUnixNano('2026-04-16T20:18:18+02:00')).toBe(1_776_363_498_000_000_000n);
    expect(toUnixNano('2026-04-16T18:18:18')).toBe(1_776_363_498_000_000_000n);
  });

  it('reads epoch numbers in seconds, milliseconds, microseconds or nanoseconds by magnitude', () => {
    const ns = 1_776_363_498_000_000_000n;
    expect(toUnixNano(1_776_363_498)).toBe(ns);
    expect(toUnixNano(1_776_363_498.25)).toBe(ns + 250_000_000n);
    expect(toUnixNano(1_776_363_498_000)).toBe(ns);
    expect(toUnixNano(1_776_363_498_000_000)).toBe(ns);
    expect(toUnixNano('1776363498000000001')).toBe(ns + 1n);
    expect(toUnixNano('1776363498')).toBe(ns);
  });

  it('refuses what is not a time', () => {
    for (const bad of ['yesterday', '2026-02-30T00:00:00Z', -5, 0, null, {}]) expect(() => toUnixNano(bad)).toThrow(TimeError);
  });
});

describe('flat spans → canonical spans', () => {
  it('reads the seed fields, in either spelling', () => {
    const span = decodeOne({
      parent_id: 'p1',
      span_name: 'chat',
      span_kind: 'SPAN_KIND_CLIENT',
      start_time: '2026-04-16T18:18:18Z',
      end_time: '2026-04-16T18:18:19Z',
      status_code: 'STATUS_CODE_ERROR',
      status_message: 'boom',
      attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 10 },
    });
    expect(span).toMatchObject({ tenantId: 'acme', traceId: 't1', spanId: 's1', parentSpanId: 'p1', name: 'chat', kind: 3, source: 'flat-spans' });
    expect(span.status).toEqual({ code: 2, message: 'boom' });
    expect(span.endTimeUnixNano - span.startTimeUnixNano).toBe(1_000_000_000n);
    expect(findAttribute(span.attributes, 'gen_ai.usage.input_tokens')).toEqual({ type: 'int', value: 10n });
    const camel = decodeFlatSpans({ spans: [{ traceId: 'T', spanId: 'S', parentSpanId: 'P', name: 'n', kind: 'server', status: { code: 'ok' } }] }, context)[0]!;
    expect(camel).toMatchObject({ traceId: 'T', spanId: 'S', parentSpanId: 'P', kind: 2, status: { code: 1, message: '' } });
  });

  it('normalises hex ids as OTLP ingest does', () => {
    const span = decodeFlatSpans({ spans: [{ trace_id: 'F5A2EFB40895881E938E2EBC070BECA8', span_id: '15F3DF0731995245' }] }, context)[0]!;
    expect(span.traceId).toBe('f5a2efb40895881e938e2ebc070beca8');
    expect(span.spanId).toBe('15f3df0731995245');
  });

  it('parks unknown fields and unreadable values instead of rejecting the span', () => {
    const span = decodeOne({ kind: 'sideways', start_time: 'later', mystery: [1, 2], status: 'meh' });
    expect(findAttribute(span.attributes, 'tracefold.unsupported.kind')).toEqual({ type: 'string', value: 'sideways' });
    expect(findAttribute(span.attributes, 'tracefold.unsupported.start_time')).toEqual({ type: 'string', value: 'later' });
    expect(findAttribute(span.attributes, 'tracefold.unsupported.status')).toEqual({ type: 'string', value: 'meh' });
    expect(findAttribute(span.attributes, 'tracefold.unsupported.mystery')?.type).toBe('array');
    expect(findAttribute(span.attributes, 'tracefold.time_inferred')).toEqual({ type: 'bool', value: true });
    expect(span.startTimeUnixNano).toBe(BigInt(context.receivedAtMs) * 1_000_000n);
    expect(span.kind).toBe(0);
  });

  it('reads links as a list or by name, references whole, events with their times', () => {
    const span = decodeOne({
      links: { invocation: { trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' } },
      references: { evaluator: { slug: 'user-feedback' } },
      events: [{ name: 'exception', timestamp: '2026-04-16T18:18:18Z', attributes: { 'exception.message': 'x' } }],
    });
    expect(span.links).toEqual([
      {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceState: '',
        attributes: [{ key: 'link.name', value: { type: 'string', value: 'invocation' } }],
        droppedAttributesCount: 0,
        flags: 0,
      },
    ]);
    expect(findAttribute(span.attributes, 'tracefold.references')?.type).toBe('kvlist');
    expect(span.events[0]).toMatchObject({ name: 'exception', timeUnixNano: 1_776_363_498_000_000_000n });
  });

  it('takes a tree: names from keys, trace ids from the trace key, parents from nesting, siblings in lists', () => {
    const spans = decodeFlatSpans(
      {
        traces: {
          trace1: {
            spans: {
              root: { span_id: 'r', spans: { step: [{ span_id: 'a' }, { span_id: 'b', spans: { leaf: { span_id: 'c' } } }] } },
            },
          },
        },
      },
      context,
    );
    expect(spans.map((s) => [s.traceId, s.spanId, s.parentSpanId, s.name])).toEqual([
      ['trace1', 'r', '', 'root'],
      ['trace1', 'a', 'r', 'step'],
      ['trace1', 'b', 'r', 'step'],
      ['trace1', 'c', 'b', 'leaf'],
    ]);
  });

  it('rejects missing or invalid ids with the path of the field', () => {
    expect(rejection({ spans: [{ trace_id: 't' }] })).toBe('body.spans.0.span_id: missing');
    expect(rejection({ spans: [{ trace_id: 't', span_id: 's' }, { span_id: 's' }] })).toBe('body.spans.1.trace_id: missing');
    expect(rejection({ spans: [{ trace_id: 't', spanId: 42 }] })).toBe('body.spans.0.spanId: expected a string, got the number 42');
    expect(rejection({ spans: [{ trace_id: 't', span_id: '' }] })).toBe('body.spans.0.span_id: empty');
    expect(rejection({ traces: { t: { spans: { root: { name: 'x' } } } } })).toBe('body.traces.t.spans.root.span_id: missing');
    expect(rejection([{ span_id: 's' }])).toBe('body.0.trace_id: missing');
    expect(rejection({ spans: 'nope' })).toBe('body.spans: expected a list of spans');
    expect(rejection({})).toMatch(/^body: expected/);
  });
});
