/**
 * GET /metrics on a live server: unauthenticated Prometheus text; every kind of ingest
 * rejection counted by reason after provoking it; spans accepted; request and append
 * latency; the trace stage's counters and the views' lag.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopingTrace, otlpPayload } from '../support/otlp.js';
import { waitFor } from '../support/poll.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

/** See test/e2e/limits.test.ts: rate limiting and invalid-span counts need routes.ts to call admitIngest. */

const OTLP_ROUTE = '/v1/traces';
const TENANT_ROUTE = '/api/v1/tenants/:tenantId/traces/ingest';

interface Scrape {
  readonly text: string;
  get(name: string, labels?: Record<string, string>): number;
}

/** Samples of the exposition text, keyed `name{labels}` exactly as printed. */
async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return {
    text,
    get(name, labels = {}) {
      // Labels print in the order the metric declares them; find the sample whatever the order.
      let total = 0;
      for (const [key, value] of values) {
        const brace = key.indexOf('{');
        if ((brace < 0 ? key : key.slice(0, brace)) !== name) continue;
        if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) total += value;
      }
      return total;
    },
  };
}

describe('/metrics', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;

  beforeAll(async () => {
    server = await startServer({
      TRACEFOLD_INACTIVITY_GAP_MS: '200',
      TRACEFOLD_MAX_BODY_BYTES: '65536',
      TRACEFOLD_RATE_LIMIT_SPANS_PER_S: '1',
      TRACEFOLD_RATE_LIMIT_BURST_SPANS: '50',
    });
    tenant = await createTenant(server.url, 'metrics');
  });
  afterAll(async () => {
    await server.stop();
  });

  const tenantUrl = () => `${server.url}/api/v1/tenants/${tenant.tenantId}/traces/ingest`;

  it('is served without credentials in the Prometheus text format, with no tenant in it', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE tracefold_ingest_requests_total counter');
    expect(text).toContain('tracefold_process_resident_memory_bytes');
    expect(text).not.toContain(tenant.tenantId);
  });

  it('counts accepted spans, requests by status, and observes request and append latency', async () => {
    const before = await scrape(server.url);
    const ok = await request(`${server.url}${OTLP_ROUTE}`, 'POST', { token: tenant.apiKey, body: loopingTrace('metrics-ok', 4) });
    expect(ok.status).toBe(200);
    const after = await scrape(server.url);
    expect(after.get('tracefold_ingest_spans_accepted_total') - before.get('tracefold_ingest_spans_accepted_total')).toBe(5);
    expect(after.get('tracefold_ingest_requests_total', { route: OTLP_ROUTE, status: '200' })).toBeGreaterThanOrEqual(1);
    expect(after.get('tracefold_http_request_duration_seconds_count', { method: 'POST', route: OTLP_ROUTE })).toBeGreaterThanOrEqual(1);
    expect(after.get('tracefold_log_append_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(after.text).toContain('tracefold_ingest_inflight_limit_bytes 67108864');
    expect(after.text).not.toContain(tenant.tenantId);
  });

  it('counts every rejection on the ingest routes by reason', async () => {
    const provoked: [string, string, () => Promise<number>][] = [
      ['bad_request', TENANT_ROUTE, async () => (await request(tenantUrl(), 'POST', { token: tenant.token, rawBody: '{"resourceSpans": [' })).status],
      ['unauthorized', OTLP_ROUTE, async () => (await request(`${server.url}${OTLP_ROUTE}`, 'POST', { body: loopingTrace('m', 1) })).status],
      [
        'not_found',
        TENANT_ROUTE,
        async () => (await request(`${server.url}/api/v1/tenants/nobody/traces/ingest`, 'POST', { token: tenant.token, body: loopingTrace('m', 1) })).status,
      ],
      [
        'too_large',
        OTLP_ROUTE,
        async () => (await request(`${server.url}${OTLP_ROUTE}`, 'POST', { token: tenant.apiKey, rawBody: JSON.stringify({ pad: 'x'.repeat(70_000) }) })).status,
      ],
      [
        'unsupported_media_type',
        OTLP_ROUTE,
        async () =>
          (await request(`${server.url}${OTLP_ROUTE}`, 'POST', { token: tenant.apiKey, rawBody: 'hello', headers: { 'content-type': 'text/plain' } })).status,
      ],
    ];
    const expectedStatus: Record<string, number> = { bad_request: 400, unauthorized: 401, not_found: 404, too_large: 413, unsupported_media_type: 415 };
    for (const [reason, route, provoke] of provoked) {
      const before = (await scrape(server.url)).get('tracefold_ingest_rejected_requests_total', { route, reason });
      expect(await provoke(), reason).toBe(expectedStatus[reason]);
      const after = (await scrape(server.url)).get('tracefold_ingest_rejected_requests_total', { route, reason });
      expect(after - before, reason).toBe(1);
    }
  });

  it('counts a log that refuses appends as log_unavailable, requests and spans', async () => {
    const log = server.tracefold.log;
    const append = log.append.bind(log);
    log.append = () => Promise.reject(new Error('simulated outage'));
    try {
      const res = await request(`${server.url}${OTLP_ROUTE}`, 'POST', { token: tenant.apiKey, body: loopingTrace('metrics-down', 2) });
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('LOG_UNAVAILABLE');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      log.append = append;
    }
    const after = await scrape(server.url);
    expect(after.get('tracefold_ingest_rejected_requests_total', { route: OTLP_ROUTE, reason: 'log_unavailable' })).toBe(1);
    expect(after.get('tracefold_ingest_spans_rejected_total', { reason: 'log_unavailable' })).toBe(3);
    expect(after.get('tracefold_log_append_duration_seconds_count', { outcome: 'error' })).toBe(1);
  });

  it('counts rate-limited requests and spans, and invalid spans', async () => {
    const payload = loopingTrace('metrics-partial', 1);
    delete (payload.resourceSpans[0]!.scopeSpans[0]!.spans[1] as Record<string, unknown>).spanId;
    const partial = await request(tenantUrl(), 'POST', { token: tenant.token, body: payload });
    expect(partial.status).toBe(202);
    // The burst is 50 spans and the rate 1 span/s: two requests of 40 cannot both pass.
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) {
      statuses.push((await request(`${server.url}${OTLP_ROUTE}`, 'POST', { token: tenant.apiKey, body: loopingTrace('metrics-flood', 39) })).status);
    }
    expect(statuses).toContain(429);
    const after = await scrape(server.url);
    expect(after.get('tracefold_ingest_spans_rejected_total', { reason: 'invalid_span' })).toBe(1);
    expect(after.get('tracefold_ingest_spans_rejected_total', { reason: 'rate_limited' })).toBeGreaterThanOrEqual(40);
    expect(after.get('tracefold_ingest_rejected_requests_total', { route: OTLP_ROUTE, reason: 'rate_limited' })).toBeGreaterThanOrEqual(1);
    expect(after.get('tracefold_rate_limiter_tenants')).toBe(1);
  });

  it('reports the trace stage counters and the views lag', async () => {
    const untilScraped = async (url: string, ready: (read: Scrape) => boolean, timeoutMs: number) =>
      (await waitFor(async () => {
        const read = await scrape(url);
        return ready(read) ? read : undefined;
      }, { timeoutMs, intervalMs: 200 })) ?? scrape(url);
    let read = await untilScraped(server.url, (r) => r.get('tracefold_trace_windows_closed_total') >= 1, 20_000);
    expect(read.get('tracefold_trace_windows_closed_total')).toBeGreaterThanOrEqual(1);
    expect(read.get('tracefold_trace_spans_assembled_total')).toBeGreaterThanOrEqual(5);
    expect(read.get('tracefold_trace_detections_emitted_total')).toBeGreaterThanOrEqual(1);
    expect(read.text).toContain('tracefold_trace_duplicate_spans_total');
    expect(read.text).toContain('tracefold_trace_late_spans_dead_lettered_total');
    expect(read.text).toMatch(/tracefold_view_lag_records\{topic="tracefold\.traces\.v1"\} \d+/);
    expect(read.get('tracefold_detections_emitted_total', { detection_type: 'loop' })).toBeGreaterThanOrEqual(1);
    // Every window of this test has closed by now (200 ms gap): none is open.
    read = await untilScraped(server.url, (r) => r.get('tracefold_trace_open_windows') === 0, 20_000);
    expect(read.text).toMatch(/^tracefold_trace_open_windows 0$/m);
    expect(read.text).toMatch(/^tracefold_trace_stage_lag_records \d+$/m);
    expect(read.get('tracefold_audit_records_total')).toBeGreaterThanOrEqual(2);
  });

  it('counts the windows open on the trace stage', async () => {
    const payload = otlpPayload('open-window', [{ spanId: 'a', parentSpanId: 'p', name: 'step', startMs: 1_700_000_000_000 }]);
    const slow = await startServer({ TRACEFOLD_INACTIVITY_GAP_MS: '600000' });
    try {
      const other = await createTenant(slow.url, 'open');
      expect((await request(`${slow.url}/v1/traces`, 'POST', { token: other.apiKey, body: payload })).status).toBe(200);
      await expect.poll(async () => (await scrape(slow.url)).get('tracefold_trace_open_windows'), { timeout: 10_000, interval: 50 }).toBe(1);
      expect((await request(`${slow.url}/api/v1/tenants/${other.tenantId}/traces/open-window/analyze`, 'POST', { token: other.token })).status).toBe(200);
      expect((await scrape(slow.url)).get('tracefold_trace_open_windows')).toBe(0);
    } finally {
      await slow.stop();
    }
  });

  it('requests outside the ingest routes are timed but not counted as ingest', async () => {
    await request(`${server.url}/nowhere`, 'GET');
    const read = await scrape(server.url);
    expect(read.get('tracefold_http_request_duration_seconds_count', { route: 'unmatched' })).toBeGreaterThanOrEqual(1);
    expect(read.get('tracefold_http_request_duration_seconds_count', { route: '/healthz' })).toBe(0);
    expect(read.text).not.toMatch(/tracefold_ingest_rejected_requests_total\{[^}]*reason="not_found"[^}]*route="unmatched"/);
    expect(read.text).not.toMatch(/tracefold_ingest_requests_total\{route="unmatched"/);
  });
});
