/**
 * A real Python producer against a live tracefold: the OpenTelemetry Python SDK with its
 * OTLP/HTTP protobuf exporter (test/fixtures/python/export_spans.py, versions pinned in
 * test/fixtures/python/requirements.txt) exports a small agent run to POST /v1/traces, one
 * request gzip-compressed. The spans must arrive intact: read back from the raw topic
 * (every AnyValue with its type: ints as int64, whole-number doubles as doubles, bytes,
 * arrays, kvlists), and through the API (span tree, analysis with a tool_failure detection).
 *
 * Needs the virtualenv of scripts/python-env.sh (.cache/python-venv, or TRACEFOLD_PYTHON).
 * Without it the suite is skipped with a warning, except under CI (CI set, or
 * TRACEFOLD_REQUIRE_PYTHON=1 as .ci/run sets), where it fails.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/log/port.js';
import { createCodecs } from '../../src/log/serde/index.js';
import { createSchemaIds } from '../../src/log/serde/registry-schema-ids.js';
import { TOPICS } from '../../src/log/topics.js';
import type { AnyValue, CanonicalSpan, KeyValue } from '../../src/model/span.js';
import { readRecords } from '../support/topic-reader.js';
import { pythonEnvironment } from '../support/python.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { python: PYTHON, available: AVAILABLE, skip: SKIP } = pythonEnvironment('main', 'the OpenTelemetry Python SDK test');
const SCRIPT = path.join(root, 'test', 'fixtures', 'python', 'export_spans.py');
const REQUIREMENTS = path.join(root, 'test', 'fixtures', 'python', 'requirements.txt');

/** What export_spans.py prints. */
interface ExportReport {
  readonly ok: boolean;
  readonly trace_id: string;
  readonly previous_trace_id: string;
  readonly span_ids: { previous_run: string; invoke_agent: string; chat: string; execute_tool: string };
  readonly scope: { name: string; version: string; schema_url: string };
  readonly exports: { compression: string; spans: string[]; result: string }[];
}

function pinnedVersion(pkg: string): string {
  const m = new RegExp(`^${pkg}==(\\S+)\\s*$`, 'm').exec(fs.readFileSync(REQUIREMENTS, 'utf8'));
  if (m === null) throw new Error(`${pkg} is not pinned in ${REQUIREMENTS}`);
  return m[1]!;
}

/** Runs the Python producer; a non-zero exit fails with the exporter's log (e.g. the HTTP status). */
async function runProducer(endpoint: string, apiKey: string, traceId: string): Promise<ExportReport> {
  // The SDK reads OTEL_* variables (resource attributes, headers, compression); keep them out.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  try {
    const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, '--endpoint', endpoint, '--api-key', apiKey, '--trace-id', traceId], {
      env: { ...env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      timeout: 60_000,
    });
    return JSON.parse(stdout) as ExportReport;
  } catch (err) {
    const e = err as { code?: unknown; signal?: unknown; stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${path.relative(root, SCRIPT)} failed (exit ${String(e.code ?? e.signal)}): ${e.message}\n--- stderr\n${e.stderr ?? ''}\n--- stdout\n${e.stdout ?? ''}`,
    );
  }
}

/** Every record of `topic` whose key is one of `keys`. */
function readBack(server: TestServer, topic: string, keys: readonly string[]): Promise<LogRecord[]> {
  const wanted = new Set(keys);
  return readRecords(server.tracefold.log, topic, (r) => r.key !== null && wanted.has(r.key.toString()));
}

/**
 * AnyValue with its type spelled out and nothing lossy: ints as decimal strings, bytes as
 * hex. Makes type mix-ups (an int where a double was sent) show in the diff.
 */
type Typed =
  | { empty: null }
  | { string: string }
  | { bool: boolean }
  | { int: string }
  | { double: number }
  | { bytes: string }
  | { array: Typed[] }
  | { kvlist: [string, Typed][] };

function typed(value: AnyValue): Typed {
  switch (value.type) {
    case 'empty':
      return { empty: null };
    case 'string':
      return { string: value.value };
    case 'bool':
      return { bool: value.value };
    case 'int':
      return { int: value.value.toString() };
    case 'double':
      return { double: value.value };
    case 'bytes':
      return { bytes: Buffer.from(value.value).toString('hex') };
    case 'array':
      return { array: value.values.map(typed) };
    case 'kvlist':
      return { kvlist: typedList(value.values) };
  }
}

function typedList(list: readonly KeyValue[]): [string, Typed][] {
  return list.map((kv) => [kv.key, typed(kv.value)]);
}

const str = (value: string): Typed => ({ string: value });
const bool = (value: boolean): Typed => ({ bool: value });
const int = (value: number | bigint): Typed => ({ int: BigInt(value).toString() });
const dbl = (value: number): Typed => ({ double: value });
const arr = (...values: Typed[]): Typed => ({ array: values });
const kvlist = (...values: [string, Typed][]): Typed => ({ kvlist: values });

describe.skipIf(SKIP)('OpenTelemetry Python SDK → POST /v1/traces (OTLP/HTTP protobuf)', () => {
  let server: TestServer;

  beforeAll(async () => {
    if (!AVAILABLE) {
      throw new Error(`no Python environment at ${PYTHON}: run bash scripts/python-env.sh (.ci/run does) before the tests`);
    }
    server = await startServer({ TRACEFOLD_INACTIVITY_GAP_MS: '60000' });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('receives every span, attribute type, event, link, status, resource and scope intact', async () => {
    const tenant = await createTenant(server.url, 'otel-python');
    const traceId = randomBytes(16).toString('hex');
    const before = BigInt(Date.now() - 1000) * 1_000_000n;
    const report = await runProducer(`${server.url}/v1/traces`, tenant.apiKey, traceId);
    const after = BigInt(Date.now() + 1000) * 1_000_000n;

    // The producer's own view: every export succeeded, one of them gzip-compressed.
    expect(report.ok).toBe(true);
    expect(report.trace_id).toBe(traceId);
    expect(report.exports.length).toBeGreaterThanOrEqual(2);
    for (const call of report.exports) expect(call.result).toBe('SUCCESS');
    expect(report.exports.find((c) => c.compression === 'gzip')?.spans.sort()).toEqual(['execute_tool web_search', 'previous_run']);
    expect(report.exports.filter((c) => c.compression === 'none').flatMap((c) => c.spans).sort()).toEqual([
      'chat gpt-4o-mini',
      'invoke_agent researcher',
    ]);
    const ids = report.span_ids;

    // ---- the raw topic: canonical spans exactly as the producer sent them
    const codecs = await createCodecs(createSchemaIds(server.config.schemaRegistryUrl));
    const runKey = `${tenant.tenantId}/${traceId}`;
    const previousKey = `${tenant.tenantId}/${report.previous_trace_id}`;
    const records = await readBack(server, TOPICS.raw, [runKey, previousKey]);
    const spans: CanonicalSpan[] = [];
    for (const record of records) {
      const event = await codecs.rawEvent.decode(record.value!);
      if (event.type === 'span') spans.push(event.span);
    }
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    expect([...byId.keys()].sort()).toEqual(Object.values(ids).sort());
    expect(spans).toHaveLength(4);
    const rootSpan = byId.get(ids.invoke_agent)!;
    const chat = byId.get(ids.chat)!;
    const tool = byId.get(ids.execute_tool)!;
    const previous = byId.get(ids.previous_run)!;

    const sdkVersion = pinnedVersion('opentelemetry-sdk');
    for (const span of spans) {
      expect(span.tenantId).toBe(tenant.tenantId);
      expect(span.source).toBe('otlp-proto');
      expect(span.startTimeUnixNano).toBeGreaterThan(before);
      expect(span.endTimeUnixNano).toBeLessThan(after);
      expect(span.endTimeUnixNano).toBeGreaterThanOrEqual(span.startTimeUnixNano);
      // SpanFlags: the SDK sets "context has is_remote" (0x100); no parent here is remote.
      expect(span.flags).toBe(0x100);
      expect(span.droppedAttributesCount).toBe(0);
      expect(span.droppedEventsCount).toBe(0);
      expect(span.droppedLinksCount).toBe(0);

      // Resource: ours with their types, plus what the SDK adds.
      const resource = new Map(typedList(span.resource.attributes));
      expect(Object.fromEntries(resource)).toMatchObject({
        'service.name': str('py-research-agent'),
        'service.version': str('2.4.0'),
        'deployment.environment.name': str('test'),
        'service.instance.replicas': int(3),
        'host.cpu.load': dbl(0.625),
        'feature.tools_enabled': bool(true),
        'cloud.availability_zones': arr(str('eu-west-1a'), str('eu-west-1b')),
        'telemetry.sdk.language': str('python'),
        'telemetry.sdk.name': str('opentelemetry'),
        'telemetry.sdk.version': str(sdkVersion),
      });
      expect(span.resource.schemaUrl).toBe('https://opentelemetry.io/schemas/1.37.0');
      expect(span.resource.droppedAttributesCount).toBe(0);

      expect(span.scope.name).toBe(report.scope.name);
      expect(span.scope.version).toBe(report.scope.version);
      expect(span.scope.schemaUrl).toBe(report.scope.schema_url);
      expect(typedList(span.scope.attributes)).toEqual([
        ['fixture.language', str('python')],
        ['fixture.revision', int(7)],
      ]);
    }
    expect(previous.traceId).toBe(report.previous_trace_id);
    expect(previous.parentSpanId).toBe('');
    for (const span of [rootSpan, chat, tool]) expect(span.traceId).toBe(traceId);

    // invoke_agent: the root, linked to the earlier run.
    expect(rootSpan.name).toBe('invoke_agent researcher');
    expect(rootSpan.parentSpanId).toBe('');
    expect(rootSpan.kind).toBe(1);
    expect(rootSpan.status).toEqual({ code: 0, message: '' });
    expect(typedList(rootSpan.attributes)).toEqual([
      ['gen_ai.operation.name', str('invoke_agent')],
      ['gen_ai.agent.name', str('researcher')],
      ['gen_ai.agent.id', str('agent-7f3a')],
      ['gen_ai.conversation.id', str('conv-0042')],
    ]);
    expect(rootSpan.links).toHaveLength(1);
    const link = rootSpan.links[0]!;
    expect(link.traceId).toBe(report.previous_trace_id);
    expect(link.spanId).toBe(ids.previous_run);
    expect(link.flags).toBe(0x100);
    expect(link.droppedAttributesCount).toBe(0);
    expect(typedList(link.attributes)).toEqual([
      ['link.reason', str('retry_of')],
      ['link.attempt', int(2)],
      ['link.same_agent', bool(true)],
    ]);

    // chat: every value type, in the order the producer set them.
    expect(chat.name).toBe('chat gpt-4o-mini');
    expect(chat.parentSpanId).toBe(ids.invoke_agent);
    expect(chat.kind).toBe(3);
    expect(chat.status).toEqual({ code: 0, message: '' });
    expect(typedList(chat.attributes)).toEqual([
      ['gen_ai.operation.name', str('chat')],
      ['gen_ai.provider.name', str('openai')],
      ['gen_ai.request.model', str('gpt-4o-mini')],
      ['gen_ai.response.model', str('gpt-4o-mini-2024-07-18')],
      ['gen_ai.response.id', str('chatcmpl-9xYz')],
      ['gen_ai.usage.input_tokens', int(1234)],
      ['gen_ai.usage.output_tokens', int(56)],
      ['gen_ai.request.max_tokens', int(512)],
      ['gen_ai.request.temperature', dbl(0.7)],
      ['gen_ai.request.top_p', dbl(1)],
      ['gen_ai.request.frequency_penalty', dbl(-0.5)],
      ['gen_ai.request.stop_sequences', arr(str('\n\nHuman:'), str('END'))],
      ['gen_ai.request.stream', bool(true)],
      ['gen_ai.response.finish_reasons', arr(str('stop'))],
      ['gen_ai.request.seed', int(-42)],
      ['test.int64.max', int(9223372036854775807n)],
      ['test.int64.beyond_double', int(9007199254740993n)],
      ['test.int_array', arr(int(1), int(-2), int(3000000000))],
      ['test.double_array', arr(dbl(0.25), dbl(-1.5), dbl(3))],
      ['test.bool_array', arr(bool(true), bool(false), bool(true))],
      ['test.empty_array', arr()],
      ['test.unicode', str('h\u00e9llo \u4e16\u754c \u{1f680}')],
      ['test.bytes', { bytes: '0001feff' }],
      ['test.kvlist', kvlist(['region', str('eu')], ['shards', int(4)], ['ratio', dbl(0.5)], ['nested', kvlist(['ok', bool(true)])])],
      ['test.mixed_array', arr(str('a'), int(1), dbl(2.5), bool(false))],
    ]);
    expect(chat.events).toHaveLength(1);
    const choice = chat.events[0]!;
    expect(choice.name).toBe('gen_ai.choice');
    expect(choice.timeUnixNano).toBeGreaterThanOrEqual(chat.startTimeUnixNano);
    expect(choice.timeUnixNano).toBeLessThanOrEqual(chat.endTimeUnixNano);
    expect(choice.droppedAttributesCount).toBe(0);
    expect(typedList(choice.attributes)).toEqual([
      ['index', int(0)],
      ['finish_reason', str('stop')],
      ['logprob', dbl(-0.125)],
      ['cached', bool(false)],
      ['token_ids', arr(int(101), int(2023), int(102))],
    ]);

    // execute_tool: ERROR status and the recorded exception (sent gzip-compressed).
    expect(tool.name).toBe('execute_tool web_search');
    expect(tool.parentSpanId).toBe(ids.invoke_agent);
    expect(tool.kind).toBe(1);
    expect(tool.status).toEqual({ code: 2, message: 'search backend timed out' });
    expect(typedList(tool.attributes)).toEqual([
      ['gen_ai.operation.name', str('execute_tool')],
      ['gen_ai.tool.name', str('web_search')],
      ['gen_ai.tool.type', str('function')],
      ['gen_ai.tool.call.id', str('call_abc123')],
      ['gen_ai.tool.call.arguments', str('{"query": "tracefold"}')],
    ]);
    expect(tool.events.map((e) => e.name)).toEqual(['exception']);
    const exception = tool.events[0]!;
    expect(exception.timeUnixNano).toBeGreaterThanOrEqual(tool.startTimeUnixNano);
    expect(exception.timeUnixNano).toBeLessThanOrEqual(tool.endTimeUnixNano);
    const exceptionAttrs = Object.fromEntries(typedList(exception.attributes));
    expect(exceptionAttrs).toMatchObject({
      'exception.type': str('TimeoutError'),
      'exception.message': str('search backend timed out after 30s'),
      'tool.retryable': bool(true),
      'tool.attempt': int(3),
    });
    expect((exceptionAttrs['exception.stacktrace'] as { string: string }).string).toMatch(
      /^Traceback \(most recent call last\):[\s\S]*TimeoutError: search backend timed out after 30s/,
    );

    // ---- the API: analysis finds the failed tool call
    const analyzed = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
    expect(analyzed.status, JSON.stringify(analyzed.body)).toBe(200);
    expect(analyzed.body.has_failures).toBe(true);
    const toolFailures = analyzed.body.all_detections.filter((d: any) => d.detection_type === 'tool_failure');
    expect(toolFailures).toHaveLength(1);
    // The model call that produced the failing input comes first, then the failed call.
    expect(toolFailures[0].affected_span_ids).toEqual([ids.chat, ids.execute_tool]);
    expect(toolFailures[0].description).toContain('search backend timed out');

    const detail = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}`, 'GET', { token: tenant.token });
    expect(detail.status, JSON.stringify(detail.body)).toBe(200);
    expect(detail.body).toMatchObject({
      trace_id: traceId,
      service_name: 'py-research-agent',
      root_name: 'invoke_agent researcher',
      has_error: true,
      span_count: 3,
    });
    expect(detail.body.detections.map((d: any) => d.detection_type)).toContain('tool_failure');
    expect(detail.body.spans).toHaveLength(1);
    const tree = detail.body.spans[0];
    expect(tree.span_id).toBe(ids.invoke_agent);
    expect(tree.operation).toBe('invoke_agent');
    expect(tree.agent).toBe('researcher');
    expect(tree.links).toEqual([
      { trace_id: report.previous_trace_id, span_id: ids.previous_run, attributes: { 'link.reason': 'retry_of', 'link.attempt': 2, 'link.same_agent': true } },
    ]);
    expect(tree.resource).toMatchObject({ 'service.name': 'py-research-agent', 'service.instance.replicas': 3, 'host.cpu.load': 0.625 });
    expect(tree.scope).toEqual({ name: report.scope.name, version: report.scope.version });
    expect(tree.children.map((c: any) => c.span_id)).toEqual([ids.chat, ids.execute_tool]);
    const [chatView, toolView] = tree.children;
    expect(chatView).toMatchObject({ operation: 'chat', model: 'gpt-4o-mini', input_tokens: 1234, output_tokens: 56, kind: 3 });
    expect(chatView.attributes).toMatchObject({
      'gen_ai.request.temperature': 0.7,
      'gen_ai.request.stop_sequences': ['\n\nHuman:', 'END'],
      'gen_ai.request.stream': true,
      'test.int_array': [1, -2, 3000000000],
      'test.bool_array': [true, false, true],
      // Beyond Number.MAX_SAFE_INTEGER the API shows int64 as a decimal string.
      'test.int64.beyond_double': '9007199254740993',
      'test.bytes': Buffer.from([0, 1, 0xfe, 0xff]).toString('base64'),
      'test.kvlist': { region: 'eu', shards: 4, ratio: 0.5, nested: { ok: true } },
    });
    expect(chatView.events).toMatchObject([{ name: 'gen_ai.choice', attributes: { index: 0, logprob: -0.125, cached: false, token_ids: [101, 2023, 102] } }]);
    expect(toolView).toMatchObject({ operation: 'execute_tool', tool: 'web_search', status: { code: 2, message: 'search backend timed out' } });
    expect(toolView.events[0]).toMatchObject({ name: 'exception', attributes: { 'exception.type': 'TimeoutError', 'tool.retryable': true } });
  }, 90_000);
});
