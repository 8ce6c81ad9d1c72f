/**
 * Bad input gets a clear 4xx naming the problem, and never disturbs data accepted before.
 */
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';
import { loopingTrace, otlpPayload } from '../support/otlp.js';

describe('bad input', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;

  beforeAll(async () => {
    server = await startServer({ TRACEFOLD_JWT_SECRET: 'x'.repeat(40) });
    tenant = await createTenant(server.url);
    const ok = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: loopingTrace('kept', 3) });
    expect(ok.status).toBe(200);
  });
  afterAll(async () => {
    await server.stop();
  });

  const ingestUrl = () => `${server.url}/api/v1/tenants/${tenant.tenantId}/traces/ingest`;

  it('malformed JSON is a 400 that says the body is not JSON', async () => {
    const res = await request(ingestUrl(), 'POST', { token: tenant.token, rawBody: '{"resourceSpans": [' });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/body: invalid JSON/);
  });

  it('a wrong type is a 400 naming the field path', async () => {
    const res = await request(ingestUrl(), 'POST', { token: tenant.token, body: { resourceSpans: { not: 'an array' } } });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('resourceSpans');
  });

  it('a span without ids is rejected by path while its sibling is accepted', async () => {
    const payload = loopingTrace('partial', 1);
    const spans = payload.resourceSpans[0]!.scopeSpans[0]!.spans as Record<string, unknown>[];
    delete spans[1]!.spanId;
    const res = await request(ingestUrl(), 'POST', { token: tenant.token, body: payload });
    expect(res.status).toBe(202);
    expect(res.body.accepted_spans).toBe(1);
    expect(res.body.rejected_spans).toBe(1);
    expect(res.body).toMatchObject({ submitted: 2, accepted: 1, rejected: 1 });
    expect(res.body.rejections[0].path).toBe('resourceSpans[0].scopeSpans[0].spans[1].spanId');
  });

  it('takes OTLP at /api/v1/traces/ingest for the tenant of the credential, with the same answer', async () => {
    const res = await request(`${server.url}/api/v1/traces/ingest`, 'POST', { token: tenant.apiKey, body: loopingTrace('unscoped-path', 2) });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'accepted', rejected: 0, rejections: [] });
    expect(res.body.accepted).toBeGreaterThan(0);
    expect(res.body.submitted).toBe(res.body.accepted);
    const stored = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/unscoped-path/analyze`, 'POST', { token: tenant.token });
    expect(stored.status).toBe(200);
    expect(stored.body.trace_id).toBe('unscoped-path');
    expect((await request(`${server.url}/api/v1/traces/ingest`, 'POST', { body: loopingTrace('anon', 1) })).status).toBe(401);
  });

  it('a request whose every span lacks a trace id is a 400 naming the field', async () => {
    const payload = loopingTrace('x', 0);
    delete (payload.resourceSpans[0]!.scopeSpans[0]!.spans[0] as Record<string, unknown>).traceId;
    const res = await request(ingestUrl(), 'POST', { token: tenant.token, body: payload });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('spans[0].traceId');
  });

  it('missing, malformed, forged and expired credentials are 401 with a reason', async () => {
    const body = loopingTrace('auth', 1);
    const none = await request(ingestUrl(), 'POST', { body });
    expect(none.status).toBe(401);
    expect(none.body.message).toMatch(/Authorization/);

    const garbage = await request(ingestUrl(), 'POST', { token: 'not-a-token', body });
    expect(garbage.status).toBe(401);
    expect(garbage.body.message).toMatch(/token is invalid/);

    const forgedKey = await request(ingestUrl(), 'POST', { token: tenant.apiKey.slice(0, -4) + 'AAAA', body });
    expect(forgedKey.status).toBe(401);

    const sign = createSigner({ key: 'x'.repeat(40), iss: 'tracefold', clockTimestamp: Date.now() - 7_200_000, expiresIn: 60_000 });
    const keyId = tenant.apiKey.split('_')[1];
    const expired = await request(ingestUrl(), 'POST', { token: sign({ sub: tenant.tenantId, kid: keyId }), body });
    expect(expired.status).toBe(401);
    expect(expired.body.message).toMatch(/expired/);
  });

  it('an unknown tenant is refused: 401 for a token naming it, 404 for a path naming it', async () => {
    const sign = createSigner({ key: 'x'.repeat(40), iss: 'tracefold', expiresIn: 60_000 });
    const keyId = tenant.apiKey.split('_')[1];
    const ghost = await request(`${server.url}/v1/traces`, 'POST', { token: sign({ sub: 'no-such-tenant', kid: keyId }), body: loopingTrace('g', 1) });
    expect(ghost.status).toBe(401);
    const other = await request(`${server.url}/api/v1/tenants/no-such-tenant/traces/ingest`, 'POST', { token: tenant.token, body: loopingTrace('g', 1) });
    expect(other.status).toBe(404);
    const badKey = await request(`${server.url}/api/v1/auth/token`, 'POST', { body: { api_key: 'tfk_0000000000000000_' + 'A'.repeat(43) } });
    expect(badKey.status).toBe(401);
    const noKey = await request(`${server.url}/api/v1/auth/token`, 'POST', { body: {} });
    expect(noKey.status).toBe(400);
    expect(noKey.body.message).toContain('body.api_key');
  });

  it('feedback with a bad feedback_type is a 400 naming the field', async () => {
    const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/feedback`, 'POST', {
      token: tenant.token,
      body: { detection_id: 'x', feedback_type: 'maybe' },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('body.feedback_type');
  });

  it('a service.name of 70,000 characters is refused naming service.name, and the server keeps serving', async () => {
    const poison = otlpPayload('poison-service', [{ spanId: 'p1', name: 'chat', startMs: 1_700_000_000_000 }], 'S'.repeat(70_000));
    const refused = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: poison });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('INVALID_REQUEST');
    expect(refused.body.message).toContain('resource.attributes["service.name"]: 70000 characters, over the limit of 256');

    // With a valid sibling: OTLP partial success, the bad span counted and named.
    const mixed = otlpPayload('poison-mixed', [{ spanId: 'ok', name: 'chat', startMs: 1_700_000_000_000 }]);
    mixed.resourceSpans.push(poison.resourceSpans[0]!);
    const partial = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: mixed });
    expect(partial.status).toBe(200);
    expect(partial.body.partialSuccess.rejectedSpans).toBe('1');
    expect(partial.body.partialSuccess.errorMessage).toMatch(/resourceSpans\[1\]\.scopeSpans\[0\]\.spans\[0\]: resource\.attributes\["service\.name"\]/);

    // Every tenant is still served end to end: another tenant's trace is analysed.
    const other = await createTenant(server.url, 'other-tenant');
    const ok = await request(`${server.url}/v1/traces`, 'POST', { token: other.apiKey, body: loopingTrace('after-poison', 3) });
    expect(ok.status).toBe(200);
    const analyzed = await request(`${server.url}/api/v1/tenants/${other.tenantId}/traces/after-poison/analyze`, 'POST', { token: other.token });
    expect(analyzed.status).toBe(200);
    expect(analyzed.body.primary_failure.detection_type).toBe('loop');
  });

  it('an over-long agent name is refused on the flat-span and session routes, naming the attribute', async () => {
    const flat = await request(`${server.url}/api/v1/spans/ingest`, 'POST', {
      token: tenant.apiKey,
      body: { spans: [{ trace_id: 'flat-long', span_id: 's1', name: 'node', attributes: { 'langgraph.node.name': 'A'.repeat(70_000) } }] },
    });
    expect(flat.status).toBe(400);
    expect(flat.body.message).toContain('attributes["langgraph.node.name"]: 70000 characters, over the limit of 256 for an agent name');

    const session = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/sessions`, 'POST', {
      token: tenant.token,
      body: { sessionId: 'long-model', events: [{ type: 'llm_call', attributes: { 'gen_ai.request.model': 'M'.repeat(70_000) } }] },
    });
    expect(session.status).toBe(400);
    expect(session.body.message).toContain('attributes["gen_ai.request.model"]: 70000 characters, over the limit of 256 for a model name');
  });

  it('ids as long as ingest accepts (256 characters) are reachable on every route that takes them in its path', async () => {
    const traceId = `t${'x'.repeat(255)}`;
    const ingested = await request(ingestUrl(), 'POST', { token: tenant.token, body: loopingTrace(traceId, 3) });
    expect(ingested.status).toBe(202);
    const base = `${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}`;
    const analyzed = await request(`${base}/analyze`, 'POST', { token: tenant.token });
    expect(analyzed.status).toBe(200);
    expect(analyzed.body.primary_failure.detection_type).toBe('loop');
    const detail = await request(base, 'GET', { token: tenant.token });
    expect(detail.status).toBe(200);
    expect(detail.body.trace_id).toBe(traceId);
    expect((await request(`${base}/anomalies`, 'GET', { token: tenant.token })).status).toBe(200);

    const sessionId = `s${'é'.repeat(255)}`;
    const started = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/sessions/${encodeURIComponent(sessionId)}/start`, 'POST', { token: tenant.token, body: {} });
    expect(started.status).toBe(201);
    expect(started.body.session_id).toBe(sessionId);

    // One character more is refused by name, in the documented error shape.
    const tooLong = await request(`${base}x`, 'GET', { token: tenant.token });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toEqual({ error: 'INVALID_REQUEST', message: expect.stringContaining('params.traceId') });
  });

  const deep = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
  const huge = (c: string) => c.repeat(70_000);
  const tooLate = '18446744073709551616';

  /** Hostile and careless requests that once answered 5xx or Fastify's own error codes. */
  const hostile: { what: string; method: string; path: (tenantId: string) => string; body?: unknown; rawBody?: string; status: number; names: string }[] = [
    { what: 'trace list from past 2^64', method: 'GET', path: (t) => `/api/v1/tenants/${t}/traces?from=${tooLate}`, status: 400, names: 'query.from' },
    { what: 'trace list to past 2^64', method: 'GET', path: (t) => `/api/v1/tenants/${t}/traces?to=${tooLate}`, status: 400, names: 'query.to' },
    { what: 'detection list from past 2^64', method: 'GET', path: (t) => `/api/v1/tenants/${t}/detections?from=${tooLate}`, status: 400, names: 'query.from' },
    { what: 'detection list to past 2^64', method: 'GET', path: (t) => `/api/v1/tenants/${t}/detections?to=${tooLate}`, status: 400, names: 'query.to' },
    { what: 'rollups from past 2^64', method: 'GET', path: (t) => `/api/v1/tenants/${t}/metrics/rollups?from=${tooLate}`, status: 400, names: 'query.from' },
    { what: 'trace list filtered by an over-long service', method: 'GET', path: (t) => `/api/v1/tenants/${t}/traces?service=${'s'.repeat(300)}`, status: 400, names: 'query.service' },
    { what: 'detections filtered by an over-long trace id', method: 'GET', path: (t) => `/api/v1/tenants/${t}/detections?trace_id=${'t'.repeat(300)}`, status: 400, names: 'query.trace_id' },
    { what: 'feedback on a 70,000-character detection id', method: 'POST', path: (t) => `/api/v1/tenants/${t}/feedback`, body: { detection_id: huge('d'), feedback_type: 'true_positive' }, status: 400, names: 'body.detection_id' },
    { what: 'missed feedback on a 70,000-character trace id', method: 'POST', path: (t) => `/api/v1/tenants/${t}/feedback`, body: { feedback_type: 'missed', trace_id: huge('t'), detector: 'loop' }, status: 400, names: 'body.trace_id' },
    { what: 'a flat-span attribute nested 100k levels', method: 'POST', path: () => '/api/v1/spans/ingest', rawBody: `{"spans":[{"trace_id":"deep","span_id":"s1","attributes":${deep(100_000)}}]}`, status: 400, names: 'body.spans.0.attributes.a' },
    { what: 'a session event input nested 100k levels', method: 'POST', path: (t) => `/api/v1/tenants/${t}/sessions`, rawBody: `{"sessionId":"deep","events":[{"type":"llm_call","input":${deep(100_000)}}]}`, status: 400, names: 'body.events.0.input' },
    { what: 'session metadata nested 100k levels', method: 'POST', path: (t) => `/api/v1/tenants/${t}/sessions`, rawBody: `{"sessionId":"deep","metadata":${deep(100_000)},"events":[]}`, status: 400, names: 'body.metadata' },
    { what: 'analyze with a JSON content type and an empty body', method: 'POST', path: (t) => `/api/v1/tenants/${t}/traces/kept/analyze`, rawBody: '', status: 400, names: 'body: empty' },
  ];

  it.each(hostile)('$what is a $status in the documented error shape naming $names', async (c) => {
    const res = await request(`${server.url}${c.path(tenant.tenantId)}`, c.method, {
      token: c.path(tenant.tenantId).startsWith('/api/v1/spans') ? tenant.apiKey : tenant.token,
      ...(c.rawBody !== undefined ? { rawBody: c.rawBody, headers: { 'content-type': 'application/json' } } : {}),
      ...(c.body !== undefined ? { body: c.body } : {}),
    });
    expect(res.status).toBe(c.status);
    expect(res.body).toEqual({ error: 'INVALID_REQUEST', message: expect.stringContaining(c.names) });
  });

  it('data accepted before the bad requests is intact', async () => {
    const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/kept/analyze`, 'POST', { token: tenant.token });
    expect(res.status).toBe(200);
    expect(res.body.primary_failure.detection_type).toBe('loop');
    const trace = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/kept`, 'GET', { token: tenant.token });
    expect(trace.body.span_count).toBe(4);
  });

  it('admin token: with TRACEFOLD_ADMIN_TOKEN set, tenant creation needs it', async () => {
    const guarded = await startServer({ TRACEFOLD_ADMIN_TOKEN: 'admin-token-0123456789' });
    try {
      const without = await request(`${guarded.url}/api/v1/auth/tenants`, 'POST', { body: { name: 'x' } });
      expect(without.status).toBe(401);
      const wrong = await request(`${guarded.url}/api/v1/auth/tenants`, 'POST', { token: 'admin-token-wrong-000', body: { name: 'x' } });
      expect(wrong.status).toBe(401);
      const right = await request(`${guarded.url}/api/v1/auth/tenants`, 'POST', { token: 'admin-token-0123456789', body: { name: 'x' } });
      expect(right.status).toBe(201);
    } finally {
      await guarded.stop();
    }
  });
});
