/**
 * A late span reopens a closed trace as a new revision whose outputs supersede the earlier
 * ones: through the API a client sees the latest revision and only its detections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopingTrace, otlpPayload } from '../support/otlp.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

describe('late spans and revisions through the API', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;

  beforeAll(async () => {
    server = await startServer({ TRACEFOLD_INACTIVITY_GAP_MS: '60000' });
    tenant = await createTenant(server.url, 'revisions');
  });
  afterAll(async () => {
    await server.stop();
  });

  it('serves revision 2 after a late span, with its detections replacing revision 1', async () => {
    const analyze = () => request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/late-run/analyze`, 'POST', { token: tenant.token });
    // Revision 1: two identical calls, no loop yet (three make one).
    expect((await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: loopingTrace('late-run', 2) })).status).toBe(200);
    const first = await analyze();
    expect(first.body).toMatchObject({ revision: 1, failure_count: 0 });

    // A late third identical call: revision 2 holds all three and so a loop.
    const late = otlpPayload('late-run', [
      {
        spanId: 'call-2',
        parentSpanId: 'root',
        name: 'execute_tool web_search',
        startMs: 1_700_000_001_100,
        attributes: { 'gen_ai.tool.name': 'web_search', 'gen_ai.tool.call.arguments': '{"query": "pricing of acme"}', 'gen_ai.agent.name': 'researcher' },
      },
    ]);
    expect((await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: late })).status).toBe(200);
    const second = await analyze();
    expect(second.body.revision).toBe(2);
    expect(second.body.all_detections.map((d: any) => [d.detection_type, d.revision])).toEqual([['loop', 2]]);

    const detail = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/late-run`, 'GET', { token: tenant.token });
    expect(detail.body).toMatchObject({ revision: 2, span_count: 4 });
    const list = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/detections`, 'GET', { token: tenant.token });
    expect(list.body.filter((d: any) => d.trace_id === 'late-run').map((d: any) => d.revision)).toEqual([2]);
  });

  it('leaves a closed trace as it is when a client re-sends the same request', async () => {
    const traceId = 'resent-run';
    const analyze = () => request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
    const body = loopingTrace(traceId, 4);
    expect((await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body })).status).toBe(200);
    const first = await analyze();
    expect(first.body).toMatchObject({ revision: 1, has_failures: true });
    const ids = first.body.all_detections.map((d: any) => d.id).sort();
    expect(ids.length).toBeGreaterThan(0);

    // The answer was lost; the exporter sends the same body again. The analyze marker that
    // follows it on the trace's partition is read after the re-sent spans.
    expect((await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body })).status).toBe(200);
    const again = await analyze();
    expect(again.body.revision).toBe(1);
    expect(again.body.all_detections.map((d: any) => d.id).sort()).toEqual(ids);
    const detail = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}`, 'GET', { token: tenant.token });
    expect(detail.body).toMatchObject({ revision: 1, span_count: 5 });
  });
});
