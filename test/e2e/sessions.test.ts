/**
 * The session-events API against a real server with the default 30 s inactivity gap:
 * batch sessions (analysed, replaced by a re-send), streaming start / events / end closing
 * the window promptly, 404s for unknown and ended sessions, 400s naming fields, and the
 * seed's own paths and answers.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpPayload } from '../support/otlp.js';
import { waitFor } from '../support/poll.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

const derivedTraceId = (sessionId: string) => createHash('sha256').update(sessionId).digest('hex').slice(0, 32);

function toolCall(id: string, query = 'pricing of acme') {
  return {
    id,
    type: 'tool_call',
    toolName: 'web_search',
    sections: [
      { type: 'input', content: JSON.stringify({ query }) },
      { type: 'output', content: '{"results": []}' },
    ],
  };
}

function flatten(spans: any[]): any[] {
  return spans.flatMap((s) => [s, ...flatten(s.children)]);
}

describe('session events API', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  let base: string;

  beforeAll(async () => {
    server = await startServer();
    expect(server.config.inactivityGapMs).toBe(30_000);
    tenant = await createTenant(server.url);
    base = `${server.url}/api/v1/tenants/${tenant.tenantId}`;
  });
  afterAll(async () => {
    await server.stop();
  });

  const post = (path: string, body?: unknown) => request(`${base}${path}`, 'POST', { token: tenant.apiKey, body });
  const getTrace = (traceId: string) => request(`${base}/traces/${traceId}`, 'GET', { token: tenant.token });
  const analyze = (traceId: string) => request(`${base}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });

  /** Polls the trace until `ready` holds; a session's end closes it without analyze. */
  async function waitForTrace(traceId: string, ready: (body: any) => boolean, timeoutMs = 10_000) {
    let last = '';
    const body = await waitFor(async () => {
      const res = await getTrace(traceId);
      last = `${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
      return res.status === 200 && ready(res.body) ? res.body : undefined;
    }, { timeoutMs });
    if (body === null) throw new Error(`trace ${traceId} not ready: ${last}`);
    return body;
  }

  it('a batch session becomes one trace: GenAI attributes, a root span, and a loop detection', async () => {
    const sessionId = 'batch-loop-1';
    const res = await post('/sessions', {
      sessionId,
      agent: { name: 'researcher', version: '1.0.0', model: 'gpt-4o' },
      startedAt: '2025-01-15T10:00:00Z',
      endedAt: '2025-01-15T10:00:05Z',
      status: 'completed',
      events: [
        {
          id: 'llm-1',
          type: 'llm_call',
          label: 'Plan',
          sections: [
            { type: 'input', content: 'Find the price' },
            { type: 'output', content: 'I will search' },
          ],
          inputTokens: 500,
          outputTokens: 200,
        },
        toolCall('t-1'),
        toolCall('t-2'),
        toolCall('t-3'),
        toolCall('t-4'),
      ],
    });
    expect(res.status).toBe(202);
    const traceId = derivedTraceId(sessionId);
    expect(res.body).toEqual({
      session_id: sessionId,
      trace_id: traceId,
      state: 'ended',
      status: 'completed',
      events_stored: 5,
      total_events: 5,
      duration_ms: 5000,
    });

    const analysed = await analyze(traceId);
    expect(analysed.status).toBe(200);
    const loops = analysed.body.all_detections.filter((d: any) => d.detection_type === 'loop');
    expect(loops).toHaveLength(1);
    expect(loops[0].agent).toBe('researcher');
    expect(loops[0].affected_span_ids).toHaveLength(4);

    const trace = await getTrace(traceId);
    expect(trace.status).toBe(200);
    expect(trace.body).toMatchObject({ trace_id: traceId, revision: 1, span_count: 6, close_reason: 'session_end', service_name: 'researcher' });
    expect(trace.body.metrics).toMatchObject({ input_tokens: 500, output_tokens: 200, tool_call_count: 4 });
    // One root (the session) with every event under it.
    expect(trace.body.spans).toHaveLength(1);
    const root = trace.body.spans[0];
    expect(root).toMatchObject({ operation: 'invoke_agent', agent: 'researcher', name: 'invoke_agent researcher' });
    expect(root.attributes).toMatchObject({ 'session.id': sessionId, 'session.status': 'completed', 'session.event_count': 5 });
    expect(root.children).toHaveLength(5);
    const llm = root.children.find((s: any) => s.attributes['session.event.id'] === 'llm-1');
    expect(llm).toMatchObject({ operation: 'chat', model: 'gpt-4o', input_tokens: 500, output_tokens: 200, agent: 'researcher' });
    expect(JSON.parse(llm.attributes['gen_ai.input.messages'])).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Find the price' }] }]);
    const tools = root.children.filter((s: any) => s.operation === 'execute_tool');
    expect(tools.map((s: any) => s.tool)).toEqual(['web_search', 'web_search', 'web_search', 'web_search']);
    expect([...loops[0].affected_span_ids].sort()).toEqual(tools.map((s: any) => s.span_id).sort());
  });

  it('re-sending a session replaces its event list: the next revision holds only the new events', async () => {
    const sessionId = 'batch-replace-1';
    const traceId = derivedTraceId(sessionId);
    const events = ['a', 'b', 'c', 'd'].map((id) => toolCall(id));
    expect((await post('/sessions', { sessionId, agent: { name: 'researcher' }, events })).status).toBe(202);
    const first = await waitForTrace(traceId, (t) => t.revision === 1 && t.detections.length > 0);
    expect(first.span_count).toBe(5);
    expect(first.detections.map((d: any) => d.detection_type)).toEqual(['loop']);

    // Same session, two of the events: the trace closed, so the replacement is revision 2,
    // whose outputs supersede revision 1's (its loop detection goes with it).
    const resent = await post('/sessions', { sessionId, agent: { name: 'researcher' }, events: events.slice(0, 2) });
    expect(resent.status).toBe(202);
    expect(resent.body).toMatchObject({ trace_id: traceId, events_stored: 2, total_events: 2 });
    const second = await waitForTrace(traceId, (t) => t.revision === 2);
    expect(second.span_count).toBe(3);
    const analysed = await analyze(traceId);
    expect(analysed.body).toMatchObject({ revision: 2, has_failures: false, all_detections: [] });
    const spanIds = flatten(second.spans).map((s) => s.attributes['session.event.id']).filter((id) => id !== undefined);
    expect(spanIds.sort()).toEqual(['a', 'b']);

    // The very same session again (a client whose answer was lost) changes nothing: had it
    // made a revision, the changed session sent after it would not be revision 3.
    expect((await post('/sessions', { sessionId, agent: { name: 'researcher' }, events: events.slice(0, 2) })).status).toBe(202);
    expect((await post('/sessions', { sessionId, agent: { name: 'researcher' }, events: events.slice(0, 1) })).status).toBe(202);
    const third = await waitForTrace(traceId, (t) => t.revision >= 3);
    expect(third).toMatchObject({ revision: 3, span_count: 2 });
  });

  it('a session batch on an OTLP trace replaces only its own events, never the spans OTLP sent', async () => {
    const traceId = 'c0ffee00000000000000000000000001';
    const otlp = otlpPayload(traceId, [
      { spanId: '00000000000000a1', name: 'otlp step one', startMs: 1_700_000_000_000 },
      { spanId: '00000000000000a2', name: 'otlp step two', startMs: 1_700_000_000_200 },
    ]);
    expect((await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: otlp })).status).toBe(200);
    // The OTLP window is still open (30 s gap) when the session names the same trace.
    const sessionId = 'batch-over-otlp-1';
    expect((await post('/sessions', { sessionId, traceId, agent: { name: 'researcher' }, events: [toolCall('x')] })).status).toBe(202);
    const first = await waitForTrace(traceId, (t) => t.revision === 1);
    const names = (t: any) => flatten(t.spans).map((s: any) => s.name);
    expect(names(first)).toEqual(expect.arrayContaining(['otlp step one', 'otlp step two']));
    expect(first.span_count).toBe(4);
    // A changed batch replaces the session's spans and keeps OTLP's, in the next revision.
    expect((await post('/sessions', { sessionId, traceId, agent: { name: 'researcher' }, events: [toolCall('y'), toolCall('z')] })).status).toBe(202);
    const second = await waitForTrace(traceId, (t) => t.revision === 2);
    expect(names(second)).toEqual(expect.arrayContaining(['otlp step one', 'otlp step two']));
    expect(second.span_count).toBe(5);
    const eventIds = flatten(second.spans).map((s: any) => s.attributes['session.event.id']).filter((id: unknown) => id !== undefined);
    expect(eventIds.sort()).toEqual(['y', 'z']);
  });

  it('streaming: start, events, end closes the window promptly, long before the inactivity gap', async () => {
    const sessionId = 'stream-1';
    const started = await post(`/sessions/${sessionId}/start`, { agent: { name: 'streamer' } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ session_id: sessionId, trace_id: derivedTraceId(sessionId), state: 'open', status: 'in_progress', total_events: 0 });
    // A retried start is harmless.
    expect((await post(`/sessions/${sessionId}/start`, { agent: { name: 'streamer' } })).status).toBe(200);

    const one = await post(`/sessions/${sessionId}/events`, { event: { type: 'llm_call', model: 'gpt-4o', inputTokens: 10, outputTokens: 5 } });
    expect(one.status).toBe(202);
    expect(one.body).toMatchObject({ events_stored: 1, total_events: 1 });
    const three = await post(`/sessions/${sessionId}/events`, { events: [toolCall('s1'), toolCall('s2'), toolCall('s3')] });
    expect(three.body).toMatchObject({ events_stored: 3, total_events: 4 });
    const state = await request(`${base}/sessions/${sessionId}`, 'GET', { token: tenant.token });
    expect(state.body).toMatchObject({ state: 'open', mode: 'stream', total_events: 4 });

    const t0 = Date.now();
    const ended = await post(`/sessions/${sessionId}/end`, { status: 'completed' });
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ state: 'ended', status: 'completed', total_events: 4 });
    const trace = await waitForTrace(derivedTraceId(sessionId), (t) => t.detections.length > 0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(trace).toMatchObject({ close_reason: 'session_end', span_count: 5, revision: 1 });
    expect(trace.detections.map((d: any) => d.detection_type)).toEqual(['loop']);
    const root = trace.spans[0];
    expect(root.attributes).toMatchObject({ 'session.state': 'ended', 'session.status': 'completed', 'session.event_count': 4 });
    expect(root.children).toHaveLength(4);
    // Events without times keep the order they were sent in.
    expect(root.children.map((s: any) => s.attributes['session.event.ordinal'])).toEqual([0, 1, 2, 3]);
  });

  it('answers 404 for events or end of an unknown or ended session, and 409 for restarting an ended one', async () => {
    const unknown = await post('/sessions/never-started/events', { event: { type: 'custom' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/session never-started not found/);
    expect((await post('/sessions/never-started/end', {})).status).toBe(404);
    expect((await request(`${base}/sessions/never-started`, 'GET', { token: tenant.token })).status).toBe(404);

    expect((await post('/sessions/short-1/start', {})).status).toBe(201);
    expect((await post('/sessions/short-1/end', {})).status).toBe(200);
    const after = await post('/sessions/short-1/events', { event: { type: 'custom' } });
    expect(after.status).toBe(404);
    expect(after.body.message).toMatch(/has ended/);
    expect((await post('/sessions/short-1/end', {})).status).toBe(404);
    expect((await post('/sessions/short-1/start', {})).status).toBe(409);
  });

  it('names the offending field in every 400', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['/sessions', { events: [] }, /body\.sessionId: /],
      ['/sessions', { sessionId: 's-400', events: [{ type: 'nonsense' }] }, /body\.events\.0\.type: /],
      ['/sessions', { sessionId: 's-400', events: [{ type: 'llm_call', inputTokens: -1 }] }, /body\.events\.0\.inputTokens: /],
      ['/sessions', { sessionId: 's-400', startedAt: 'yesterday', events: [] }, /body\.startedAt: /],
      [
        '/sessions',
        { sessionId: 's-400', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', events: [{ type: 'custom' }, { type: 'custom', traceId: '0af7651916cd43dd8448eb211c80319c' }] },
        /body\.events\.1\.traceId: .*differs from the session's trace id/,
      ],
      ['/sessions', { sessionId: 's-400', events: [{ type: 'custom', id: 'x' }, { type: 'custom', id: 'x' }] }, /body\.events\.1: has the same identity/],
    ];
    for (const [path, body, message] of cases) {
      const res = await post(path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message).toMatch(message);
    }
    expect((await post('/sessions/s-400b/start', {})).status).toBe(201);
    const noEvent = await post('/sessions/s-400b/events', {});
    expect(noEvent.status).toBe(400);
    expect(noEvent.body.message).toMatch(/body\.event: /);
    const badEvent = await post('/sessions/s-400b/events', { event: { type: 'tool_call', endedAt: 5, startedAt: 10 } });
    expect(badEvent.status).toBe(400);
    expect(badEvent.body.message).toMatch(/body\.event\.endedAt: before the event start/);
  });

  it("serves the seed's paths and answers, tenant from the credential", async () => {
    const seedSession = {
      sessionId: 'sess-abc123',
      threadId: 'thread-456',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      rootSpanId: '00f067aa0ba902b7',
      agent: { name: 'research-agent', version: '1.0.0', model: 'gpt-4' },
      status: 'completed',
      startedAt: '2025-01-15T10:00:00Z',
      endedAt: '2025-01-15T10:00:03Z',
      durationMs: 3500,
      summary: { totalInputTokens: 500, totalOutputTokens: 200, totalCachedInputTokens: 0 },
      events: [
        {
          id: 'evt-1',
          type: 'llm_call',
          label: 'Generate response',
          sequence: 1,
          traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
          spanId: 'b7ad6b7169203331',
          parentSpanId: '00f067aa0ba902b7',
          sections: [
            { type: 'input', content: 'User query...' },
            { type: 'output', content: 'Assistant response...' },
          ],
          inputTokens: 500,
          outputTokens: 200,
        },
      ],
    };
    const seed = `${server.url}/api/client/v1/tracing/sessions`;
    const batch = await request(seed, 'POST', { token: tenant.apiKey, body: seedSession });
    expect(batch.status).toBe(202);
    expect(batch.body).toEqual({ success: true, sessionId: 'sess-abc123', eventsStored: 1, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
    const trace = await waitForTrace('4bf92f3577b34da6a3ce929d0e0e4736', () => true);
    expect(trace.spans).toHaveLength(1);
    expect(trace.spans[0]).toMatchObject({ span_id: '00f067aa0ba902b7', agent: 'research-agent' });
    expect(trace.spans[0].attributes).toMatchObject({ 'gen_ai.conversation.id': 'thread-456', 'session.summary': { totalInputTokens: 500 } });
    expect(trace.spans[0].children[0]).toMatchObject({ span_id: 'b7ad6b7169203331', name: 'Generate response', model: 'gpt-4', input_tokens: 500 });

    const start = await request(`${seed}/stream/sess-stream-9/start`, 'POST', { token: tenant.token, body: { agent: { name: 'research-agent' } } });
    expect(start.status).toBe(201);
    expect(start.body).toEqual({ success: true, sessionId: 'sess-stream-9', status: 'in_progress', traceId: derivedTraceId('sess-stream-9') });
    const e1 = await request(`${seed}/stream/sess-stream-9/events`, 'POST', { token: tenant.apiKey, body: { event: { id: 'evt-2', type: 'tool_call', label: 'Search API' } } });
    expect(e1.body).toEqual({ success: true, sessionId: 'sess-stream-9', totalEvents: 1, eventsStored: 1 });
    const end = await request(`${seed}/stream/sess-stream-9/end`, 'POST', { token: tenant.apiKey, body: { status: 'completed', durationMs: 3500 } });
    expect(end.status).toBe(200);
    expect(end.body).toMatchObject({ success: true, sessionId: 'sess-stream-9', status: 'completed', durationMs: 3500 });
    expect((await request(`${seed}/stream/sess-stream-9/events`, 'POST', { token: tenant.apiKey, body: { event: { type: 'custom' } } })).status).toBe(404);
  });

  it("keeps tenants apart: another tenant's session is unknown, and its path is not found", async () => {
    const other = await createTenant(server.url, 'other');
    expect((await post('/sessions/isolated-1/start', {})).status).toBe(201);
    const foreign = await request(`${server.url}/api/v1/tenants/${other.tenantId}/sessions/isolated-1/events`, 'POST', {
      token: other.apiKey,
      body: { event: { type: 'custom' } },
    });
    expect(foreign.status).toBe(404);
    const wrongTenantPath = await request(`${base}/sessions/isolated-1/events`, 'POST', { token: other.apiKey, body: { event: { type: 'custom' } } });
    expect(wrongTenantPath.status).toBe(404);
    expect((await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/sessions`, 'POST', { body: { sessionId: 'x' } })).status).toBe(401);
  });
});
