/**
 * The OpenTelemetry JS SDK as a real producer: spans with GenAI attributes of every value
 * type the SDK supports, events, links, statuses, a remote parent with trace state, and a
 * resource, exported by the OTLP/HTTP protobuf and JSON exporters (plain and gzip) to a live
 * tracefold. Then the trace is read back through the API, and the raw topic is decoded with
 * the project's own codecs to check exact types (ints stayed ints, doubles doubles).
 */
import { randomBytes } from 'node:crypto';
import { createTraceState, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type AttributeValue } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodecs, createSchemaIds } from '../../src/log/serde/index.js';
import { TOPICS } from '../../src/log/topics.js';
import type { AnyValue, CanonicalSpan, KeyValue } from '../../src/model/span.js';
import { readRecords } from '../support/topic-reader.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];

/** Forwards to a real exporter and keeps what each export answered. */
class RecordingExporter implements SpanExporter {
  readonly results: ExportResult[] = [];
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      this.results.push(result);
      done(result);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

const RESOURCE: Attributes = {
  'service.name': 'otel-js-agent',
  'service.version': '1.4.2',
  'telemetry.sdk.language': 'nodejs',
  'host.cpu.count': 8,
  'process.load.ratio': 0.375,
  'feature.streaming': true,
  'deployment.regions': ['eu-west-1', 'us-east-1'],
};

const SCOPE = { name: 'tracefold-e2e-agent', version: '0.3.1' };

/** Every value type the SDK accepts for an attribute: string, int, double, bool and arrays of each. */
const CHAT_ATTRIBUTES: Attributes = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
  'gen_ai.response.model': 'gpt-4o-2024-08-06',
  'gen_ai.response.id': 'chatcmpl-123',
  'gen_ai.conversation.id': 'conv-42',
  'gen_ai.request.temperature': 0.7,
  'gen_ai.request.top_p': 0.95,
  'gen_ai.request.max_tokens': 1024,
  'gen_ai.usage.input_tokens': 1200,
  'gen_ai.usage.output_tokens': 345,
  'gen_ai.request.seed': -17,
  'gen_ai.request.stream': false,
  'gen_ai.cached': true,
  'gen_ai.response.finish_reasons': ['stop', 'length'],
  'gen_ai.request.stop_sequences': ['\n\n', 'END'],
  'gen_ai.request.token_ids': [1, 2, 3, 9_007_199_254_740_991],
  'gen_ai.request.logprobs': [-0.25, -1.5, 0.125],
  'gen_ai.request.flags': [true, false, true],
  'gen_ai.request.mixed_numbers': [1, 2.5],
  'gen_ai.big.int': Number.MAX_SAFE_INTEGER,
  'gen_ai.negative.double': -3.75,
  'gen_ai.empty.string': '',
  'gen_ai.unicode': 'héllo → 世界 ✓',
};

const TOOL_ATTRIBUTES: Attributes = {
  'gen_ai.operation.name': 'execute_tool',
  'gen_ai.tool.name': 'web_search',
  'gen_ai.tool.call.id': 'call_abc',
  'gen_ai.tool.call.arguments': '{"query":"otlp protobuf"}',
  'gen_ai.tool.retries': 2,
};

interface Run {
  readonly label: string;
  readonly traceId: string;
  readonly remoteParentSpanId: string;
  readonly spans: ReadableSpan[];
  readonly results: ExportResult[];
}

const hexId = (bytes: number) => randomBytes(bytes).toString('hex');

/** hrtime [seconds, nanos]: exact nanosecond timestamps. */
function at(base: number, offsetNanos: number): [number, number] {
  return [base + Math.floor(offsetNanos / 1e9), offsetNanos % 1e9];
}

async function emitRun(label: string, exporter: SpanExporter): Promise<Run> {
  const recorder = new RecordingExporter(exporter);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...RESOURCE, 'run.label': label }),
    spanProcessors: [new SimpleSpanProcessor(recorder)],
  });
  const tracer = provider.getTracer(SCOPE.name, SCOPE.version);
  const base = Math.floor(Date.now() / 1000) - 60;

  // A remote parent with trace state: the run continues a trace started elsewhere.
  const traceId = hexId(16);
  const remoteParentSpanId = hexId(8);
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId: remoteParentSpanId,
    traceFlags: 1,
    isRemote: true,
    traceState: createTraceState('tf=run,vendor=a1'),
  });

  const root = tracer.startSpan(
    'invoke_agent planner',
    {
      kind: SpanKind.SERVER,
      startTime: at(base, 1_000),
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner', 'gen_ai.agent.id': 'agent-7' },
    },
    parent,
  );
  const inRoot = trace.setSpan(parent, root);

  const chat = tracer.startSpan('chat gpt-4o', { kind: SpanKind.CLIENT, startTime: at(base, 10_000_123), attributes: CHAT_ATTRIBUTES }, inRoot);
  chat.addEvent(
    'gen_ai.user.message',
    { 'gen_ai.event.content': 'find OTLP docs', 'gen_ai.event.index': 0, 'gen_ai.event.score': 0.5, 'gen_ai.event.final': false, 'gen_ai.event.tags': ['a', 'b'] },
    at(base, 11_000_000),
  );
  chat.addEvent('gen_ai.choice', { 'gen_ai.event.finish_reason': 'stop', 'gen_ai.event.logprobs': [-0.5, -0.25] }, at(base, 50_000_000));
  chat.setStatus({ code: SpanStatusCode.OK });
  chat.end(at(base, 60_000_456));

  const external = { traceId: hexId(16), spanId: hexId(8), traceFlags: 1, traceState: createTraceState('ext=1') };
  const tool = tracer.startSpan(
    'execute_tool web_search',
    {
      kind: SpanKind.INTERNAL,
      startTime: at(base, 70_000_000),
      attributes: TOOL_ATTRIBUTES,
      links: [
        { context: chat.spanContext(), attributes: { 'link.reason': 'caused_by', 'link.weight': 2, 'link.score': 0.5, 'link.sync': true } },
        { context: external, attributes: { 'link.kind': ['batch', 'fan-in'] } },
      ],
    },
    inRoot,
  );
  tool.recordException(Object.assign(new Error('search backend unavailable'), { name: 'BackendError' }), at(base, 80_000_000));
  tool.setStatus({ code: SpanStatusCode.ERROR, message: 'search backend unavailable' });
  tool.end(at(base, 90_000_000));
  root.end(at(base, 100_000_000));

  await provider.forceFlush();
  await provider.shutdown();
  return { label, traceId, remoteParentSpanId, spans: [], results: recorder.results };
}

/** The canonical value an SDK attribute value must become (JS numbers: integers → int, others → double). */
function expectedValue(value: AttributeValue | null | undefined): AnyValue {
  if (value === null || value === undefined) return { type: 'empty' };
  if (Array.isArray(value)) return { type: 'array', values: (value as unknown[]).map((v) => expectedValue(v as AttributeValue)) };
  if (typeof value === 'string') return { type: 'string', value };
  if (typeof value === 'boolean') return { type: 'bool', value };
  if (typeof value === 'number') return Number.isInteger(value) ? { type: 'int', value: BigInt(value) } : { type: 'double', value };
  throw new Error(`unexpected attribute value ${String(value)}`);
}

function expectedAttributes(attributes: Attributes): KeyValue[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: expectedValue(value) }));
}

const sortByKey = (list: readonly KeyValue[]) => [...list].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/** Every raw span record of `traceId`, decoded with the project's codecs. */
async function rawSpans(server: TestServer, tenantId: string, traceId: string): Promise<CanonicalSpan[]> {
  const log = server.tracefold.log;
  const codecs = await createCodecs(createSchemaIds(null));
  const prefix = `${tenantId}/${traceId}`;
  const records = await readRecords(log, TOPICS.raw, (r) => r.key?.toString() === prefix);
  const spans: CanonicalSpan[] = [];
  for (const record of records) {
    const event = await codecs.rawEvent.decode(record.value!);
    if (event.type === 'span') spans.push(event.span);
  }
  return spans;
}

describe('the OpenTelemetry JS SDK exporting to tracefold', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;

  beforeAll(async () => {
    server = await startServer({ TRACEFOLD_INACTIVITY_GAP_MS: '60000' });
    tenant = await createTenant(server.url, 'otel-js');
  });
  afterAll(async () => {
    await server?.stop();
  });

  const headers = () => ({ Authorization: `Bearer ${tenant.apiKey}` });
  const exporters: { label: string; source: CanonicalSpan['source']; make: () => SpanExporter }[] = [
    { label: 'protobuf', source: 'otlp-proto', make: () => new OTLPProtoExporter({ url: `${server.url}/v1/traces`, headers: headers() }) },
    {
      label: 'protobuf + gzip',
      source: 'otlp-proto',
      make: () => new OTLPProtoExporter({ url: `${server.url}/v1/traces`, headers: headers(), compression: 'gzip' as never }),
    },
    { label: 'json', source: 'otlp-json', make: () => new OTLPHttpJsonExporter({ url: `${server.url}/v1/traces`, headers: headers() }) },
    {
      label: 'json + gzip',
      source: 'otlp-json',
      make: () => new OTLPHttpJsonExporter({ url: `${server.url}/v1/traces`, headers: headers(), compression: 'gzip' as never }),
    },
    {
      label: 'protobuf + gzip to the tenant path',
      source: 'otlp-proto',
      make: () =>
        new OTLPProtoExporter({
          url: `${server.url}/api/v1/tenants/${tenant.tenantId}/traces/ingest`,
          headers: headers(),
          compression: 'gzip' as never,
        }),
    },
  ];

  const canonical: CanonicalSpan[][] = [];

  it.each(exporters)('$label: every attribute, event, link, status and the resource arrive intact', async ({ label, source, make }) => {
    const run = await emitRun(label, make());
    expect(run.results.length).toBe(3);
    for (const result of run.results) expect(result.error?.message, label).toBeUndefined();
    expect(run.results.map((r) => r.code)).toEqual([0, 0, 0]); // ExportResultCode.SUCCESS

    // Through the API: close the window, then read the trace.
    const analyzed = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${run.traceId}/analyze`, 'POST', { token: tenant.token });
    expect(analyzed.status).toBe(200);
    const got = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${run.traceId}`, 'GET', { token: tenant.token });
    expect(got.status).toBe(200);
    expect(got.body.span_count).toBe(3);
    expect(got.body.service_name).toBe('otel-js-agent');
    expect(got.body.has_error).toBe(true);
    // The run's root has a remote parent, never seen in this trace: it hangs under the
    // synthetic "(missing parent)" node, flagged as an orphan.
    const [missingParent] = got.body.spans;
    expect(missingParent).toMatchObject({ span_id: null, synthetic: true });
    expect(got.body.orphan_span_ids).toHaveLength(1);
    const [rootNode] = missingParent.children;
    expect(rootNode.name).toBe('invoke_agent planner');
    expect(rootNode.orphan).toBe(true);
    expect(rootNode.parent_span_id).toBe(run.remoteParentSpanId);
    expect(rootNode.resource).toEqual({ ...RESOURCE, 'run.label': label, ...pick(rootNode.resource, ['telemetry.sdk.name', 'telemetry.sdk.version']) });
    expect(rootNode.scope).toEqual(SCOPE);
    const byName = new Map<string, any>(rootNode.children.map((c: any) => [c.name, c]));
    const chat = byName.get('chat gpt-4o');
    expect(chat.attributes).toEqual(CHAT_ATTRIBUTES);
    expect(chat.status).toEqual({ code: 1, message: '' });
    expect(chat.kind).toBe(3);
    expect(chat.operation).toBe('chat');
    expect(chat.model).toBe('gpt-4o');
    expect(chat.input_tokens).toBe(1200);
    expect(chat.output_tokens).toBe(345);
    expect(chat.events.map((e: any) => [e.name, e.attributes])).toEqual([
      ['gen_ai.user.message', { 'gen_ai.event.content': 'find OTLP docs', 'gen_ai.event.index': 0, 'gen_ai.event.score': 0.5, 'gen_ai.event.final': false, 'gen_ai.event.tags': ['a', 'b'] }],
      ['gen_ai.choice', { 'gen_ai.event.finish_reason': 'stop', 'gen_ai.event.logprobs': [-0.5, -0.25] }],
    ]);
    const tool = byName.get('execute_tool web_search');
    expect(tool.attributes).toEqual(TOOL_ATTRIBUTES);
    expect(tool.status).toEqual({ code: 2, message: 'search backend unavailable' });
    expect(tool.tool).toBe('web_search');
    expect(tool.events).toHaveLength(1);
    expect(tool.events[0].name).toBe('exception');
    expect(tool.events[0].attributes).toMatchObject({ 'exception.type': 'BackendError', 'exception.message': 'search backend unavailable' });
    expect(tool.events[0].attributes['exception.stacktrace']).toContain('search backend unavailable');
    expect(tool.links).toEqual([
      { trace_id: run.traceId, span_id: chat.span_id, attributes: { 'link.reason': 'caused_by', 'link.weight': 2, 'link.score': 0.5, 'link.sync': true } },
      { trace_id: expect.stringMatching(/^[0-9a-f]{32}$/), span_id: expect.stringMatching(/^[0-9a-f]{16}$/), attributes: { 'link.kind': ['batch', 'fan-in'] } },
    ]);

    // The raw topic: exact canonical types.
    const spans = await rawSpans(server, tenant.tenantId, run.traceId);
    expect(spans).toHaveLength(3);
    for (const s of spans) {
      expect(s.source).toBe(source);
      expect(s.traceId).toBe(run.traceId);
      expect(s.scope).toMatchObject({ name: SCOPE.name, version: SCOPE.version });
      expect(sortByKey(s.resource.attributes.filter((kv) => !kv.key.startsWith('telemetry.sdk.') || kv.key === 'telemetry.sdk.language'))).toEqual(
        sortByKey(expectedAttributes({ ...RESOURCE, 'run.label': label })),
      );
    }
    const raw = new Map(spans.map((s) => [s.name, s]));
    const rawRoot = raw.get('invoke_agent planner')!;
    expect(rawRoot.parentSpanId).toBe(run.remoteParentSpanId);
    expect(rawRoot.traceState).toBe('tf=run,vendor=a1');
    // Sampled, with a remote parent: W3C flags 0x01 plus OTLP's "has is_remote" and "is_remote" bits.
    expect(rawRoot.flags).toBe(0x301);
    expect(rawRoot.kind).toBe(2);
    const rawChat = raw.get('chat gpt-4o')!;
    expect(rawChat.attributes).toEqual(expectedAttributes(CHAT_ATTRIBUTES));
    expect(rawChat.traceState).toBe('tf=run,vendor=a1');
    expect(rawChat.flags).toBe(0x101);
    expect(rawChat.endTimeUnixNano - rawChat.startTimeUnixNano).toBe(50_000_333n);
    expect(rawChat.startTimeUnixNano % 1_000_000_000n).toBe(10_000_123n);
    expect(rawChat.status).toEqual({ code: 1, message: '' });
    expect(rawChat.events.map((e) => ({ name: e.name, attributes: e.attributes }))).toEqual([
      {
        name: 'gen_ai.user.message',
        attributes: expectedAttributes({ 'gen_ai.event.content': 'find OTLP docs', 'gen_ai.event.index': 0, 'gen_ai.event.score': 0.5, 'gen_ai.event.final': false, 'gen_ai.event.tags': ['a', 'b'] }),
      },
      { name: 'gen_ai.choice', attributes: expectedAttributes({ 'gen_ai.event.finish_reason': 'stop', 'gen_ai.event.logprobs': [-0.5, -0.25] }) },
    ]);
    expect(rawChat.events[0]!.timeUnixNano - rawChat.startTimeUnixNano).toBe(999_877n);
    const rawTool = raw.get('execute_tool web_search')!;
    expect(rawTool.attributes).toEqual(expectedAttributes(TOOL_ATTRIBUTES));
    expect(rawTool.status).toEqual({ code: 2, message: 'search backend unavailable' });
    expect(rawTool.links).toHaveLength(2);
    expect(rawTool.links[0]).toEqual({
      traceId: run.traceId,
      spanId: rawChat.spanId,
      traceState: 'tf=run,vendor=a1',
      attributes: expectedAttributes({ 'link.reason': 'caused_by', 'link.weight': 2, 'link.score': 0.5, 'link.sync': true }),
      droppedAttributesCount: 0,
      flags: 0x101,
    });
    expect(rawTool.links[1]).toMatchObject({ traceState: 'ext=1', attributes: expectedAttributes({ 'link.kind': ['batch', 'fan-in'] }), flags: 0x101 });
    canonical.push(spans);
  });

  it('gives the same canonical spans whichever exporter sent them', () => {
    expect(canonical).toHaveLength(exporters.length);
    // Ids, times and the run label differ between runs; everything else must not.
    const shape = (spans: CanonicalSpan[]) =>
      [...spans]
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((s) => ({
          name: s.name,
          kind: s.kind,
          flags: s.flags,
          traceState: s.traceState,
          attributes: s.attributes,
          events: s.events.map((e) => ({ name: e.name, attributes: e.name === 'exception' ? e.attributes.filter((kv) => kv.key !== 'exception.stacktrace') : e.attributes })),
          links: s.links.map((l) => ({ traceState: l.traceState, attributes: l.attributes, flags: l.flags })),
          status: s.status,
          duration: s.endTimeUnixNano - s.startTimeUnixNano,
          resource: s.resource.attributes.filter((kv) => kv.key !== 'run.label'),
          scope: s.scope,
        }));
    const first = shape(canonical[0]!);
    for (const other of canonical.slice(1)) expect(shape(other)).toEqual(first);
  });
});

function pick(object: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in object).map((k) => [k, object[k]]));
}
