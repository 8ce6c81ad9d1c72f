/**
 * The query API over the views: the trace list with its filters and keyset pages, trace
 * detail of any revision, detection filters, and tenants and API keys (a revoked key stops
 * working at once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../src/log/topics.js';
import { otlpPayload, type SpanSpec } from '../support/otlp.js';
import { request, startServer, type TestServer } from '../support/server.js';

const ADMIN = 'admin-token-for-the-query-tests';
const T0 = 1_700_000_000_000;

interface RunSpec {
  service: string;
  agent: string;
  model: string;
  root: string;
  failingTool?: boolean;
  loop?: boolean;
}

function payload(traceId: string, r: RunSpec, t0 = T0) {
  const spans: SpanSpec[] = [
    { spanId: 'root', name: r.root, startMs: t0, durationMs: 2000, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': r.agent } },
    {
      spanId: 'llm',
      parentSpanId: 'root',
      name: 'chat',
      startMs: t0 + 10,
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': r.model, 'gen_ai.usage.input_tokens': 100, 'gen_ai.usage.output_tokens': 20, 'gen_ai.agent.name': r.agent },
    },
  ];
  const calls = r.loop === true ? 3 : 1;
  for (let i = 0; i < calls; i++) {
    spans.push({
      spanId: `tool-${i}`,
      parentSpanId: 'root',
      name: 'execute_tool fetch',
      startMs: t0 + 100 + i * 100,
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'fetch', 'gen_ai.tool.call.arguments': '{"id":1}', 'gen_ai.agent.name': r.agent },
      ...(r.failingTool === true ? { error: 'ENOENT: no such record' } : {}),
    });
  }
  return otlpPayload(traceId, spans, r.service);
}

const RUNS: Record<string, RunSpec> = {
  'q-1': { service: 'billing', agent: 'planner', model: 'gpt-4o', root: 'refund flow' },
  'q-2': { service: 'billing', agent: 'coder', model: 'gpt-4o-mini', root: 'invoice export', failingTool: true },
  'q-3': { service: 'support', agent: 'planner', model: 'gpt-4o', root: 'triage ticket', loop: true },
  'q-4': { service: 'support', agent: 'researcher', model: 'claude-sonnet-4', root: 'refund lookup' },
  'q-5': { service: 'support', agent: 'coder', model: 'gpt-4o', root: 'patch script', failingTool: true, loop: true },
};

describe('query API', () => {
  let server: TestServer;
  let tenant: { tenantId: string; apiKey: string; token: string };
  let other: { tenantId: string; apiKey: string; token: string };

  async function createTenant(name: string) {
    const created = await request(`${server.url}/api/v1/auth/tenants`, 'POST', { token: ADMIN, body: { name } });
    expect(created.status).toBe(201);
    const token = await request(`${server.url}/api/v1/auth/token`, 'POST', { body: { api_key: created.body.api_key } });
    return { tenantId: created.body.tenant_id as string, apiKey: created.body.api_key as string, token: token.body.access_token as string };
  }

  const get = (path: string, token = tenant.token) => request(`${server.url}/api/v1/tenants/${tenant.tenantId}${path}`, 'GET', { token });

  beforeAll(async () => {
    server = await startServer({ TRACEFOLD_ADMIN_TOKEN: ADMIN, TRACEFOLD_INACTIVITY_GAP_MS: '600000' });
    tenant = await createTenant('queried');
    other = await createTenant('other');
    for (const [traceId, run] of Object.entries(RUNS)) {
      expect((await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: payload(traceId, run) })).status).toBe(200);
      expect((await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await server.stop();
  });

  const ids = async (query: string) => {
    const res = await get(`/traces${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body.items as { trace_id: string }[]).map((t) => t.trace_id);
  };

  it('lists traces newest first and pages through them exactly once with keyset cursors', async () => {
    expect(await ids('')).toEqual(['q-5', 'q-4', 'q-3', 'q-2', 'q-1']);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/traces?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((t: any) => t.trace_id));
      cursor = res.body.next_cursor;
    } while (cursor !== null);
    expect(seen).toEqual(['q-5', 'q-4', 'q-3', 'q-2', 'q-1']);
    const first = (await get('/traces?limit=1')).body.items[0];
    expect(first).toMatchObject({ trace_id: 'q-5', service_name: 'support', agents: ['coder'], models: ['gpt-4o'], has_error: true, max_severity: expect.any(String) });
    // Its loop and tool failures are subsumed by the retry storm that explains them: not failures of their own.
    expect(first.detection_types).toEqual(['retry_storm']);
  });

  it('filters traces by service, agent, model, status, failures, detection type, severity, name and time', async () => {
    expect(await ids('?service=billing')).toEqual(['q-2', 'q-1']);
    expect(await ids('?agent=planner')).toEqual(['q-3', 'q-1']);
    expect(await ids('?model=gpt-4o')).toEqual(['q-5', 'q-3', 'q-1']);
    expect(await ids('?status=error')).toEqual(['q-5', 'q-2']);
    expect(await ids('?has_failures=false')).toEqual(['q-4', 'q-1']);
    expect(await ids('?has_failures=true')).toEqual(['q-5', 'q-3', 'q-2']);
    expect(await ids('?detection_type=loop')).toEqual(['q-3']);
    expect(await ids('?detection_type=retry_storm')).toEqual(['q-5']);
    expect(await ids('?min_severity=high')).toEqual(['q-5', 'q-2']);
    expect(await ids('?name_contains=REFUND')).toEqual(['q-4', 'q-1']);
    expect(await ids('?service=support&detection_type=loop&agent=planner')).toEqual(['q-3']);
    // The failure score: lowest on the runs without failures; the filter keeps those at or above it.
    const scores = Object.fromEntries(((await get('/traces')).body.items as { trace_id: string; failure_score: number }[]).map((t) => [t.trace_id, t.failure_score]));
    for (const id of ['q-5', 'q-3', 'q-2']) expect(scores[id]).toBeGreaterThan(scores['q-1']!);
    expect(scores['q-4']).toBe(scores['q-1']);
    expect(await ids(`?min_failure_score=${scores['q-1']! + 0.001}`)).toEqual(['q-5', 'q-3', 'q-2']);
    const detail = (await get('/traces/q-5')).body;
    expect(detail.failure_score).toBe(scores['q-5']);
    // The list counts what the detail counts: subsumed detections (and their live copies) are no failures of their own.
    const standing = (detail.detections as { subsumed_by: string | null }[]).filter((d) => d.subsumed_by === null).length;
    expect(((await get('/traces')).body.items as { trace_id: string; failure_count: number }[]).find((t) => t.trace_id === 'q-5')!.failure_count).toBe(standing);
    expect(await ids(`?to=${new Date(Date.now() - 3_600_000).toISOString()}`)).toEqual([]);
    expect(await ids(`?from=${Date.now() - 3_600_000}`)).toHaveLength(5);
  });

  it('orders traces by failure score, highest first then newest, and pages that order with its own cursors', async () => {
    const listed = (await get('/traces')).body.items as { trace_id: string; failure_score: number; closed_at: string }[];
    const expected = [...listed].sort((a, b) => b.failure_score - a.failure_score || Date.parse(b.closed_at) - Date.parse(a.closed_at) || (a.trace_id < b.trace_id ? 1 : -1)).map((t) => t.trace_id);
    expect(await ids('?sort=failure_score')).toEqual(expected);
    // The runs without failures share the lowest score and come last, newest first.
    expect(expected.slice(-2)).toEqual(['q-4', 'q-1']);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/traces?sort=failure_score&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      seen.push(...res.body.items.map((t: any) => t.trace_id));
      cursor = res.body.next_cursor;
      // A cursor of the score order is not one of the time order.
      if (cursor !== null) expect((await get(`/traces?limit=2&cursor=${cursor}`)).body.message).toContain('query.cursor');
    } while (cursor !== null);
    expect(seen).toEqual(expected);
    // Filters hold in this order too: the floor, a facet and the time range.
    const floor = listed.find((t) => t.trace_id === 'q-1')!.failure_score + 0.001;
    expect(await ids(`?sort=failure_score&min_failure_score=${floor}`)).toEqual(expected.filter((id) => id !== 'q-4' && id !== 'q-1'));
    expect(await ids('?sort=failure_score&service=billing')).toEqual(expected.filter((id) => RUNS[id]!.service === 'billing'));
    expect(await ids(`?sort=failure_score&to=${Date.now() - 3_600_000}`)).toEqual([]);
    expect((await get('/traces?sort=score')).body.message).toContain('query.sort');
  });

  it('answers 400 naming the field for a bad filter or cursor', async () => {
    for (const [query, field] of [
      ['?status=broken', 'query.status'],
      ['?min_severity=severe', 'query.min_severity'],
      ['?has_failures=maybe', 'query.has_failures'],
      ['?min_failure_score=1.5', 'query.min_failure_score'],
      ['?from=yesterday', 'query.from'],
      ['?limit=0', 'query.limit'],
      ['?cursor=AAAA', 'query.cursor'],
    ] as const) {
      const res = await get(`/traces${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.message, query).toContain(field);
    }
  });

  it('shows the latest revision by default and any revision on request', async () => {
    // A late span reopens q-1 as revision 2.
    const late = otlpPayload('q-1', [{ spanId: 'late', parentSpanId: 'root', name: 'execute_tool fetch', startMs: T0 + 900, error: 'timeout', attributes: { 'gen_ai.tool.name': 'fetch' } }], 'billing');
    expect((await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: late })).status).toBe(200);
    expect((await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/q-1/analyze`, 'POST', { token: tenant.token })).status).toBe(200);
    const latest = await get('/traces/q-1');
    expect(latest.body).toMatchObject({ revision: 2, span_count: 4 });
    expect(latest.body.detections.length).toBeGreaterThan(0);
    const first = await get('/traces/q-1?revision=1');
    expect(first.body).toMatchObject({ revision: 1, span_count: 3, detections: [] });
    expect((await get('/traces/q-1?revision=7')).status).toBe(404);
    expect((await get('/traces/q-1?revision=zero')).body.message).toContain('query.revision');
    // The list shows the latest revision's facets.
    expect(await ids('?has_failures=false')).toEqual(['q-4']);
  });

  it('filters detections by type, severity, confidence, agent and trace', async () => {
    const list = async (query: string) => {
      const res = await get(`/detections${query}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body as { detection_type: string; trace_id: string; severity: string; confidence: number; agent: string | null }[];
    };
    expect((await list('?type=loop')).map((d) => d.trace_id).sort()).toEqual(['q-3', 'q-5']);
    expect((await list('?trace_id=q-2')).every((d) => d.trace_id === 'q-2')).toBe(true);
    expect((await list('?min_severity=high')).every((d) => ['high', 'critical'].includes(d.severity))).toBe(true);
    expect((await list('?min_confidence=0.9')).every((d) => d.confidence >= 0.9)).toBe(true);
    expect((await list('?max_confidence=0.75')).every((d) => d.confidence <= 0.75)).toBe(true);
    expect((await list('?agent=coder')).map((d) => d.agent)).toEqual(expect.arrayContaining(['coder']));
    expect((await list('?agent=coder')).every((d) => d.agent === 'coder')).toBe(true);
    expect((await get('/detections?min_confidence=2')).body.message).toContain('query.min_confidence');
  });

  it('answers numbered pages of traces and detections in the Pisama platform envelope', async () => {
    const pages: string[][] = [];
    for (const page of [1, 2, 3, 4]) {
      const res = await get(`/traces?page=${page}&per_page=2`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ page, per_page: 2 });
      pages.push(res.body.traces.map((t: any) => t.id));
      for (const t of res.body.traces) expect(t).toMatchObject({ id: t.trace_id, session_id: t.trace_id, detection_status: 'complete' });
    }
    // The same order as the cursor-paged list, cut in twos.
    const all = await ids('');
    expect(all).toHaveLength(5);
    expect(pages).toEqual([all.slice(0, 2), all.slice(2, 4), all.slice(4), []]);

    const own = await get('/detections?trace_id=q-3');
    const platform = await get('/detections?trace_id=q-3&per_page=100');
    expect(platform.status).toBe(200);
    expect(platform.body).toMatchObject({ page: 1, per_page: 100 });
    expect(platform.body.items.map((d: any) => d.id)).toEqual(own.body.map((d: any) => d.id));
    const [mine, theirs] = [own.body[0], platform.body.items[0]];
    expect(theirs.confidence).toBe(Math.round(mine.confidence * 100));
    expect(theirs.details).toMatchObject({ severity: mine.severity, summary: mine.title, evidence: mine.evidence });
    expect(theirs.details.severity_score).toBeGreaterThanOrEqual(0);
    expect(theirs.details.severity_score).toBeLessThanOrEqual(100);
  });

  it('refuses a numbered page mixed with a cursor or beyond the deepest numbered page, naming the field', async () => {
    const mixed = await get('/traces?page=2&limit=10');
    expect(mixed.status).toBe(400);
    expect(mixed.body.message).toContain('query.limit');
    const cursor = await get('/detections?per_page=10&cursor=abc');
    expect(cursor.status).toBe(400);
    expect(cursor.body.message).toContain('query.cursor');
    const deep = await get('/traces?page=1001&per_page=100');
    expect(deep.status).toBe(400);
    expect(deep.body.message).toContain('query.page');
    expect((await get('/traces?page=0')).body.message).toContain('query.page');
  });

  it('puts the tenant in the token as tenant_id beside sub', async () => {
    const [, claims] = tenant.token.split('.');
    const decoded = JSON.parse(Buffer.from(claims!, 'base64url').toString('utf8'));
    expect(decoded).toMatchObject({ sub: tenant.tenantId, tenant_id: tenant.tenantId });
  });

  it('creates, lists and revokes API keys; a revoked key and its tokens stop working at once', async () => {
    const created = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/api-keys`, 'POST', { token: tenant.token });
    expect(created.status).toBe(201);
    const { key_id: keyId, api_key: apiKey } = created.body;
    const token = (await request(`${server.url}/api/v1/auth/token`, 'POST', { body: { api_key: apiKey } })).body.access_token;
    expect((await get('/traces?limit=1', apiKey)).status).toBe(200);
    const keys = (await get('/api-keys')).body.items;
    expect(keys.map((k: any) => k.key_id)).toContain(keyId);
    expect(JSON.stringify(keys)).not.toContain(apiKey.split('_')[2]);

    const revoked = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/api-keys/${keyId}`, 'DELETE', { token: tenant.token });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).not.toBeNull();
    expect((await get('/traces?limit=1', apiKey)).status).toBe(401);
    expect((await get('/traces?limit=1', token)).status).toBe(401);
    expect((await get('/api-keys')).body.items.find((k: any) => k.key_id === keyId).revoked_at).not.toBeNull();
    // Another tenant cannot see or revoke this tenant's keys.
    const foreign = await request(`${server.url}/api/v1/tenants/${other.tenantId}/api-keys/${keyId}`, 'DELETE', { token: other.token });
    expect(foreign.status).toBe(404);
  });

  it('lists tenants for the operator only', async () => {
    const listed = await request(`${server.url}/api/v1/tenants`, 'GET', { token: ADMIN });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((t: any) => t.name)).toEqual(expect.arrayContaining(['queried', 'other']));
    expect((await request(`${server.url}/api/v1/tenants`, 'GET', { token: tenant.token })).status).toBe(401);
    expect((await get('')).body).toMatchObject({ tenant_id: tenant.tenantId, name: 'queried' });
  });

  it('answers not ready while the views lag beyond the configured bound', async () => {
    const strict = await startServer({ TRACEFOLD_READY_MAX_VIEW_LAG: '0' });
    try {
      expect((await request(`${strict.url}/readyz`, 'GET')).body).toMatchObject({ status: 'ready', view_lag: 0, max_view_lag: 0 });
      // With the views stopped, a record on one of their topics is lag they do not catch up.
      await strict.tracefold.views!.stop();
      await strict.tracefold.log.append(TOPICS.feedback, [{ key: Buffer.from('t'), value: Buffer.from('x') }]);
      const lagging = await request(`${strict.url}/readyz`, 'GET');
      expect(lagging.status).toBe(503);
      expect(lagging.body).toMatchObject({ status: 'not_ready', view_lag: 1, log: { healthy: true } });
    } finally {
      await strict.stop();
    }
  });
});
