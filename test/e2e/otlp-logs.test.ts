/**
 * OTLP logs at POST /v1/logs: GenAI events sent as log records (prompts, completions, tool
 * messages) with the trace and span id of their call are joined to that span, as JSON and
 * as protobuf from the OpenTelemetry Python SDK's OTLPLogExporter
 * (test/fixtures/python/export_genai_logs.py). A record that names no span is refused alone,
 * naming the field; a record sent twice is kept once.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpPayload } from '../support/otlp.js';
import { pythonEnvironment } from '../support/python.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { python: PYTHON, skip: PYTHON_SKIP } = pythonEnvironment('main', 'the OpenTelemetry Python log exporter test');
const T0 = 1_700_000_000_000;
const nanos = (ms: number) => (BigInt(ms) * 1_000_000n).toString();

function logsPayload(records: Record<string, unknown>[]) {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'weather-bot' } }] },
        scopeLogs: [{ scope: { name: 'tracefold-tests' }, logRecords: records }],
      },
    ],
  };
}

function event(traceId: string, spanId: string | undefined, eventName: string, atMs: number, body: unknown) {
  return {
    timeUnixNano: nanos(atMs),
    traceId,
    ...(spanId === undefined ? {} : { spanId }),
    eventName,
    body,
    attributes: [{ key: 'gen_ai.system', value: { stringValue: 'openai' } }],
  };
}

const kv = (entries: Record<string, string>) => ({ kvlistValue: { values: Object.entries(entries).map(([key, v]) => ({ key, value: { stringValue: v } })) } });

describe('POST /v1/logs', () => {
  let server: TestServer;
  let tenant: { tenantId: string; apiKey: string; token: string };

  beforeAll(async () => {
    server = await startServer({ TRACEFOLD_INACTIVITY_GAP_MS: '600000' });
    tenant = await createTenant(server.url, 'logs');
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function traceOf(traceId: string) {
    const analyzed = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
    expect(analyzed.status, JSON.stringify(analyzed.body)).toBe(200);
    const trace = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}`, 'GET', { token: tenant.token });
    expect(trace.status).toBe(200);
    return trace.body;
  }

  it('joins GenAI events to the span they name, refusing alone a record without a span id', async () => {
    const traceId = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1';
    const spanId = 'bbbbbbbbbbbbbbb1';
    const spans = otlpPayload(traceId, [{ spanId, name: 'chat gpt-4o-mini', startMs: T0, durationMs: 500, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini' } }]);
    expect((await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: spans })).status).toBe(200);

    const records = [
      event(traceId, spanId, 'gen_ai.user.message', T0 + 10, kv({ content: 'What is the weather in Paris?' })),
      event(traceId, spanId, 'gen_ai.choice', T0 + 400, { kvlistValue: { values: [{ key: 'index', value: { intValue: 0 } }, { key: 'message', value: kv({ content: 'Sunny, 18 degrees.' }) }] } }),
      event(traceId, undefined, 'gen_ai.user.message', T0 + 20, kv({ content: 'lost' })),
    ];
    const res = await request(`${server.url}/v1/logs`, 'POST', { token: tenant.apiKey, body: logsPayload(records) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ accepted_log_records: 2, rejected_log_records: 1, partialSuccess: { rejectedLogRecords: '1' } });
    expect(res.body.partialSuccess.errorMessage).toContain('resourceLogs[0].scopeLogs[0].logRecords[2].spanId');
    // The same records again: each is kept once.
    expect((await request(`${server.url}/v1/logs`, 'POST', { token: tenant.apiKey, body: logsPayload(records.slice(0, 2)) })).status).toBe(200);

    const trace = await traceOf(traceId);
    expect(trace.span_count).toBe(1);
    const chat = trace.spans[0];
    expect(chat.span_id).toBe(spanId);
    expect(chat.events.map((e: { name: string }) => e.name)).toEqual(['gen_ai.user.message', 'gen_ai.choice']);
    expect(chat.events[0].attributes['log.record.body']).toEqual({ content: 'What is the weather in Paris?' });
    expect(chat.events[1].attributes['log.record.body']).toMatchObject({ message: { content: 'Sunny, 18 degrees.' } });
  });

  it('answers 400 naming the field when no record can be joined, 401 without a credential, 415 for other media', async () => {
    const bad = await request(`${server.url}/v1/logs`, 'POST', { token: tenant.apiKey, body: logsPayload([{ body: { stringValue: 'no context' } }]) });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('resourceLogs[0].scopeLogs[0].logRecords[0].traceId');
    const shape = await request(`${server.url}/v1/logs`, 'POST', { token: tenant.apiKey, body: { resourceLogs: 'x' } });
    expect(shape.status).toBe(400);
    expect(shape.body.message).toContain('resourceLogs');
    expect((await request(`${server.url}/v1/logs`, 'POST', { body: logsPayload([]) })).status).toBe(401);
    const text = await request(`${server.url}/v1/logs`, 'POST', { token: tenant.apiKey, rawBody: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
  });

  it.skipIf(PYTHON_SKIP)('takes the OpenTelemetry Python SDK log exporter (protobuf) and joins its events to the span', async () => {
    const { stdout } = await promisify(execFile)(PYTHON, [path.join(root, 'test', 'fixtures', 'python', 'export_genai_logs.py'), '--base-url', server.url, '--api-key', tenant.apiKey], {
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_'))), PYTHONDONTWRITEBYTECODE: '1' },
      timeout: 60_000,
    });
    const report = JSON.parse(stdout) as { ok: boolean; trace_id: string; span_id: string };
    expect(report.ok).toBe(true);

    const trace = await traceOf(report.trace_id);
    expect(trace.span_count).toBe(1);
    const chat = trace.spans[0];
    expect(chat).toMatchObject({ span_id: report.span_id, operation: 'chat', model: 'gpt-4o-mini' });
    expect(chat.events.map((e: { name: string }) => e.name)).toEqual(['gen_ai.system.message', 'gen_ai.user.message', 'gen_ai.choice', 'log']);
    expect(chat.events[1].attributes).toMatchObject({ 'log.record.body': { content: 'What is the weather in Paris?' }, 'gen_ai.system': 'openai' });
    expect(chat.events[3].attributes).toMatchObject({ 'log.record.body': 'cache miss', 'log.record.severity_text': 'INFO', 'log.record.severity_number': 9 });
  });
});
