/**
 * Seed 003 (Cognipeer Console "Tracing API") against a real server: the document's requests
 * sent in its order with its bodies verbatim, answers compared with the ones it prints,
 * then its error table (400, 401, 404, 413 with TRACING_MAX_BODY_SIZE_MB) and a repeated
 * event id counted once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, request, startServer, type TestServer } from '../../support/server.js';
import { COGNIPEER_EXAMPLES as EX } from './examples.js';

const json = (text: string) => JSON.parse(text) as Record<string, unknown>;
const SESSION = 'sess-abc123';

describe('seed 003: Cognipeer Console tracing API', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  const send = (path: string, body: unknown, token = tenant.apiKey) => request(`${server.url}${path.replace(':sessionId', SESSION)}`, 'POST', { token, body });

  beforeAll(async () => {
    server = await startServer({ TRACING_MAX_BODY_SIZE_MB: '0.01' });
    tenant = await createTenant(server.url);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('runs the document top to bottom: batch, start, event, end, OTLP, each with its documented answer', async () => {
    const batch = await send(EX.paths.batch, json(EX.batch));
    expect(batch.status).toBe(202);
    expect(batch.body).toMatchObject(json(EX.batchResponse));

    // The document streams the session id its batch example just sent: the session opens again.
    const start = await send(EX.paths.start, json(EX.start));
    expect(start.status).toBe(200);
    expect(start.body).toMatchObject(json(EX.startResponse));

    const event = await send(EX.paths.event, json(EX.event));
    expect(event.status).toBe(202);
    expect(event.body).toMatchObject(json(EX.eventResponse));

    const end = await send(EX.paths.end, json(EX.end));
    expect(end.status).toBe(200);
    expect(end.body).toMatchObject(json(EX.endResponse));

    const otlp = await send(EX.paths.otlp, json(EX.otlp));
    expect(otlp.status).toBe(200);
    expect(otlp.body).toEqual(json(EX.otlpResponse));

    // The session's trace holds the batch's event and the streamed one.
    await expect
      .poll(async () => {
        const trace = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/4bf92f3577b34da6a3ce929d0e0e4736`, 'GET', { token: tenant.token });
        return trace.status === 200 ? (trace.body.spans[0].children as { span_id: string }[]).map((s) => s.span_id).sort() : [];
      })
      .toEqual(['5b8aa5a2d2d3e13c', 'b7ad6b7169203331']);
  });

  it('counts a repeated event id once in totalEvents', async () => {
    const path = EX.paths.event.replace(':sessionId', 'sess-repeat');
    expect((await send(EX.paths.start.replace(':sessionId', 'sess-repeat'), {})).status).toBe(201);
    const event = { id: 'evt-9', type: 'custom', label: 'once' };
    expect((await send(path, { event })).body).toMatchObject({ totalEvents: 1, eventsStored: 1 });
    expect((await send(path, { event })).body).toMatchObject({ totalEvents: 1, eventsStored: 0 });
    expect((await send(path, { events: [event, { id: 'evt-10', type: 'custom' }] })).body).toMatchObject({
      totalEvents: 2,
      eventsStored: 1,
    });
  });

  it("answers the document's error statuses: 400 naming the field, 401, 404, 413 naming TRACING_MAX_BODY_SIZE_MB", async () => {
    const missing = await send(EX.paths.batch, { events: [] });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('body.sessionId');
    const badType = await send(EX.paths.event, { event: { type: 'telepathy' } });
    expect(badType.status).toBe(400);
    expect(badType.body.message).toContain('body.event.type');
    expect((await send(EX.paths.batch, json(EX.batch), 'tfk_not-a-key')).status).toBe(401);
    const unknown = await send(EX.paths.event.replace(':sessionId', 'sess-never-started'), json(EX.event));
    expect(unknown.status).toBe(404);
    const large = await send(EX.paths.otlp, { resourceSpans: [], padding: 'x'.repeat(20_000) });
    expect(large.status).toBe(413);
    expect(large.body.message).toContain('TRACING_MAX_BODY_SIZE_MB');
    // tracefold's own paths keep their own limit and their 409 for restarting an ended session.
    expect((await request(`${server.url}/api/v1/spans/ingest`, 'POST', { token: tenant.apiKey, body: { spans: [], padding: 'x'.repeat(20_000) } })).status).toBe(202);
    expect((await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/sessions/${SESSION}/start`, 'POST', { token: tenant.apiKey, body: {} })).status).toBe(409);
  });
});
