/**
 * Flat span ingest (seed 002 style) against a real server: the seed's own nested example,
 * a flat list with typed attributes, links and parked fields, 400s naming the span's field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

describe('flat span ingest', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;

  beforeAll(async () => {
    server = await startServer();
    tenant = await createTenant(server.url);
  });
  afterAll(async () => {
    await server.stop();
  });

  const ingest = (body: unknown, token = tenant.apiKey) => request(`${server.url}/api/v1/spans/ingest`, 'POST', { token, body });
  const analyze = (traceId: string) =>
    request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
  const getTrace = (traceId: string) => request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}`, 'GET', { token: tenant.token });

  it("accepts the seed's nested example and answers 202 {count, links}", async () => {
    const res = await ingest({
      traces: {
        f5a2efb40895881e938e2ebc070beca8: {
          spans: {
            workflow_v0: {
              trace_id: 'f5a2efb40895881e938e2ebc070beca8',
              span_id: '15f3df0731995245',
              span_kind: 'SPAN_KIND_SERVER',
              start_time: '2026-04-16T18:18:18.491929Z',
              end_time: '2026-04-16T18:18:20.415372Z',
              attributes: { ag: { type: { trace: 'invocation', span: 'workflow' }, data: { inputs: { country: 'France' }, outputs: 'Paris' } } },
              spans: {
                llm_call: {
                  trace_id: 'f5a2efb40895881e938e2ebc070beca8',
                  span_id: 'c8ae7f12d1b3e9a4',
                  parent_id: '15f3df0731995245',
                  start_time: '2026-04-16T18:18:18.800000Z',
                  end_time: '2026-04-16T18:18:20.400000Z',
                  attributes: { 'ag.type.span': 'llm' },
                },
              },
            },
          },
        },
      },
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      count: 2,
      links: [
        { trace_id: 'f5a2efb40895881e938e2ebc070beca8', span_id: '15f3df0731995245' },
        { trace_id: 'f5a2efb40895881e938e2ebc070beca8', span_id: 'c8ae7f12d1b3e9a4' },
      ],
    });

    expect((await analyze('f5a2efb40895881e938e2ebc070beca8')).status).toBe(200);
    const trace = await getTrace('f5a2efb40895881e938e2ebc070beca8');
    expect(trace.status).toBe(200);
    expect(trace.body.span_count).toBe(2);
    const root = trace.body.spans[0];
    expect(root).toMatchObject({ span_id: '15f3df0731995245', name: 'workflow_v0', kind: 2, start_time_unix_nano: '1776363498491929000' });
    expect(root.attributes.ag).toEqual({ type: { trace: 'invocation', span: 'workflow' }, data: { inputs: { country: 'France' }, outputs: 'Paris' } });
    expect(root.children[0]).toMatchObject({ span_id: 'c8ae7f12d1b3e9a4', name: 'llm_call', parent_span_id: '15f3df0731995245' });
    expect(root.children[0].attributes['ag.type.span']).toBe('llm');
  });

  it('converts a flat list: GenAI attributes by type, epoch times, links, references, parked fields', async () => {
    const traceId = 'flat-demo-001';
    const t0 = 1_760_000_000_000; // ms
    const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/spans/ingest`, 'POST', {
      token: tenant.token,
      body: {
        spans: [
          { trace_id: traceId, span_id: 'root', name: 'agent_run', start_time: t0 / 1000, end_time: t0 / 1000 + 3, attributes: { 'gen_ai.agent.name': 'planner' } },
          ...[1, 2, 3].map((i) => ({
            trace_id: traceId,
            span_id: `tool-${i}`,
            parent_id: 'root',
            name: 'execute_tool search',
            kind: 'internal',
            start_time: t0 + i * 100,
            end_time: t0 + i * 100 + 50,
            status: 'STATUS_CODE_OK',
            attributes: { 'gen_ai.tool.name': 'search', 'gen_ai.tool.call.arguments': '{"q":"same"}', 'retry.count': 2, score: 0.5, ok: true, tags: ['a', 1] },
            links: [{ trace_id: 'other-trace', span_id: 'origin', attributes: { why: 'continues' } }],
            references: { application: { slug: 'support-bot', version: '3' } },
            custom_field: { nested: 1 },
          })),
        ],
      },
    });
    expect(res.status).toBe(202);
    expect(res.body.count).toBe(4);
    expect(res.body.links.map((l: any) => l.span_id)).toEqual(['root', 'tool-1', 'tool-2', 'tool-3']);

    const analysed = await analyze(traceId);
    expect(analysed.body.all_detections.map((d: any) => d.detection_type)).toEqual(['loop']);
    const trace = await getTrace(traceId);
    const tool = trace.body.spans[0].children[0];
    expect(tool).toMatchObject({ span_id: 'tool-1', kind: 1, status: { code: 1, message: '' }, operation: 'execute_tool', tool: 'search' });
    expect(tool.start_time).toBe(new Date(t0 + 100).toISOString());
    expect(tool.attributes).toMatchObject({
      'retry.count': 2,
      score: 0.5,
      ok: true,
      tags: ['a', 1],
      'tracefold.references': { application: { slug: 'support-bot', version: '3' } },
      'tracefold.unsupported.custom_field': { nested: 1 },
    });
    expect(tool.links).toEqual([{ trace_id: 'other-trace', span_id: 'origin', attributes: { why: 'continues' } }]);
  });

  it('rejects a span without its ids, naming the field, and appends nothing of the request', async () => {
    const missing = await ingest({
      spans: [
        { trace_id: 'reject-1', span_id: 'a', name: 'ok', start_time: '2026-01-01T00:00:00Z' },
        { trace_id: 'reject-1', name: 'no id', start_time: '2026-01-01T00:00:00Z' },
      ],
    });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toBe('body.spans.1.span_id: missing');
    const noTrace = await ingest({ spans: [{ span_id: 'a' }] });
    expect(noTrace.body.message).toBe('body.spans.0.trace_id: missing');
    const badLink = await ingest({ spans: [{ trace_id: 't', span_id: 'a', links: [{ trace_id: 't2' }] }] });
    expect(badLink.body.message).toBe('body.spans.0.links.0.span_id: missing');
    expect((await ingest({ nothing: true })).status).toBe(400);
    // Nothing of the rejected request reached the log: analyze finds no trace.
    expect((await analyze('reject-1')).status).toBe(404);
  });

  it('checks the credential against the tenant in the path', async () => {
    const other = await createTenant(server.url, 'other');
    const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/spans/ingest`, 'POST', { token: other.apiKey, body: { spans: [] } });
    expect(res.status).toBe(404);
    expect((await request(`${server.url}/api/v1/spans/ingest`, 'POST', { body: { spans: [] } })).status).toBe(401);
  });
});
