/**
 * The first two detectors end to end: ingest over HTTP, close by analyze, read the result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';
import { loopingTrace, otlpPayload } from '../support/otlp.js';
import { eventually } from '../support/poll.js';

describe('detections through the pipeline', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;

  beforeAll(async () => {
    server = await startServer();
    tenant = await createTenant(server.url);
  });
  afterAll(async () => {
    await server.stop();
  });

  async function analyze(traceId: string, payload: unknown) {
    const ingest = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: payload });
    expect(ingest.status).toBe(200);
    const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
    expect(res.status).toBe(200);
    return res.body;
  }

  it('five identical tool calls yield a loop whose affected spans are exactly those calls', async () => {
    const result = await analyze('loop-5', loopingTrace('loop-5', 5));
    const loops = result.all_detections.filter((d: { detection_type: string }) => d.detection_type === 'loop');
    expect(loops).toHaveLength(1);
    expect([...loops[0].affected_span_ids].sort()).toEqual(['call-0', 'call-1', 'call-2', 'call-3', 'call-4']);
  });

  it('a clean trace yields no detection', async () => {
    const clean = otlpPayload('clean-1', [
      { spanId: 'root', name: 'agent_run', startMs: 1_700_000_000_000, durationMs: 3000, attributes: { 'gen_ai.agent.name': 'planner' } },
      { spanId: 'llm', parentSpanId: 'root', name: 'chat', startMs: 1_700_000_000_100, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 40 } },
      { spanId: 't1', parentSpanId: 'root', name: 'search', startMs: 1_700_000_000_500, attributes: { 'gen_ai.tool.name': 'search', 'gen_ai.tool.call.arguments': '{"q":"a"}' } },
      { spanId: 't2', parentSpanId: 'root', name: 'search', startMs: 1_700_000_000_900, attributes: { 'gen_ai.tool.name': 'search', 'gen_ai.tool.call.arguments': '{"q":"b"}' } },
    ]);
    const result = await analyze('clean-1', clean);
    expect(result.has_failures).toBe(false);
    expect(result.all_detections).toEqual([]);
  });

  it('an errored tool span yields a tool_failure naming that span and its agent', async () => {
    const payload = otlpPayload('tool-err', [
      { spanId: 'root', name: 'agent_run', startMs: 1_700_000_000_000, durationMs: 3000 },
      { spanId: 'bad', parentSpanId: 'root', name: 'execute_tool read_file', startMs: 1_700_000_000_100, error: 'ENOENT: no such file', attributes: { 'gen_ai.tool.name': 'read_file', 'gen_ai.agent.name': 'coder' } },
    ]);
    const result = await analyze('tool-err', payload);
    expect(result.failure_count).toBe(1);
    expect(result.primary_failure).toMatchObject({ detection_type: 'tool_failure', affected_span_ids: ['bad'], agent: 'coder', severity: 'high' });
    expect(result.primary_failure.description).toContain('ENOENT');
  });

  it('runs the detectors and thresholds TRACEFOLD_DETECTORS sets, and stamps the pipeline version they make', async () => {
    const tuned = await startServer({ TRACEFOLD_DETECTORS: '{"loop":{"minRepeats":6},"span_errors":{"enabled":false}}' });
    try {
      const t = await createTenant(tuned.url);
      const send = async (traceId: string, payload: unknown) => {
        expect((await request(`${tuned.url}/v1/traces`, 'POST', { token: t.apiKey, body: payload })).status).toBe(200);
        const res = await request(`${tuned.url}/api/v1/tenants/${t.tenantId}/traces/${traceId}/analyze`, 'POST', { token: t.token });
        expect(res.status).toBe(200);
        return res.body;
      };
      const types = (result: { all_detections: { detection_type: string }[] }) => result.all_detections.map((d) => d.detection_type);
      // Five repeats no longer make a loop at minRepeats 6; six do.
      expect(types(await send('tuned-5', loopingTrace('tuned-5', 5)))).not.toContain('loop');
      expect(types(await send('tuned-6', loopingTrace('tuned-6', 6)))).toContain('loop');
      const failing = otlpPayload('tuned-err', [
        { spanId: 'root', name: 'agent_run', startMs: 1_700_000_000_000, durationMs: 3000 },
        { spanId: 'bad', parentSpanId: 'root', name: 'execute_tool read_file', startMs: 1_700_000_000_100, error: 'ENOENT: no such file', attributes: { 'gen_ai.tool.name': 'read_file' } },
      ]);
      expect(types(await send('tuned-err', failing))).not.toContain('tool_failure');
      const trace = await request(`${tuned.url}/api/v1/tenants/${t.tenantId}/traces/tuned-6`, 'GET', { token: t.token });
      expect(trace.body.pipeline_version).toMatch(/;s[0-9a-f]{12}$/);
      expect(trace.body.pipeline_version).not.toContain('span_errors@');
    } finally {
      await tuned.stop();
    }
  });

  it('an inactivity gap closes a window without analyze', async () => {
    const quick = await startServer({ TRACEFOLD_INACTIVITY_GAP_MS: '300' });
    try {
      const t = await createTenant(quick.url);
      const ingest = await request(`${quick.url}/v1/traces`, 'POST', { token: t.apiKey, body: loopingTrace('idle-close', 3) });
      expect(ingest.status).toBe(200);
      const found = await eventually('the idle trace to close with its detection', async () => {
        const res = await request(`${quick.url}/api/v1/tenants/${t.tenantId}/traces/idle-close`, 'GET', { token: t.token });
        // Traces and detections travel on separate topics; the views see each as it arrives.
        return res.status === 200 && res.body.detections.length > 0 ? res.body : undefined;
      }, { intervalMs: 100 });
      expect(found.close_reason).toBe('inactivity');
      expect(found.detections.map((d: { detection_type: string }) => d.detection_type)).toEqual(['loop']);
    } finally {
      await quick.stop();
    }
  });
});
