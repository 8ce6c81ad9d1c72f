/**
 * Seed 002 (Agenta "Tracing") against a real server: the document's two curl examples run
 * with curl exactly as written (AGENTA_HOST and AGENTA_API_KEY set), then the rest of its
 * contract: the other ingest endpoints, `ag.unsupported.*`, the nested SpansTree and the
 * nested `ag` namespace in query answers, and 4xx answers that name the field.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, request, startServer, type TestServer } from '../../support/server.js';
import { AGENTA_EXAMPLES } from './examples.js';

const run = promisify(execFile);

describe('seed 002: Agenta tracing', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  const agenta = (method: string, path: string, body?: unknown, scheme = 'ApiKey') =>
    request(`${server.url}/api${path}`, method, { body, headers: { authorization: `${scheme} ${tenant.apiKey}` } });
  const shell = async (script: string) => {
    const { stdout } = await run('sh', ['-c', script], { env: { ...process.env, AGENTA_HOST: server.url, AGENTA_API_KEY: tenant.apiKey } });
    return JSON.parse(stdout) as unknown;
  };
  const analyze = (traceId: string) => request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });

  beforeAll(async () => {
    server = await startServer();
    tenant = await createTenant(server.url);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('example "Ingest a nested trace": curl as written answers the documented 202 body', async () => {
    const answer = await shell(`${AGENTA_EXAMPLES.ingestNestedTrace} -s -w ''`);
    expect(answer).toEqual(AGENTA_EXAMPLES.ingestNestedTraceResponse);
    const { stdout } = await run('sh', ['-c', `${AGENTA_EXAMPLES.ingestNestedTrace} -s -o /dev/null -w '%{http_code}'`], {
      env: { ...process.env, AGENTA_HOST: server.url, AGENTA_API_KEY: tenant.apiKey },
    });
    expect(stdout).toBe('202');
  });

  it('the nested trace reads back as a SpansTree with the ag namespace nested, ag.type.span kept', async () => {
    expect((await analyze('f5a2efb40895881e938e2ebc070beca8')).status).toBe(200);
    const res = await agenta('GET', '/traces/f5a2efb40895881e938e2ebc070beca8');
    expect(res.status).toBe(200);
    const root = res.body.traces.f5a2efb40895881e938e2ebc070beca8.spans.workflow_v0;
    expect(root).toMatchObject({
      span_id: '15f3df0731995245',
      parent_id: null,
      span_kind: 'SPAN_KIND_SERVER',
      attributes: { ag: { type: { trace: 'invocation', span: 'workflow' }, data: { inputs: { country: 'France' }, outputs: 'Paris' } } },
    });
    expect(root.spans.llm_call).toMatchObject({ span_id: 'c8ae7f12d1b3e9a4', parent_id: '15f3df0731995245', attributes: { ag: { type: { span: 'llm' } } } });
    // tracefold's own reading: ag.type.span says what each span is; llm is a model call.
    const own = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/f5a2efb40895881e938e2ebc070beca8`, 'GET', { token: tenant.token });
    expect(own.body.metrics.llm_call_count).toBe(1);
    expect(own.body.spans[0].children.find((c: { span_id: string }) => c.span_id === 'c8ae7f12d1b3e9a4')).toMatchObject({ operation: 'chat' });
  });

  it('example "Record a single annotation": curl as written creates the trace with server-generated ids; GET returns it', async () => {
    const answer = (await shell(`${AGENTA_EXAMPLES.recordAnnotation} -s`)) as { count: number; trace: { trace_id: string; span_id: string } };
    expect(answer.count).toBe(1);
    expect(answer.trace.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(answer.trace.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(answer.trace).toMatchObject({ origin: 'human', kind: 'adhoc', channel: 'api', data: { outputs: { score: 5, comment: 'Good response' } } });
    await expect.poll(async () => (await agenta('GET', `/simple/traces/${answer.trace.trace_id}`)).status).toBe(200);
    const read = await agenta('GET', `/simple/traces/${answer.trace.trace_id}`);
    expect(read.body).toEqual({
      count: 1,
      trace: {
        trace_id: answer.trace.trace_id,
        span_id: answer.trace.span_id,
        origin: 'human',
        kind: 'adhoc',
        channel: 'api',
        data: { outputs: { score: 5, comment: 'Good response' } },
        references: { evaluator: { slug: 'user-feedback' } },
        links: { invocation: { trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' } },
      },
    });
    const full = await agenta('GET', `/traces/${answer.trace.trace_id}`);
    expect(full.body.traces[answer.trace.trace_id].spans.annotation.attributes.ag.type).toEqual({ trace: 'annotation', span: 'task' });
    expect((await agenta('PATCH', `/simple/traces/${answer.trace.trace_id}`, {})).status).toBe(405);
  });

  it('POST /traces/ingest, POST /traces/ and PUT /traces/{trace_id} take Trace and Traces records and answer {count, links}', async () => {
    const span = (id: string, extra: Record<string, unknown> = {}) => ({ span_id: id, start_time: '2026-04-16T18:18:18Z', end_time: '2026-04-16T18:18:19Z', ...extra });
    const a = await agenta('POST', '/traces/ingest', { traces: [{ trace_id: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', spans: { root: span('00000000000000a1') } }] });
    expect(a).toMatchObject({ status: 202, body: { count: 1, links: [{ trace_id: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', span_id: '00000000000000a1' }] } });
    const b = await agenta('POST', '/traces/', { trace: { trace_id: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2', spans: { root: span('00000000000000a2') } } });
    expect(b).toMatchObject({ status: 202, body: { count: 1 } });
    const c = await agenta('PUT', '/traces/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2', { trace: { spans: { root: span('00000000000000a2'), tool: span('00000000000000a3', { parent_id: '00000000000000a2' }) } } });
    expect(c).toMatchObject({ status: 202, body: { count: 2 } });
    const mismatch = await agenta('PUT', '/traces/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2', { trace: { trace_id: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', spans: {} } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toMatch(/^body\.trace\.trace_id: /);
  });

  it('parks what does not fit the ag schema under ag.unsupported.*', async () => {
    const traceId = 'cccccccccccccccccccccccccccccccc';
    const res = await agenta('POST', '/tracing/spans/ingest', {
      spans: [
        {
          trace_id: traceId,
          span_id: '00000000000000c1',
          start_time: '2026-04-16T18:18:18Z',
          end_time: '2026-04-16T18:18:19Z',
          span_name: 'probe',
          colour: 'blue',
          attributes: { ag: { type: { span: 'spaceship' }, widgets: { count: 3 }, data: { inputs: '{not json' } }, 'ag.mood': 'calm' },
        },
      ],
    });
    expect(res.status).toBe(202);
    await analyze(traceId);
    const read = await agenta('GET', `/tracing/traces/${traceId}`);
    const ag = read.body.traces[traceId].spans.probe.attributes.ag;
    expect(ag.unsupported).toEqual({ colour: 'blue', type: { span: 'spaceship' }, widgets: { count: 3 }, data: { inputs: '{not json' }, mood: 'calm' });
    expect(ag.type).toBeUndefined();
  });

  it('POST /otlp/v1/traces takes OTLP JSON with ApiKey auth and answers OTLP', async () => {
    const res = await request(`${server.url}/api/otlp/v1/traces`, 'POST', {
      headers: { authorization: `ApiKey ${tenant.apiKey}` },
      body: {
        resourceSpans: [
          { scopeSpans: [{ spans: [{ traceId: 'dddddddddddddddddddddddddddddddd', spanId: '00000000000000d1', name: 'llm', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] },
        ],
      },
    });
    expect(res).toMatchObject({ status: 200, body: { accepted_spans: 1, rejected_spans: 0 } });
  });

  it('refuses clearly: a missing or wrong scheme is 401 naming ApiKey; a body without spans is 400 naming the field', async () => {
    const noAuth = await request(`${server.url}/api/tracing/spans/ingest`, 'POST', { body: { spans: [] } });
    expect(noAuth.status).toBe(401);
    expect(noAuth.body.message).toContain('ApiKey <api key>');
    const wrongKey = await request(`${server.url}/api/tracing/spans/ingest`, 'POST', { body: { spans: [] }, headers: { authorization: 'ApiKey tfk_nope' } });
    expect(wrongKey.status).toBe(401);
    const noIds = await agenta('POST', '/tracing/spans/ingest', { spans: [{ span_name: 'x' }] });
    expect(noIds.status).toBe(400);
    expect(noIds.body.message).toBe('body.spans.0.trace_id: missing');
    const noData = await agenta('POST', '/simple/traces/', { trace: { origin: 'human' } });
    expect(noData.status).toBe(400);
    expect(noData.body.message).toContain('body.trace.data');
    // tracefold's own bearer scheme works on these paths too; its own API is unchanged.
    expect((await agenta('GET', '/traces/f5a2efb40895881e938e2ebc070beca8', undefined, 'Bearer')).status).toBe(200);
    expect((await request(`${server.url}/api/v1/spans/ingest`, 'POST', { body: { spans: [] }, headers: { authorization: `ApiKey ${tenant.apiKey}` } })).status).toBe(401);
  });
});
