/**
 * Seed 001 (agent-strace "Production tracing") against a real server: live streaming as
 * agent-strace's watch sends it (NDJSON to the URL as given, no headers; with --stream-otlp,
 * OTLP JSON to URL + "/v1/traces"), the ingest token in the URL, the quick demo's export
 * without headers (open ingest, opt-in) and /v1/metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { straceRootSpanId, straceSpanId, straceTraceId } from '../../../src/api/routes/compat/agent-strace-events.js';
import { createTenant, request, startServer, type TestServer } from '../../support/server.js';

/** A TraceEvent line as agent-strace's models.TraceEvent.to_json writes it. */
const line = (event: Record<string, unknown>) => JSON.stringify(event);
const post = (url: string, body: string, contentType: string) => fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });

describe('seed 001: agent-strace streaming', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  let streamUrl: string;

  beforeAll(async () => {
    server = await startServer();
    tenant = await createTenant(server.url);
    const created = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/ingest-tokens`, 'POST', { token: tenant.token, body: { ttl_seconds: 600 } });
    expect(created.status).toBe(201);
    streamUrl = `${server.url}${created.body.stream_path}`;
  });
  afterAll(async () => {
    await server.stop();
  });

  it('watch --stream-to URL: NDJSON batches without headers assemble into one run, closed by session_end', async () => {
    const session = 'a1b2c3d4e5f6';
    const t0 = 1_767_000_000;
    const first = [
      line({ event_type: 'session_start', timestamp: t0, event_id: 'e0000000001', session_id: session, data: { agent_name: 'claude-code' } }),
      line({ event_type: 'tool_call', timestamp: t0 + 1, event_id: 'e0000000002', session_id: session, data: { tool_name: 'write_file', arguments: { path: 'src/a.ts' } } }),
    ].join('\n');
    const second = [
      line({ event_type: 'tool_result', timestamp: t0 + 2, event_id: 'e0000000003', session_id: session, parent_id: 'e0000000002', duration_ms: 1000, data: { tool_name: 'write_file' } }),
      line({ event_type: 'llm_request', timestamp: t0 + 3, event_id: 'e0000000004', session_id: session, data: { model: 'gpt-4o', input_tokens: 120 } }),
      line({ event_type: 'llm_response', timestamp: t0 + 4, event_id: 'e0000000006', session_id: session, parent_id: 'e0000000004', data: { output_tokens: 30 } }),
      line({ event_type: 'session_end', timestamp: t0 + 5, event_id: 'e0000000005', session_id: session, duration_ms: 5000 }),
    ].join('\n');
    const a = await post(streamUrl, first, 'application/x-ndjson');
    expect(a.status).toBe(202);
    expect((await a.json())).toMatchObject({ count: 2 });
    const b = await post(streamUrl, second, 'application/x-ndjson');
    expect(b.status).toBe(202);
    expect((await b.json())).toMatchObject({ count: 3 });

    const traceId = straceTraceId(session);
    // The run and its metrics reach the views on topics of their own: wait for both.
    const read = () => request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}`, 'GET', { token: tenant.token });
    await expect.poll(async () => { const r = await read(); return r.status === 200 && r.body.metrics !== null; }).toBe(true);
    const trace = await read();
    expect(trace.body.close_reason).toBe('session_end');
    const root = trace.body.spans[0];
    expect(root).toMatchObject({ span_id: straceRootSpanId(session), name: 'agent_session', duration_ms: 5000 });
    const call = root.children.find((s: { span_id: string }) => s.span_id === straceSpanId('e0000000002'));
    expect(call).toMatchObject({ name: 'tool/write_file', tool: 'write_file' });
    expect(call.children[0]).toMatchObject({ span_id: straceSpanId('e0000000003'), duration_ms: 1000 });
    // A response in the same batch as its request is folded into the request's span: one model call.
    const llm = root.children.find((s: { span_id: string }) => s.span_id === straceSpanId('e0000000004'));
    expect(llm).toMatchObject({ operation: 'chat', model: 'gpt-4o', input_tokens: 120, output_tokens: 30, duration_ms: 1000 });
    expect(trace.body.metrics).toMatchObject({ llm_call_count: 1, tool_call_count: 1, blast_radius: 1 });
  });

  it('watch --stream-to URL --stream-otlp: OTLP JSON at URL/v1/traces, and at URL/v1/traces/v1/traces when the URL already ended in it', async () => {
    const otlp = (spanId: string) =>
      JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'agent-trace' } }] },
            scopeSpans: [{ spans: [{ traceId: straceTraceId('otlp-session'), spanId, name: 'tool/bash', startTimeUnixNano: '1767000000000000000', endTimeUnixNano: '1767000001000000000' }] }],
          },
        ],
      });
    for (const url of [`${streamUrl}/v1/traces`, `${streamUrl}/v1/traces/v1/traces`]) {
      const res = await post(url, otlp(url.endsWith('/v1/traces/v1/traces') ? '00000000000000b2' : '00000000000000b1'), 'application/json');
      expect(res.status).toBe(200);
      expect((await res.json())).toMatchObject({ accepted_spans: 1, rejected_spans: 0 });
    }
    // The seed's own example URL ends in /v1/traces without --stream-otlp: NDJSON there works too.
    const ndjson = line({ event_type: 'decision', timestamp: 1_767_000_000, event_id: 'e1', session_id: 'otlp-session', data: {} });
    expect((await post(`${streamUrl}/v1/traces`, ndjson, 'application/x-ndjson')).status).toBe(202);
  });

  it('keeps credentials out of URLs except an ingest token, which is good for nothing else', async () => {
    const token = streamUrl.split('/').pop()!;
    const line0 = line({ event_type: 'decision', timestamp: 1_767_000_000, event_id: 'e2', session_id: 's', data: {} });
    const withKey = await post(`${server.url}/api/agent-strace/${tenant.apiKey}`, line0, 'application/x-ndjson');
    expect(withKey.status).toBe(401);
    const withJwt = await post(`${server.url}/api/agent-strace/${tenant.token}`, line0, 'application/x-ndjson');
    expect(withJwt.status).toBe(401);
    expect(((await withJwt.json()) as { message: string }).message).toContain('not an ingest token');
    const asBearer = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces`, 'GET', { token });
    expect(asBearer.status).toBe(401);
    const bad = await post(streamUrl, '{"event_type":"tool_call","timestamp":1}\nnot json', 'application/x-ndjson');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toBe('body.line 2: invalid JSON (Unexpected token \'o\', "not json" is not valid JSON)');
    const missing = await post(streamUrl, '{"event_type":"tool_call","timestamp":1,"event_id":"x"}', 'application/x-ndjson');
    expect(((await missing.json()) as { message: string }).message).toBe('body.line 1.session_id: missing');
    const tooLong = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/ingest-tokens`, 'POST', { token: tenant.token, body: { ttl_seconds: 10 * 86_400 } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.message).toContain('body.ttl_seconds');
  });

  it('export --metrics --backend otlp: /v1/metrics answers 200 and reports its data points as not kept', async () => {
    const body = { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'agent_strace.session.cost_usd', gauge: { dataPoints: [{ asDouble: 0.12 }, { asDouble: 0.3 }] } }] }] }] };
    const res = await request(`${server.url}/v1/metrics`, 'POST', { token: tenant.apiKey, body });
    expect(res.status).toBe(200);
    expect(res.body.partialSuccess).toMatchObject({ rejectedDataPoints: '2' });
    expect((await request(`${server.url}/v1/metrics`, 'POST', { body })).status).toBe(401);
  });

  it('quick demo: export --format otlp-genai --endpoint URL without headers works only with TRACEFOLD_OPEN_INGEST_TENANT', async () => {
    const payload = {
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: straceTraceId('demo'), spanId: straceRootSpanId('demo'), name: 'agent_session', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }],
    };
    expect((await request(`${server.url}/v1/traces`, 'POST', { body: payload })).status).toBe(401);
    const demo = await startServer({ TRACEFOLD_OPEN_INGEST_TENANT: 'demo-tenant' });
    try {
      const res = await request(`${demo.url}/v1/traces`, 'POST', { body: payload });
      expect(res).toMatchObject({ status: 200, body: { accepted_spans: 1 } });
    } finally {
      await demo.stop();
    }
  });
});
