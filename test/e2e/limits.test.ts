/**
 * Ingest limits on a live server: the body size limit (413 naming it), the per-tenant rate
 * limit (429 with Retry-After), the in-flight byte bound (503 with Retry-After), and the
 * server keeps accepting once the pressure is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopingTrace } from '../support/otlp.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

/**
 * The rate limit is checked where the spans are decoded: src/ingest/routes.ts calls
 * admitIngest after decoding and before appending. These cases need that call.
 */

describe('ingest limits', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;

  beforeAll(async () => {
    server = await startServer({
      TRACEFOLD_MAX_BODY_BYTES: '65536',
      TRACEFOLD_RATE_LIMIT_SPANS_PER_S: '10',
      TRACEFOLD_RATE_LIMIT_BURST_SPANS: '20',
      TRACEFOLD_INGEST_INFLIGHT_BYTES: '1024',
    });
    tenant = await createTenant(server.url, 'limits');
  });
  afterAll(async () => {
    await server.stop();
  });

  it('a body over the limit is a 413 naming the limit, on both ingest paths', async () => {
    const big = 'x'.repeat(70_000);
    for (const url of [`${server.url}/v1/traces`, `${server.url}/api/v1/tenants/${tenant.tenantId}/traces/ingest`]) {
      const res = await request(url, 'POST', { token: tenant.apiKey, rawBody: JSON.stringify({ resourceSpans: [], pad: big }) });
      expect(res.status).toBe(413);
      expect(res.body.error).toBe('PAYLOAD_TOO_LARGE');
      expect(res.body.message).toContain('65536 bytes');
    }
  });

  it('a tenant over its rate is refused whole with 429 and Retry-After; others are not', async () => {
    const other = await createTenant(server.url, 'limits-other');
    // 20 spans fill the burst.
    const first = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: loopingTrace('rate-1', 19) });
    expect(first.status).toBe(200);
    const refused = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: loopingTrace('rate-2', 9) });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe('RATE_LIMITED');
    expect(refused.body.message).toContain('10 spans/s');
    // 10 spans at 10 spans/s: one second.
    expect(Number(refused.headers.get('retry-after'))).toBe(1);
    // The tenant path shares the bucket. Ten spans need a full second of refill, so a slow
    // machine between these requests does not let them through.
    const tenantPath = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/ingest`, 'POST', { token: tenant.token, body: loopingTrace('rate-3', 9) });
    expect(tenantPath.status).toBe(429);
    const otherTenant = await request(`${server.url}/v1/traces`, 'POST', { token: other.apiKey, body: loopingTrace('rate-other', 9) });
    expect(otherTenant.status).toBe(200);
    // Once the bucket has refilled, the same request is accepted (a refused one takes nothing).
    await expect
      .poll(async () => (await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: loopingTrace('rate-2', 9) })).status, {
        timeout: 10_000,
        interval: 200,
      })
      .toBe(200);
  });

  it('appends beyond the in-flight bound are refused with 503 and Retry-After, then ingest recovers', async () => {
    // Each request carries ~2 KiB of encoded spans against a 1 KiB bound: while one append is
    // in flight, every other is refused.
    // Eight tenants, so that none of them reaches its rate limit (burst 20 spans) here.
    const tenants = await Promise.all(Array.from({ length: 8 }, (_, i) => createTenant(server.url, `inflight-${i}`)));
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        request(`${server.url}/v1/traces`, 'POST', { token: tenants[i % tenants.length]!.apiKey, body: loopingTrace(`inflight-${i}`, 3) }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    const full = answers.filter((a) => a.status === 503);
    expect(full.length).toBeGreaterThan(0);
    for (const res of full) {
      expect(res.body.error).toBe('BUFFER_FULL');
      expect(res.body.message).toContain('ingest buffer full');
      expect(res.body.message).toContain('1024 bytes');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(statuses).toContain(200);
    const after = await request(`${server.url}/v1/traces`, 'POST', { token: tenants[0]!.apiKey, body: loopingTrace('inflight-after', 3) });
    expect(after.status).toBe(200);
  });
});
