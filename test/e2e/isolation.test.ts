/**
 * Tenant isolation, walked over every tenant-scoped route of the OpenAPI document (so a new
 * route is covered the day it is documented): another tenant's credentials on this tenant's
 * paths, and this tenant's ids under the other tenant's path, get 404 and never data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopingTrace } from '../support/otlp.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

describe('tenant isolation', () => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof createTenant>>;
  let intruder: Awaited<ReturnType<typeof createTenant>>;
  const ids: Record<string, string> = {};
  const operations: { method: string; path: string; body: unknown }[] = [];

  beforeAll(async () => {
    server = await startServer({ TRACEFOLD_INACTIVITY_GAP_MS: '600000' });
    owner = await createTenant(server.url, 'owner');
    intruder = await createTenant(server.url, 'intruder');
    expect((await request(`${server.url}/v1/traces`, 'POST', { token: owner.apiKey, body: loopingTrace('owned-trace', 4) })).status).toBe(200);
    const analyzed = await request(`${server.url}/api/v1/tenants/${owner.tenantId}/traces/owned-trace/analyze`, 'POST', { token: owner.token });
    ids.traceId = 'owned-trace';
    ids.detectionId = analyzed.body.all_detections[0].id;
    const key = await request(`${server.url}/api/v1/tenants/${owner.tenantId}/api-keys`, 'POST', { token: owner.token });
    ids.keyId = key.body.key_id;
    ids.sessionId = 'owned-session';
    await request(`${server.url}/api/v1/tenants/${owner.tenantId}/sessions/${ids.sessionId}/start`, 'POST', { token: owner.token, body: {} });

    const doc = (await request(`${server.url}/docs`, 'GET')).body as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (!path.includes('{tenantId}')) continue;
      for (const method of Object.keys(methods)) {
        if (!['get', 'post', 'put', 'delete'].includes(method)) continue;
        // A body that is valid for the owner's resources, so only the tenant check can refuse it.
        const body = path.endsWith('/feedback')
          ? { detection_id: ids.detectionId, feedback_type: 'false_positive' }
          : path.endsWith('/settings')
            ? { baseline_sigma: 3 }
            : path.includes('/sessions') || path.includes('/ingest')
              ? { resourceSpans: [] }
              : undefined;
        operations.push({ method: method.toUpperCase(), path, body: method === 'get' || method === 'delete' ? undefined : body });
      }
    }
  });
  afterAll(async () => {
    await server.stop();
  });

  const fill = (path: string, tenantId: string) =>
    path.replace('{tenantId}', tenantId).replace(/\{(\w+)\}/g, (_m, name: string) => ids[name] ?? `unknown-${name}`);

  it('documents the tenant-scoped routes it walks', () => {
    expect(operations.length).toBeGreaterThan(20);
    expect(operations.map((o) => o.path)).toEqual(expect.arrayContaining(['/api/v1/tenants/{tenantId}/traces/{traceId}', '/api/v1/tenants/{tenantId}/audit/export']));
  });

  it("answers 404 to another tenant's credentials on every route of this tenant", async () => {
    const leaks: string[] = [];
    for (const op of operations) {
      const res = await request(`${server.url}${fill(op.path, owner.tenantId)}${op.path.endsWith('/export') ? '?format=eu-ai-act' : ''}`, op.method, {
        token: intruder.token,
        ...(op.body === undefined ? {} : { body: op.body }),
      });
      if (res.status !== 404) leaks.push(`${op.method} ${op.path}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      else expect(JSON.stringify(res.body)).not.toContain(ids.traceId);
    }
    expect(leaks).toEqual([]);
  });

  it("shows nothing of this tenant's traces, detections, keys or sessions under the other tenant's path", async () => {
    const leaks: string[] = [];
    for (const op of operations.filter((o) => o.method === 'GET' && /\{(traceId|detectionId|keyId|sessionId)\}/.test(o.path))) {
      const res = await request(`${server.url}${fill(op.path, intruder.tenantId)}`, 'GET', { token: intruder.token });
      if (res.status !== 404) leaks.push(`${op.path}: ${res.status}`);
    }
    expect(leaks).toEqual([]);
    const lists = ['/traces', '/detections', '/api-keys', '/baselines', '/feedback/stats'];
    for (const list of lists) {
      const res = await request(`${server.url}/api/v1/tenants/${intruder.tenantId}${list}`, 'GET', { token: intruder.token });
      expect(res.status, list).toBe(200);
      const text = JSON.stringify(res.body);
      expect(text, list).not.toContain(ids.traceId);
      expect(text, list).not.toContain(ids.keyId);
    }
    const revoke = await request(`${server.url}/api/v1/tenants/${intruder.tenantId}/api-keys/${ids.keyId}`, 'DELETE', { token: intruder.token });
    expect(revoke.status).toBe(404);
  });
});
