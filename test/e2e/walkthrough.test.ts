/**
 * Follows the "Your First Run" walkthrough (shared seeds, 000) step by step against a real
 * listening server: create a tenant, get a token, ingest its two-span example with non-hex
 * ids, analyze, list detections, send feedback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startServer, type TestServer } from '../support/server.js';
import { loopingTrace } from '../support/otlp.js';
import { walkthroughTrace } from '../support/walkthrough.js';


describe('walkthrough: your first run', () => {
  let server: TestServer;
  let tenantId: string;
  let apiKey: string;
  let token: string;
  let loopDetectionId: string;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('step 1: creates a tenant with an API key', async () => {
    const res = await request(`${server.url}/api/v1/auth/tenants`, 'POST', { body: { name: 'my-first-project' } });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('my-first-project');
    expect(res.body.tenant_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.api_key).toMatch(/^tfk_[0-9a-f]{16}_/);
    tenantId = res.body.tenant_id;
    apiKey = res.body.api_key;
  });

  it('step 2: exchanges the API key for a JWT', async () => {
    const res = await request(`${server.url}/api/v1/auth/token`, 'POST', { body: { api_key: apiKey } });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('bearer');
    expect(res.body.access_token.split('.')).toHaveLength(3);
    expect(res.body.expires_in).toBe(3600);
    token = res.body.access_token;
  });

  it('step 3: accepts the OTLP trace with 202', async () => {
    const res = await request(`${server.url}/api/v1/tenants/${tenantId}/traces/ingest`, 'POST', { token, body: walkthroughTrace });
    expect(res.status).toBe(202);
    expect(res.body.accepted_spans).toBe(2);
    expect(res.body.rejected_spans).toBe(0);
  });

  it('step 4: analyze closes the run and answers with its detections', async () => {
    const res = await request(`${server.url}/api/v1/tenants/${tenantId}/traces/demo-trace-001/analyze`, 'POST', { token });
    expect(res.status).toBe(200);
    expect(res.body.trace_id).toBe('demo-trace-001');
    // A clean two-step run: no failure modes.
    expect(res.body.has_failures).toBe(false);
    expect(res.body.failure_count).toBe(0);
    expect(res.body.primary_failure).toBeNull();
    expect(res.body.all_detections).toEqual([]);
    expect(typeof res.body.detection_time_ms).toBe('number');

    const trace = await request(`${server.url}/api/v1/tenants/${tenantId}/traces/demo-trace-001`, 'GET', { token });
    expect(trace.status).toBe(200);
    expect(trace.body.span_count).toBe(2);
    expect(trace.body.service_name).toBe('demo-pipeline');
    expect(trace.body.metrics).toMatchObject({ span_count: 2, input_tokens: 5000, output_tokens: 3500, duration_ms: 5000 });
    expect(trace.body.metrics.agents).toEqual(['researcher', 'writer']);
    expect(trace.body.metrics).toMatchObject({ error_rate: 0, tool_error_rate: 0, retry_rate: 0, blast_radius: 0, files_written: [], agent_count: 2 });
    for (const field of ['critical_path_ms', 'critical_path_span_ids', 'cost_usd', 'unpriced_models', 'cached_input_tokens', 'price_table']) {
      expect(trace.body.metrics).toHaveProperty(field);
    }
    expect(trace.body.spans).toHaveLength(1);
    expect(trace.body.spans[0].span_id).toBe('span-001');
    expect(trace.body.spans[0].children[0].span_id).toBe('span-002');
    expect(trace.body.spans[0].attributes['gen_ai.usage.prompt_tokens']).toBe(2000);
  });

  it('step 4, failing run: a looping trace yields a primary loop failure with evidence and a fix', async () => {
    const ingest = await request(`${server.url}/api/v1/tenants/${tenantId}/traces/ingest`, 'POST', { token, body: loopingTrace('demo-trace-loop', 5) });
    expect(ingest.status).toBe(202);
    const res = await request(`${server.url}/api/v1/tenants/${tenantId}/traces/demo-trace-loop/analyze`, 'POST', { token });
    expect(res.status).toBe(200);
    expect(res.body.has_failures).toBe(true);
    expect(res.body.failure_count).toBe(1);
    const primary = res.body.primary_failure;
    expect(primary.detection_type).toBe('loop');
    expect(primary.confidence).toBeGreaterThan(0.6);
    expect(['critical', 'high', 'medium', 'low', 'info']).toContain(primary.severity);
    expect(primary.evidence[0].span_ids).toHaveLength(5);
    expect(primary.suggested_fix.length).toBeGreaterThan(10);
    expect(primary.agent).toBe('researcher');
    loopDetectionId = primary.id;
  });

  it('step 5: lists the tenant detections', async () => {
    const res = await request(`${server.url}/api/v1/tenants/${tenantId}/detections`, 'GET', { token });
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    expect(res.body.map((d: { detection_type: string }) => d.detection_type)).toEqual(['loop']);
    expect(res.body[0]).toMatchObject({ id: loopDetectionId, trace_id: 'demo-trace-loop' });
  });

  it('step 6: records feedback, visible with the detection right after', async () => {
    const res = await request(`${server.url}/api/v1/tenants/${tenantId}/feedback`, 'POST', {
      token,
      body: { detection_id: loopDetectionId, feedback_type: 'true_positive', comment: 'Correctly identified the loop' },
    });
    expect(res.status).toBe(201);
    expect(res.body.feedback_type).toBe('true_positive');
    const list = await request(`${server.url}/api/v1/tenants/${tenantId}/detections`, 'GET', { token });
    expect(list.body[0].feedback).toEqual([expect.objectContaining({ feedback_type: 'true_positive', comment: 'Correctly identified the loop' })]);
  });
});
